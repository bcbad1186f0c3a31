//! Replays scenarios against a server address: connections, delivery modes, timeouts and
//! parallelism. It talks to servers only through [`respect_client::Client`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{RwLock, Semaphore};

use super::attribution::{Request, RequestLog};
use super::cluster::{key_slot, Cluster, Link};
use super::hygiene::Cleanup;
use super::matcher::{clip, describe, first_difference, matches};
use super::rng::Rng;
use super::scenario::{ClusterRule, Delivery, Expectation, Step, FIRST_CONNECTION};
use super::scenario::{Scenario, Verdict};
use respect_client::{Client, ClientError, ClientOptions, Reply, ReplyBudget};
use respect_resp::{Dialect, Frame};

/// Default time a step waits for the server.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The outcome of one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Outcome {
    /// Every reply matched its strict form.
    Pass,
    /// Every reply matched, some through an accepted variant (or an `i_` scenario answered
    /// otherwise than its first form).
    NonStrict,
    /// The server lacks a command the scenario needs.
    Unsupported,
    /// Differs from the strict form in a way the scenario says a version explains (Redis 6.2's
    /// wording, a command newer than the target): informational, like Autobahn's
    /// INFORMATIONAL, never a failure.
    Version,
    /// Not run, and why: it needs an empty server (`--allow-flush`), changes global state
    /// (`--allow-global`), or names a key the server already holds.
    Skipped,
    /// A reply, a close or a silence was not what the scenario requires.
    Fail,
    /// The run could not be completed: timeout, refused connection, i/o error.
    Error,
}

impl Outcome {
    /// As printed.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::NonStrict => "NON-STRICT",
            Outcome::Unsupported => "UNSUPPORTED",
            Outcome::Skipped => "SKIPPED",
            Outcome::Version => "VERSION",
            Outcome::Fail => "FAIL",
            Outcome::Error => "ERROR",
        }
    }
}

/// One scenario's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseResult {
    /// Scenario id.
    pub id: String,
    /// Its file.
    pub path: String,
    /// Its title.
    pub title: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// What its name says a conforming server does.
    pub verdict: Verdict,
    /// What happened.
    pub outcome: Outcome,
    /// Why, for anything but PASS: the line, what was expected, what came, where they differ.
    pub detail: Option<String>,
    /// Wall time.
    pub millis: u128,
}

/// Scenarios run at once by default.
pub const DEFAULT_JOBS: usize = 4;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Per-step timeout.
    pub timeout: Duration,
    /// Scenarios run at once.
    pub jobs: usize,
    /// Run destructive scenarios (they flush the server).
    pub allow_flush: bool,
    /// Run scenarios that change global state (CONFIG SET, SELECT of another database...).
    pub allow_global: bool,
    /// AUTH with this password on every connection.
    pub password: Option<String>,
    /// What one reply may cost before the step is an ERROR and its connection dropped.
    pub budget: ReplyBudget,
    /// The server and version under test, when known (detected, or `--target-version`):
    /// what decides whether a mismatch is VERSION or FAIL.
    pub target: Option<super::target::Target>,
    /// The Redis Cluster under test (`--cluster`): each scenario runs on the master serving its
    /// slot, and scenarios a cluster cannot run are SKIPPED.
    pub cluster: Option<Arc<Cluster>>,
    /// How key hygiene finds keys (detected per run: SCAN where the server has it).
    pub cleanup: Cleanup,
}

impl RunOptions {
    /// The client options of every connection: the step timeout bounds connects and writes
    /// too, so a server that stops reading cannot stall a run.
    pub fn client_options(&self) -> ClientOptions {
        ClientOptions {
            io_timeout: self.timeout,
            budget: self.budget,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeout: DEFAULT_TIMEOUT,
            jobs: DEFAULT_JOBS,
            allow_flush: false,
            allow_global: false,
            password: None,
            budget: ReplyBudget::default(),
            target: None,
            cluster: None,
            cleanup: Cleanup::default(),
        }
    }
}

/// Runs `scenarios` against `addr`: destructive ones and those changing global state first,
/// one at a time (a CONFIG SET of maxmemory or timeout would disturb scenarios running beside
/// it), each only with `allow_flush` / `allow_global` (else SKIPPED), then the others `jobs`
/// at a time, except that one
/// naming keys outside its own prefix ([`super::keys::foreign_keys`]) has the server to
/// itself, so that no other scenario can change those keys under it. `progress` is called
/// after each scenario.
pub async fn run_scenarios(
    addr: SocketAddr,
    scenarios: Vec<Scenario>,
    options: &RunOptions,
    progress: &(dyn Fn(&CaseResult) + Sync),
) -> Vec<CaseResult> {
    let (destructive, others): (Vec<_>, Vec<_>) = scenarios
        .into_iter()
        .partition(|s| s.destructive || s.global);
    let mut results = Vec::new();
    for scenario in destructive {
        let result = match skip_reason(&scenario, options) {
            Some(why) => skipped(&scenario, why),
            None => run_scenario(addr, &scenario, options).await,
        };
        progress(&result);
        results.push(result);
    }
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let keyspace = Arc::new(RwLock::new(()));
    let options = Arc::new(options.clone());
    let mut tasks = Vec::new();
    for scenario in others {
        let (permits, keyspace, options) = (permits.clone(), keyspace.clone(), options.clone());
        let alone = !super::keys::foreign_keys(&scenario).is_empty();
        if let Some(why) = skip_reason(&scenario, &options) {
            let result = skipped(&scenario, why);
            progress(&result);
            results.push(result);
            continue;
        }
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await;
            let (_whole, _shared);
            if alone {
                _whole = keyspace.write().await;
            } else {
                _shared = keyspace.read().await;
            }
            run_scenario(addr, &scenario, &options).await
        }));
    }
    // Dropped with this future (a run interrupted), the scenarios still running are aborted:
    // none goes on writing keys while the interrupted run cleans up.
    let _abort = AbortOnDrop(tasks.iter().map(|t| t.abort_handle()).collect());
    for task in tasks {
        if let Ok(result) = task.await {
            progress(&result);
            results.push(result);
        }
    }
    results
}

/// Aborts its tasks when dropped.
struct AbortOnDrop(Vec<tokio::task::AbortHandle>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

/// Why a scenario may not run with these options, if it may not.
pub fn skip_reason(scenario: &Scenario, options: &RunOptions) -> Option<String> {
    if scenario.destructive && !options.allow_flush {
        return Some(
            "needs an empty server (it flushes every key); pass --allow-flush to run it".into(),
        );
    }
    if scenario.global && !options.allow_global {
        return Some("changes the server's global state; pass --allow-global to run it".into());
    }
    match &options.cluster {
        Some(cluster)
            if scenario.cluster == ClusterRule::Elsewhere && cluster.masters().len() < 2 =>
        {
            Some(
                "needs a cluster of two masters or more (it runs on a node not serving its keys)"
                    .into(),
            )
        }
        Some(_) => cluster_skip_reason(scenario),
        None if scenario.cluster.needs_cluster() => {
            Some("tests the cluster protocol: needs a Redis Cluster target (--cluster)".into())
        }
        None => None,
    }
}

/// Commands a Redis Cluster refuses (it has database 0 only).
const CLUSTER_REFUSED: &[&str] = &["SELECT", "MOVE", "SWAPDB"];

/// Why a scenario cannot run on a cluster, if it cannot: its `# cluster: no` header, a flush or
/// a global change (a cluster is several servers the run does not own), a database other than
/// 0, or keys outside its own hash slot (a cluster answers those `-CROSSSLOT` or `-MOVED`).
pub fn cluster_skip_reason(scenario: &Scenario) -> Option<String> {
    if let ClusterRule::Not(why) = &scenario.cluster {
        return Some(format!("not run on a cluster: {why}"));
    }
    if scenario.cluster.needs_cluster() {
        return None;
    }
    if scenario.destructive {
        return Some("flushes every key: not run on a cluster".into());
    }
    if scenario.global {
        return Some("changes global state: not run on a cluster".into());
    }
    let requests = super::keys::scenario_requests(scenario);
    if let Some(name) = requests
        .iter()
        .filter_map(super::keys::request_name)
        .find(|n| CLUSTER_REFUSED.contains(&n.as_str()))
    {
        return Some(format!(
            "sends {name}: a cluster has database 0 only and refuses it"
        ));
    }
    let own = key_slot(scenario.key_prefix().as_bytes());
    if let Some(key) = super::keys::scenario_keys(scenario)
        .into_iter()
        .find(|k| key_slot(k) != own)
    {
        return Some(format!(
            "names key \"{}\" outside its hash slot: a cluster would answer -CROSSSLOT or -MOVED",
            respect_resp::escape_bytes(&key)
        ));
    }
    None
}

/// Whether `reply` is Redis refusing DEBUG because `enable-debug-command` is off (its default
/// since 7.0): a scenario that needs DEBUG (DEBUG PROTOCOL's RESP3 types) cannot be judged
/// there, so it is SKIPPED rather than FAILED.
fn debug_disabled(reply: &Frame) -> bool {
    reply.is_error()
        && reply
            .as_bytes()
            .is_some_and(|t| t.starts_with(b"ERR DEBUG command not allowed"))
}

/// Whether `reply` is a cluster refusing what a scenario not written for clusters sent: a
/// redirect, a cross-slot or cluster-mode error. Such a scenario is SKIPPED, not FAILED.
fn cluster_refusal(reply: &Frame) -> bool {
    let Some(text) = reply.as_bytes().filter(|_| reply.is_error()) else {
        return false;
    };
    const PREFIXES: &[&[u8]] = &[
        b"MOVED ",
        b"ASK ",
        b"CROSSSLOT ",
        b"TRYAGAIN ",
        b"CLUSTERDOWN ",
    ];
    PREFIXES.iter().any(|p| text.starts_with(p))
        || text
            .windows(b"in cluster mode".len())
            // Redis spells it both ways: `SELECT is not allowed in cluster mode`, `BY option
            // of SORT denied in Cluster mode.`
            .any(|w| w.eq_ignore_ascii_case(b"in cluster mode"))
}

fn skipped(scenario: &Scenario, why: String) -> CaseResult {
    result_of(scenario, Outcome::Skipped, Some(why), Duration::ZERO)
}

pub(crate) async fn connect(
    addr: SocketAddr,
    dialect: Dialect,
    options: &RunOptions,
) -> Result<Client, String> {
    let mut client = Client::connect_with(addr, dialect, options.client_options())
        .await
        .map_err(|e| unreachable_reason(addr, &e))?;
    if let Some(password) = &options.password {
        client
            .send(&Frame::command(["AUTH", password.as_str()]))
            .await
            .map_err(|e| e.to_string())?;
        let reply = client
            .read_reply_timeout(options.timeout)
            .await
            .map_err(|e| e.to_string())?;
        if reply.frame.is_error() {
            return Err(format!("AUTH failed: {}", reply.frame));
        }
    }
    Ok(client)
}

/// One line for a target that cannot be reached: `cannot connect to 127.0.0.1:1: connection
/// refused`.
pub fn unreachable_reason(addr: SocketAddr, error: &std::io::Error) -> String {
    let why = match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        std::io::ErrorKind::TimedOut => "timed out".to_string(),
        std::io::ErrorKind::ConnectionReset => "connection reset".to_string(),
        _ => error.to_string(),
    };
    format!("cannot connect to {addr}: {why}")
}

/// Checks, before a run, that `addr` accepts a connection (and the password, if any): a run
/// against an unreachable target is one usage error, not one ERROR per scenario.
pub async fn check_reachable(addr: SocketAddr, options: &RunOptions) -> Result<(), String> {
    connect(addr, Dialect::Resp2, options).await.map(drop)
}

fn result_of(
    scenario: &Scenario,
    outcome: Outcome,
    detail: Option<String>,
    took: Duration,
) -> CaseResult {
    CaseResult {
        id: scenario.id.clone(),
        path: scenario.path.display().to_string(),
        title: scenario.title.clone(),
        tags: scenario.tags.clone(),
        verdict: scenario.verdict,
        outcome,
        detail,
        millis: took.as_millis(),
    }
}

/// Why a scenario stopped early.
enum Stop {
    Skipped(String),
    Fail(String),
    Error(String),
    Unsupported(String),
}

/// One scenario being replayed: its connections, delivery state and what it captured (named
/// apart from the server's `Session`, which is a client's state on the server side).
struct Replay<'a> {
    addr: SocketAddr,
    options: &'a RunOptions,
    scenario: &'a Scenario,
    connections: HashMap<String, Client>,
    current: String,
    dialect: Dialect,
    delivery: Delivery,
    chunks: Rng,
    pending: Vec<u8>,
    /// Per connection, the requests sent and not yet answered, for attribution.
    requests: HashMap<String, RequestLog>,
    non_strict: Vec<String>,
    /// Replies explained by the target's version (`<@` forms), for a VERSION outcome.
    by_version: Vec<String>,
    /// In capture mode, every reply; mismatches do not stop the scenario.
    captured: Option<Vec<Captured>>,
}

/// Where a scenario's keys live: `addr`, or on a cluster the master serving the scenario's
/// slot. The harness cleans them there.
fn keys_node(addr: SocketAddr, scenario: &Scenario, options: &RunOptions) -> SocketAddr {
    match &options.cluster {
        Some(cluster) => cluster.master_of(key_slot(scenario.key_prefix().as_bytes())),
        None => addr,
    }
}

/// Where a scenario's connections go: [`keys_node`], or for `# cluster: elsewhere` another
/// master.
fn scenario_node(addr: SocketAddr, scenario: &Scenario, options: &RunOptions) -> SocketAddr {
    let owner = keys_node(addr, scenario, options);
    let Some(cluster) = &options.cluster else {
        return owner;
    };
    if scenario.cluster == ClusterRule::Elsewhere {
        if let Some(other) = cluster.masters().into_iter().find(|m| *m != owner) {
            return other;
        }
    }
    owner
}

/// Runs one scenario on fresh connections.
pub async fn run_scenario(
    addr: SocketAddr,
    scenario: &Scenario,
    options: &RunOptions,
) -> CaseResult {
    let started = Instant::now();
    let mut session = Replay::new(addr, scenario, options, None);
    let outcome = session.run().await;
    let took = started.elapsed();
    let too_old = too_old(scenario, options);
    let (outcome, detail) = match outcome {
        Ok(()) if !session.by_version.is_empty() => {
            (Outcome::Version, Some(session.by_version.join("; ")))
        }
        Err(Stop::Fail(why) | Stop::Unsupported(why)) if too_old.is_some() => (
            Outcome::Version,
            Some(format!("{}: {why}", too_old.unwrap_or_default())),
        ),
        Ok(()) if session.non_strict.is_empty() => (Outcome::Pass, None),
        Ok(()) => (Outcome::NonStrict, Some(session.non_strict.join("; "))),
        Err(Stop::Unsupported(why)) => (Outcome::Unsupported, Some(why)),
        Err(Stop::Skipped(why)) => (Outcome::Skipped, Some(why)),
        Err(Stop::Fail(why)) if scenario.verdict == Verdict::ImplementationDefined => (
            Outcome::NonStrict,
            Some(format!("implementation-defined: {why}")),
        ),
        Err(Stop::Fail(why)) => (Outcome::Fail, Some(why)),
        Err(Stop::Error(why)) => (Outcome::Error, Some(why)),
    };
    result_of(scenario, outcome, detail, took)
}

/// Why a scenario's failure is the target's version: it declares `since:` a version newer than
/// the target's (known) Redis version.
fn too_old(scenario: &Scenario, options: &RunOptions) -> Option<String> {
    let since = scenario.since?;
    let target = options.target.as_ref()?;
    let version = target.redis_version?;
    (version < since).then(|| format!("needs Redis {since} or later; the target is {target}"))
}

/// A reply captured for `record` and `diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The scenario lines of the expectation it answers.
    pub lines: (usize, usize),
    /// Whether that expectation comes from a `! repeat`.
    pub repeated: bool,
    /// The reply's exact bytes.
    pub raw: Vec<u8>,
    /// The first of the expectation's forms this reply matched, when that form is a loose
    /// matcher (`<~`, `? type`, `? error`, `? any`): two replies matching the same loose form
    /// agree even where their bytes differ (a set's order, a cursor, an error's wording).
    pub loose_match: Option<usize>,
}

/// Runs `scenario` in capture mode: every reply's exact bytes, keyed by the scenario lines of
/// the expectation it answers, whether it matched or not. For `respect record` and `diff`.
pub async fn capture_scenario(
    addr: SocketAddr,
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<Vec<Captured>, String> {
    let mut session = Replay::new(addr, scenario, options, Some(Vec::new()));
    let outcome = session.run().await;
    let captured = session.captured.take().unwrap_or_default();
    match outcome {
        Ok(()) | Err(Stop::Fail(_)) | Err(Stop::Unsupported(_)) => Ok(captured),
        Err(Stop::Error(e)) | Err(Stop::Skipped(e)) => Err(e),
    }
}

impl<'a> Replay<'a> {
    /// A session before its first connection; `captured` is `Some` in capture mode.
    fn new(
        addr: SocketAddr,
        scenario: &'a Scenario,
        options: &'a RunOptions,
        captured: Option<Vec<Captured>>,
    ) -> Replay<'a> {
        Replay {
            addr: scenario_node(addr, scenario, options),
            options,
            scenario,
            connections: HashMap::new(),
            current: FIRST_CONNECTION.into(),
            dialect: scenario.flavor.reply_dialect(),
            delivery: Delivery::Whole,
            chunks: Rng::new(1),
            pending: Vec::new(),
            requests: HashMap::new(),
            non_strict: Vec::new(),
            by_version: Vec::new(),
            captured,
        }
    }

    /// Runs the steps between two cleanups of the scenario's keys ([`super::hygiene`]); a
    /// destructive scenario flushes anyway and is not cleaned.
    async fn run(&mut self) -> Result<(), Stop> {
        let hygiene = !self.scenario.destructive;
        if hygiene {
            self.clean(true).await?;
            // Cleaning may have followed a -MOVED and refreshed the cluster's map.
            self.addr = scenario_node(self.addr, self.scenario, self.options);
        }
        let outcome = self.steps().await;
        // Close the scenario's connections first: a blocked or subscribed one must not hold
        // keys while they are deleted.
        self.connections.clear();
        if hygiene {
            if let Err(Stop::Error(e)) = self.clean(false).await {
                return outcome.and(Err(Stop::Error(e)));
            }
        }
        outcome
    }

    async fn steps(&mut self) -> Result<(), Stop> {
        self.open(FIRST_CONNECTION.into()).await?;
        for step in &self.scenario.steps {
            self.step(step).await?;
        }
        Ok(())
    }

    /// Deletes the scenario's keys on a connection of its own to the node holding them (even
    /// when the scenario's own connections go elsewhere: its SCAN must look there, and a
    /// `-MOVED` would re-read the whole map), following the cluster's redirects; `before`, it
    /// first refuses to run a scenario that would overwrite a key it does not own.
    async fn clean(&mut self, before: bool) -> Result<(), Stop> {
        let cluster = self.options.cluster.as_deref();
        let node = keys_node(self.addr, self.scenario, self.options);
        let mut link = Link::open(node, cluster, self.options)
            .await
            .map_err(Stop::Error)?;
        if before {
            let held = super::hygiene::occupied_foreign_keys(&mut link, self.scenario)
                .await
                .map_err(|e| Stop::Error(format!("before the scenario: {e}")))?;
            if let Some(key) = held.first() {
                return Err(Stop::Skipped(format!(
                    "the server already holds key \"{}\", which the scenario would overwrite",
                    respect_resp::escape_bytes(key)
                )));
            }
        }
        super::hygiene::clean(&mut link, self.scenario, self.options.cleanup)
            .await
            .map_err(|e| {
                Stop::Error(format!(
                    "{} the scenario, cleaning its keys: {e}",
                    if before { "before" } else { "after" }
                ))
            })
    }

    async fn open(&mut self, name: String) -> Result<(), Stop> {
        let client = connect(self.addr, self.dialect, self.options)
            .await
            .map_err(Stop::Error)?;
        self.connections.insert(name.clone(), client);
        self.requests.insert(
            name.clone(),
            RequestLog::new(self.scenario.flavor.request_dialect()),
        );
        self.current = name;
        Ok(())
    }

    fn client(&mut self) -> Result<&mut Client, Stop> {
        let name = self.current.clone();
        self.connections
            .get_mut(&name)
            .ok_or_else(|| Stop::Error(format!("connection `{name}` is not open")))
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let delivery = self.delivery;
        let mut pieces: Vec<&[u8]> = Vec::new();
        match delivery {
            Delivery::Whole | Delivery::Pipelined => pieces.push(bytes),
            Delivery::Bytewise => pieces.extend(bytes.chunks(1)),
            Delivery::Chunks(_) => {
                let mut rest = bytes;
                while !rest.is_empty() {
                    let (a, b) = rest.split_at(self.chunks.chunk_len().min(rest.len()));
                    pieces.push(a);
                    rest = b;
                }
            }
        }
        let fragmented = pieces.len() > 1;
        let client = self.client()?;
        for piece in pieces {
            match client.send_raw(piece).await {
                Ok(()) => {}
                // The server closed first (it rejected what it had already read); the rest of
                // the bytes have nowhere to go, and the next step sees the close and the reply.
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
                    ) =>
                {
                    return Ok(())
                }
                Err(e) => return Err(Stop::Error(format!("write failed: {e}"))),
            }
            if fragmented {
                // Give each piece its own segment, so the server really reads them apart.
                tokio::task::yield_now().await;
            }
        }
        Ok(())
    }

    async fn flush_pending(&mut self) -> Result<(), Stop> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::take(&mut self.pending);
        let saved = self.delivery;
        self.delivery = Delivery::Whole;
        let result = self.write(&bytes).await;
        self.delivery = saved;
        result
    }

    async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        match step {
            Step::Send { bytes, line, .. } => {
                if let Some(log) = self.requests.get_mut(&self.current) {
                    log.sent(*line, bytes);
                }
                if self.delivery == Delivery::Pipelined {
                    self.pending.extend_from_slice(bytes);
                    Ok(())
                } else {
                    self.write(bytes).await
                }
            }
            Step::Expect(expectation) => {
                self.flush_pending().await?;
                self.expect(expectation).await
            }
            Step::Deliver(d) => {
                self.flush_pending().await?;
                if let Delivery::Chunks(seed) = d {
                    self.chunks = Rng::new(*seed);
                }
                self.delivery = *d;
                Ok(())
            }
            Step::Decode(d) => {
                self.dialect = *d;
                let d = *d;
                self.client()?.set_dialect(d);
                Ok(())
            }
            Step::Open(name) => {
                self.flush_pending().await?;
                self.open(name.clone()).await
            }
            Step::Use(name) => {
                self.flush_pending().await?;
                if !self.connections.contains_key(name) {
                    return Err(Stop::Error(format!("`! use {name}`: no such connection")));
                }
                self.current = name.clone();
                Ok(())
            }
            Step::Disconnect => {
                self.flush_pending().await?;
                let name = self.current.clone();
                if let Some(mut c) = self.connections.remove(&name) {
                    let _ = c.shutdown().await;
                }
                Ok(())
            }
            Step::ExpectClose { line } => {
                self.flush_pending().await?;
                let timeout = self.options.timeout;
                match self.client()?.expect_close(timeout).await {
                    Ok(bytes) if bytes.is_empty() => Ok(()),
                    Ok(bytes) => Err(Stop::Fail(format!(
                        "line {line}: expected the server to close, it first sent \"{}\"",
                        clip(&bytes, 0)
                    ))),
                    Err(ClientError::Timeout(t)) => Err(Stop::Fail(format!(
                        "line {line}: the server kept the connection open for {t:?}"
                    ))),
                    Err(e) => Err(Stop::Error(format!("line {line}: {e}"))),
                }
            }
            Step::Silence { line, duration } => {
                self.flush_pending().await?;
                match self.client()?.read_reply_timeout(*duration).await {
                    Err(ClientError::Timeout(_)) => Ok(()),
                    Ok(reply) => Err(Stop::Fail(format!(
                        "line {line}: expected silence, got \"{}\"",
                        clip(&reply.raw, 0)
                    ))),
                    Err(e @ ClientError::Budget(_)) => {
                        Err(Stop::Error(format!("line {line}: {e}")))
                    }
                    Err(e) => Err(Stop::Fail(format!(
                        "line {line}: expected silence, got {e}"
                    ))),
                }
            }
            Step::Sleep(d) => {
                self.flush_pending().await?;
                tokio::time::sleep(*d).await;
                Ok(())
            }
        }
    }

    async fn expect(&mut self, expectation: &Expectation) -> Result<(), Stop> {
        let timeout = self.options.timeout;
        let line = expectation.line;
        let wanted = expectation
            .alternatives
            .first()
            .map(describe)
            .unwrap_or_default();
        let answering = self
            .requests
            .get_mut(&self.current)
            .and_then(RequestLog::answer);
        let to = answering
            .as_ref()
            .map(|r| format!(" (reply to {r})"))
            .unwrap_or_default();
        let reply: Reply = match self.client()?.read_reply_timeout(timeout).await {
            Ok(reply) => reply,
            Err(ClientError::Timeout(t)) => {
                return Err(Stop::Error(format!(
                    "line {line}{to}: no reply within {t:?} (expected {wanted})"
                )))
            }
            Err(ClientError::Closed { partial }) => {
                return Err(Stop::Fail(format!(
                    "line {line}{to}: the server closed the connection{} (expected {wanted})",
                    if partial > 0 {
                        format!(" inside a reply, {partial} bytes in")
                    } else {
                        String::new()
                    }
                )))
            }
            Err(ClientError::Decode(e)) => {
                let pending = self
                    .client()
                    .map(|c| clip(c.pending_bytes(), 0))
                    .unwrap_or_default();
                return Err(Stop::Fail(format!(
                    "line {line}{to}: the server sent malformed data ({e}): \"{pending}\""
                )));
            }
            Err(e) => return Err(Stop::Error(format!("line {line}{to}: {e}"))),
        };
        if let Some(captured) = &mut self.captured {
            let loose_match = expectation
                .alternatives
                .iter()
                .position(|m| matches(m, &reply.frame, &reply.raw))
                .filter(|&i| {
                    !matches!(
                        expectation.alternatives.get(i),
                        Some(super::scenario::Matcher::Exact { .. })
                    )
                });
            captured.push(Captured {
                lines: expectation.lines,
                repeated: expectation.repeated,
                raw: reply.raw.to_vec(),
                loose_match,
            });
            return Ok(());
        }
        let matched = expectation
            .alternatives
            .iter()
            .position(|m| matches(m, &reply.frame, &reply.raw));
        match matched {
            Some(0) => Ok(()),
            Some(i) => {
                self.non_strict
                    .push(format!("line {line}: accepted variant {i}"));
                Ok(())
            }
            None if !expectation.versioned.is_empty()
                && self.explained_by_version(expectation, &reply).is_some() =>
            {
                match self.explained_by_version(expectation, &reply) {
                    Some(Ok(note)) => {
                        self.by_version.push(format!("line {line}{to}: {note}"));
                        Ok(())
                    }
                    Some(Err(why)) => Err(Stop::Fail(format!("line {line}{to}: {why}"))),
                    None => Ok(()),
                }
            }
            None if self.options.cluster.is_some()
                && !self.scenario.cluster.needs_cluster()
                && cluster_refusal(&reply.frame) =>
            {
                Err(Stop::Skipped(format!(
                    "line {line}{to}: the cluster refused it (\"{}\"): not a scenario for clusters",
                    clip(&reply.raw, 0)
                )))
            }
            None if debug_disabled(&reply.frame) => Err(Stop::Skipped(format!(
                "line {line}{to}: the target does not enable DEBUG (\"{}\"); start it with \
                 enable-debug-command yes to run this scenario",
                clip(&reply.raw, 0)
            ))),
            None if self.is_unknown_command(&reply.frame, answering.as_ref()) => {
                Err(Stop::Unsupported(format!(
                    "line {line}: the server does not know {} (\"{}\")",
                    answering.map(|r| r.to_string()).unwrap_or_default(),
                    clip(&reply.raw, 0)
                )))
            }
            None => {
                let mut detail = format!(
                    "line {line}{to}: expected {wanted}, got \"{}\"",
                    clip(&reply.raw, 0)
                );
                if let Some(super::scenario::Matcher::Exact { bytes, .. }) =
                    expectation.alternatives.first()
                {
                    let at = first_difference(bytes, &reply.raw);
                    detail = format!(
                        "line {line}{to}: first difference at byte {at}\n    expected \"{}\"\n    actual   \"{}\"",
                        clip(bytes, at),
                        clip(&reply.raw, at)
                    );
                }
                Err(Stop::Fail(detail))
            }
        }
    }

    /// Whether `reply` is a form the expectation gives for other versions (`<@RANGE`): `Ok` with
    /// a note when the target's version is in that range (or unknown), `Err` with why it fails
    /// when the target's version is known and outside it. `None` when no form matches.
    fn explained_by_version(
        &self,
        expectation: &Expectation,
        reply: &Reply,
    ) -> Option<Result<String, String>> {
        let (range, _) = expectation
            .versioned
            .iter()
            .find(|(_, m)| matches(m, &reply.frame, &reply.raw))?;
        let shown = clip(&reply.raw, 0);
        let target = self.options.target.as_ref();
        Some(match target.and_then(|t| t.redis_version.map(|v| (t, v))) {
            Some((t, v)) if range.contains(v) => Ok(format!(
                "\"{shown}\" is Redis {range}'s answer, and the target is {t}"
            )),
            Some((t, _)) => Err(format!(
                "\"{shown}\" is Redis {range}'s answer, but the target is {t}"
            )),
            None => Ok(format!(
                "\"{shown}\" is Redis {range}'s answer (the target's version is unknown)"
            )),
        })
    }

    /// An unknown-command error answering a command the scenario declared it needs.
    fn is_unknown_command(&self, frame: &Frame, answering: Option<&Request>) -> bool {
        let Some(text) = frame.as_bytes().filter(|_| frame.is_error()) else {
            return false;
        };
        let unknown =
            text.starts_with(b"ERR unknown command") || text.starts_with(b"Unrecognized command");
        unknown && answering.is_some_and(|r| self.scenario.needs.contains(&r.name))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(Path::new("conformance/redis/x/y_t.scenario"), text).expect("parses")
    }

    #[test]
    fn a_cluster_skips_what_it_cannot_run_and_says_why() {
        let plain = scenario("> SET {{k}}a 1\n< +OK\n");
        assert_eq!(cluster_skip_reason(&plain), None);
        let select = scenario("> SELECT 1\n< +OK\n");
        assert!(cluster_skip_reason(&select).is_some_and(|w| w.contains("SELECT")));
        let foreign = scenario("> MGET {{k}}a other\n? any\n");
        assert!(cluster_skip_reason(&foreign).is_some_and(|w| w.contains("\"other\"")));
        let header = scenario("# cluster: no it counts every key\n> DBSIZE\n? any\n");
        assert_eq!(
            cluster_skip_reason(&header).as_deref(),
            Some("not run on a cluster: it counts every key")
        );
        let only = scenario("# cluster: only\n> MGET a b\n? any\n");
        assert_eq!(cluster_skip_reason(&only), None);
        let standalone = RunOptions::default();
        assert!(skip_reason(&only, &standalone).is_some_and(|w| w.contains("--cluster")));
        assert_eq!(skip_reason(&plain, &standalone), None);
    }

    #[test]
    fn cluster_refusals_are_recognised_by_their_error() {
        for text in [
            "MOVED 1 127.0.0.1:7000",
            "ASK 1 127.0.0.1:7000",
            "CROSSSLOT Keys in request don't hash to the same slot",
            "CLUSTERDOWN The cluster is down",
            "ERR SELECT is not allowed in cluster mode",
            "ERR BY option of SORT denied in Cluster mode.",
        ] {
            assert!(cluster_refusal(&Frame::error(text)), "{text}");
        }
        assert!(!cluster_refusal(&Frame::error("ERR syntax error")));
        assert!(debug_disabled(&Frame::error(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", \
             you can run it from a local connection, otherwise you need to set this option in the \
             configuration file, and then restart the server."
        )));
        assert!(!debug_disabled(&Frame::error(
            "ERR Wrong protocol type name."
        )));
        assert!(!cluster_refusal(&Frame::Bulk("MOVED 1 x:1".into())));
    }
}
