//! The compatibility matrix: one suite run against several servers, each with its own target
//! detection and flavor, gathered into rows (scenarios, grouped by area) and columns (targets).
//!
//! A verdict alone does not say what a server did, so every cell that is not a PASS (and was
//! run) carries a wire log: the scenario replayed once more in capture mode
//! ([`super::runner::capture_scenario`]), each expectation with the bytes sent before it, the
//! strict form expected, the bytes that came back and the first offset where they differ.
//! [`super::report::write_html`] turns a [`Matrix`] into one self-contained page.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::clients::report::clients_json;
use super::clients::scenario::{Delivery, Split};
use super::clients::{ClientRun, ClientScenario, Expect, Grade};
use super::matcher::{describe, first_difference, matches};
use super::report::Counts;
use super::runner::{capture_scenario, CaseResult, Outcome, RunOptions};
use super::scenario::{Matcher, Scenario, Step, FIRST_CONNECTION};
use super::{load_dir, run_suite, Selection};
use bytes::BytesMut;
use respect_resp::{Decoder, Dialect, Flavor, Limits, Role};

/// Most bytes of one sent, expected or actual field a wire log keeps (the rest is counted, not
/// shown): a 16 MB value must not make a 16 MB page. Override with
/// [`MatrixOptions::max_logged_bytes`].
pub const DEFAULT_MAX_LOGGED_BYTES: usize = 4096;

/// One server in the matrix, as `--target` spells it: `NAME=HOST:PORT` for a Redis-flavor
/// server, `NAME=seed@HOST:PORT` for one speaking the seed dialect (`redis@` is accepted too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixTarget {
    /// The column's name.
    pub name: String,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Which suite it is run with.
    pub flavor: Flavor,
    /// Whether it is a node of a Redis Cluster (`cluster@HOST:PORT`).
    pub cluster: bool,
}

impl std::str::FromStr for MatrixTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<MatrixTarget, String> {
        let usage = || {
            format!(
                "bad target `{text}` (NAME=HOST:PORT, NAME=seed@HOST:PORT or NAME=cluster@HOST:PORT)"
            )
        };
        let (name, rest) = text.split_once('=').ok_or_else(usage)?;
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '"') {
            return Err(usage());
        }
        let (flavor, cluster, address) = match rest.split_once('@') {
            Some(("seed" | "simpledb", a)) => (Flavor::Seed, false, a),
            Some(("redis", a)) => (Flavor::Redis, false, a),
            Some(("cluster", a)) => (Flavor::Redis, true, a),
            Some(_) => return Err(usage()),
            None => (Flavor::Redis, false, rest),
        };
        let addr = address
            .to_socket_addrs()
            .map_err(|e| format!("bad target `{text}`: {e}"))?
            .next()
            .ok_or_else(usage)?;
        Ok(MatrixTarget {
            name: name.to_string(),
            addr,
            flavor,
            cluster,
        })
    }
}

/// The run options of one target: a cluster target's cluster discovered.
async fn target_options(target: &MatrixTarget, run: &RunOptions) -> Result<RunOptions, String> {
    let mut run = run.clone();
    if target.cluster {
        let cluster = crate::cluster::Cluster::discover(target.addr, &run).await?;
        run.cluster = Some(std::sync::Arc::new(cluster));
    }
    Ok(run)
}

/// How to build a matrix: the run options every target shares, and the wire logs' size.
#[derive(Debug, Clone)]
pub struct MatrixOptions {
    /// As for `respect run` (target detection happens per target: leave `target` as `None`
    /// unless every target is the same version).
    pub run: RunOptions,
    /// Most bytes kept of one wire-log field.
    pub max_logged_bytes: usize,
}

impl Default for MatrixOptions {
    fn default() -> Self {
        MatrixOptions {
            run: RunOptions::default(),
            max_logged_bytes: DEFAULT_MAX_LOGGED_BYTES,
        }
    }
}

/// Bytes of a wire log, clipped to the page's budget; serialized escaped and in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireBytes {
    /// The first bytes (at most the budget).
    pub shown: Vec<u8>,
    /// How many there were in all.
    pub len: usize,
}

impl WireBytes {
    /// `bytes`, keeping at most `max`.
    pub fn clipped(bytes: &[u8], max: usize) -> WireBytes {
        WireBytes {
            shown: bytes
                .get(..max.min(bytes.len()))
                .unwrap_or_default()
                .to_vec(),
            len: bytes.len(),
        }
    }

    /// As text, with control and non-ASCII bytes escaped (`\r\n`, `\x00`).
    pub fn escaped(&self) -> String {
        respect_resp::escape_bytes(&self.shown)
    }

    /// As hex pairs separated by spaces.
    pub fn hex(&self) -> String {
        let mut out = String::with_capacity(self.shown.len() * 3);
        for (i, b) in self.shown.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Whether some bytes were left out.
    pub fn truncated(&self) -> bool {
        self.len > self.shown.len()
    }
}

impl serde::Serialize for WireBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("WireBytes", 4)?;
        out.serialize_field("escaped", &self.escaped())?;
        out.serialize_field("hex", &self.hex())?;
        out.serialize_field("len", &self.len)?;
        out.serialize_field("truncated", &self.truncated())?;
        out.end()
    }
}

/// One expectation of a replayed scenario: what was sent before it, what was expected, what came.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Exchange {
    /// The expectation's scenario line.
    pub line: usize,
    /// The connection it was read on.
    pub connection: String,
    /// The bytes written since the previous expectation (on any connection).
    pub sent: WireBytes,
    /// The strict form, as the scenario describes it (`"+OK\r\n"`, `? type integer`).
    pub expected_form: String,
    /// The strict form's bytes, when it is an exact or unordered form.
    pub expected: Option<WireBytes>,
    /// The reply's bytes, if one came.
    pub actual: Option<WireBytes>,
    /// Whether the reply matched the strict form.
    pub matched: bool,
    /// The first offset where expected and actual bytes differ (exact forms that did not match).
    pub first_difference: Option<usize>,
}

/// A cell's wire log.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct WireLog {
    /// Every expectation the replay reached, in order.
    pub exchanges: Vec<Exchange>,
    /// Why the replay stopped early, if it did (timeout, closed connection).
    pub stopped: Option<String>,
}

/// One scenario on one target.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Cell {
    /// The verdict; `None` where the scenario is not for this target's flavor, or the target
    /// could not be reached.
    pub outcome: Option<Outcome>,
    /// The runner's explanation, for anything but PASS.
    pub detail: Option<String>,
    /// The wire log, for a cell that ran and did not PASS.
    pub wire: Option<WireLog>,
}

/// One scenario across the targets.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Scenario id.
    pub id: String,
    /// Its folder under the scenario root (`redis/strings`).
    pub area: String,
    /// Its title.
    pub title: String,
    /// One cell per target, in the targets' order.
    pub cells: Vec<Cell>,
}

/// One target's column header.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Column {
    /// The name given on the command line.
    pub name: String,
    /// Its address.
    pub addr: String,
    /// `redis` or `seed`.
    pub flavor: String,
    /// What detection found (`127.0.0.1:6379 (redis 7.0.15)`), or the address.
    pub server: String,
    /// Counts per outcome.
    pub counts: Counts,
    /// Why the target could not be run, if it could not (then its cells are empty).
    pub error: Option<String>,
    /// Wall time of its run.
    pub millis: u128,
}

/// A finished matrix.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Matrix {
    /// The targets, in command-line order.
    pub columns: Vec<Column>,
    /// The scenarios, sorted by area then id.
    pub rows: Vec<Row>,
}

impl Matrix {
    /// Whether every target could be run.
    pub fn all_reached(&self) -> bool {
        self.columns.iter().all(|c| c.error.is_none())
    }

    /// Writes `matrix.json`: `{columns: [{name, addr, flavor, server, counts, error, millis}],
    /// rows: [{id, area, title, cells: [{outcome, detail, wire}]}]}`, wire bytes as
    /// `{escaped, hex, len, truncated}`.
    pub fn write_json(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }
}

/// Each flavor's name as the page and the JSON spell it.
pub fn flavor_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Redis => "redis",
        Flavor::Seed => "seed",
    }
}

/// Runs the selected scenarios of `dir` against each target in turn (one target at a time, so
/// they do not compete for the machine), then replays every cell that ran and did not PASS in
/// capture mode for its wire log. `Err` only when the folder cannot be read; an unreachable
/// target is a column with an error.
pub async fn build_matrix(
    dir: &Path,
    targets: &[MatrixTarget],
    selection: &Selection,
    options: &MatrixOptions,
    progress: &(dyn Fn(&str, &CaseResult) + Sync),
) -> Result<Matrix, String> {
    let scenarios: Vec<Scenario> = load_dir(dir)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|s| selection.admits(s))
        .filter(|s| targets.iter().any(|t| t.flavor == s.flavor))
        .collect();
    let mut rows: Vec<Row> = scenarios
        .iter()
        .map(|s| Row {
            id: s.id.clone(),
            area: area_of(dir, s),
            title: s.title.clone(),
            cells: Vec::with_capacity(targets.len()),
        })
        .collect();
    let mut columns = Vec::with_capacity(targets.len());
    for target in targets {
        let started = Instant::now();
        let report = match target_options(target, &options.run).await {
            Ok(run) => {
                run_suite(
                    dir,
                    Some(target.addr),
                    target.flavor,
                    selection,
                    &run,
                    &|r| progress(&target.name, r),
                )
                .await
            }
            Err(e) => Err(e),
        };
        let (server, counts, error, mut results) = match report {
            Ok(report) => (report.target.clone(), report.counts(), None, report.results),
            Err(e) => (target.addr.to_string(), Counts::default(), Some(e), vec![]),
        };
        for (row, scenario) in rows.iter_mut().zip(&scenarios) {
            let found = results.iter().position(|r| r.id == scenario.id);
            let cell = match found.map(|i| results.swap_remove(i)) {
                None => Cell {
                    outcome: None,
                    detail: None,
                    wire: None,
                },
                Some(result) => {
                    let wire = match result.outcome {
                        Outcome::Pass | Outcome::Skipped => None,
                        _ => Some(
                            wire_log(
                                target.addr,
                                scenario,
                                &options.run,
                                options.max_logged_bytes,
                            )
                            .await,
                        ),
                    };
                    Cell {
                        outcome: Some(result.outcome),
                        detail: result.detail,
                        wire,
                    }
                }
            };
            row.cells.push(cell);
        }
        columns.push(Column {
            name: target.name.clone(),
            addr: target.addr.to_string(),
            flavor: flavor_name(target.flavor).to_string(),
            server,
            counts,
            error,
            millis: started.elapsed().as_millis(),
        });
    }
    rows.sort_by(|a, b| (&a.area, &a.id).cmp(&(&b.area, &b.id)));
    Ok(Matrix { columns, rows })
}

/// The folder of `path` under `dir`, `/`-separated (`redis/strings`); empty when `path` is
/// directly in `dir`.
fn folder_under(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    relative
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// The scenario's folder under the scenario root (`redis/strings`), or its flavor's name.
fn area_of(dir: &Path, scenario: &Scenario) -> String {
    let folder = folder_under(dir, &scenario.path);
    if folder.is_empty() {
        flavor_name(scenario.flavor).to_string()
    } else {
        folder
    }
}

/// Replays `scenario` in capture mode and pairs each captured reply with its expectation.
pub async fn wire_log(
    addr: SocketAddr,
    scenario: &Scenario,
    options: &RunOptions,
    max: usize,
) -> WireLog {
    let (captured, stopped) = match capture_scenario(addr, scenario, options).await {
        Ok(c) => (c, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let mut replies = captured.into_iter().peekable();
    let mut exchanges = Vec::new();
    let mut sent = Vec::new();
    let mut connection = FIRST_CONNECTION.to_string();
    let mut stopped = stopped;
    for step in &scenario.steps {
        match step {
            Step::Send { bytes, .. } => sent.extend_from_slice(bytes),
            Step::Open(name) | Step::Use(name) => connection = name.clone(),
            Step::Expect(expectation) => {
                let reply = match replies.peek() {
                    Some(c) if c.lines == expectation.lines => replies.next().map(|c| c.raw),
                    _ => None,
                };
                let strict = expectation.alternatives.first();
                let expected_bytes = match strict {
                    Some(Matcher::Exact { bytes, .. }) | Some(Matcher::Unordered { bytes, .. }) => {
                        Some(bytes.as_slice())
                    }
                    _ => None,
                };
                let matched = match (strict, &reply) {
                    (Some(m), Some(raw)) => {
                        decode_reply(scenario.flavor, raw).is_some_and(|f| matches(m, &f, raw))
                    }
                    _ => false,
                };
                let first = match (strict, expected_bytes, &reply) {
                    (Some(Matcher::Exact { .. }), Some(e), Some(raw)) if !matched => {
                        Some(first_difference(e, raw))
                    }
                    _ => None,
                };
                if reply.is_none() && stopped.is_none() {
                    stopped = Some(format!("no reply captured for line {}", expectation.line));
                }
                exchanges.push(Exchange {
                    line: expectation.line,
                    connection: connection.clone(),
                    sent: WireBytes::clipped(&std::mem::take(&mut sent), max),
                    expected_form: strict.map(describe).unwrap_or_default(),
                    expected: expected_bytes.map(|b| WireBytes::clipped(b, max)),
                    actual: reply.as_deref().map(|r| WireBytes::clipped(r, max)),
                    matched,
                    first_difference: first,
                });
            }
            _ => {}
        }
    }
    WireLog { exchanges, stopped }
}

/// The one frame `raw` holds, read in the widest dialect of the flavor (RESP3 covers a reply
/// read after `HELLO 3` as well as a RESP2 one).
fn decode_reply(flavor: Flavor, raw: &[u8]) -> Option<respect_resp::Frame> {
    let dialect = match flavor {
        Flavor::Redis => Dialect::Resp3,
        Flavor::Seed => Dialect::Seed,
    };
    let mut decoder = Decoder::with_options(dialect, Role::Any, Limits::default());
    let mut buf = BytesMut::from(raw);
    decoder.decode(&mut buf).ok().flatten()
}

/// The client half of a matrix (`respect matrix --client`): the client scenarios, grouped by
/// area, across the client drivers, graded by [`crate::clients::run_driver`] as `respect
/// clients` grades them.
#[derive(Debug, Clone)]
pub struct ClientMatrix {
    /// One run per driver, in command-line order (`matrix.json`'s `clients` section).
    pub runs: Vec<ClientRun>,
    /// The client scenarios, sorted by area then id.
    pub rows: Vec<ClientRow>,
}

/// One client scenario across the drivers.
#[derive(Debug, Clone)]
pub struct ClientRow {
    /// Scenario id.
    pub id: String,
    /// `clients/` and its folder under the client scenario root (`clients/resp3`).
    pub area: String,
    /// Its title.
    pub title: String,
    /// The exact bytes the scripted server sends (up to its close, if it closes), clipped to
    /// the page's budget.
    pub reply: WireBytes,
    /// How they are delivered (`one byte per write, closed after 7 bytes`), empty when in one
    /// write.
    pub delivery: String,
    /// The `?` line: what a correct library surfaces.
    pub expectation: String,
    /// One per driver, in the runs' order: `None` where the driver did not start.
    pub cells: Vec<Option<ClientCell>>,
}

/// One client scenario on one driver.
#[derive(Debug, Clone)]
pub struct ClientCell {
    /// The verdict.
    pub grade: Grade,
    /// What the library surfaced (and what was expected when they differ), clipped to the
    /// page's budget.
    pub detail: String,
}

impl ClientMatrix {
    /// Gathers the runs of `scenarios` (loaded from `dir`) into rows; detail texts and reply
    /// bytes over `max` bytes are clipped.
    pub fn new(
        dir: &Path,
        scenarios: &[Arc<ClientScenario>],
        runs: Vec<ClientRun>,
        max: usize,
    ) -> ClientMatrix {
        let mut rows: Vec<ClientRow> = scenarios
            .iter()
            .map(|s| ClientRow {
                id: s.id.clone(),
                area: client_area(dir, s),
                title: s.title.clone(),
                reply: WireBytes::clipped(s.delivery.sent(&s.reply), max),
                delivery: delivery(&s.delivery),
                expectation: expectation(&s.expect),
                cells: runs
                    .iter()
                    .map(|run| {
                        run.results
                            .iter()
                            .find(|r| r.id == s.id)
                            .map(|r| ClientCell {
                                grade: r.grade,
                                detail: clip_text(&r.detail, max),
                            })
                    })
                    .collect(),
            })
            .collect();
        rows.sort_by(|a, b| (&a.area, &a.id).cmp(&(&b.area, &b.id)));
        ClientMatrix { runs, rows }
    }

    /// Whether every driver started.
    pub fn all_started(&self) -> bool {
        self.runs.iter().all(|r| r.started)
    }
}

impl Matrix {
    /// [`Matrix::write_json`] with a `clients` section in the shape `respect clients --format
    /// json` writes (`[{client, library, started, counts, results}]`).
    pub fn write_json_with_clients(
        &self,
        clients: &ClientMatrix,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        let mut value = serde_json::to_value(self)?;
        if let Some(map) = value.as_object_mut() {
            map.insert("clients".into(), clients_json(&clients.runs));
        }
        serde_json::to_writer_pretty(&mut *out, &value)?;
        writeln!(out)
    }
}

/// The `?` line of a client scenario, as its file states it.
pub fn expectation(expect: &Expect) -> String {
    match expect {
        Expect::Value(v) => format!("value {}", v.to_json()),
        Expect::ServerError(text) => format!("error server {text}"),
        Expect::Error(kinds) => {
            format!(
                "error {}",
                crate::clients::scenario::ErrorKind::names(kinds, " ")
            )
        }
        Expect::Survive => "survive".into(),
    }
}

/// The `!` lines in words; empty for one write, at once, no close.
fn delivery(d: &Delivery) -> String {
    let mut parts = Vec::new();
    match &d.split {
        Split::Whole => {}
        Split::Bytewise => parts.push("one byte per write".to_string()),
        Split::At(at) => parts.push(format!("cut at {at:?}")),
    }
    if !d.delay.is_zero() {
        parts.push(format!("{:?} before the first write", d.delay));
    }
    if !d.gap.is_zero() {
        parts.push(format!("{:?} between writes", d.gap));
    }
    if let Some(n) = d.close_after {
        parts.push(format!("closed after {n} bytes"));
    }
    parts.join(", ")
}

/// `text` cut to at most `max` bytes (on a character boundary), the cut counted.
fn clip_text(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}… ({end} of {} bytes shown)",
        text.get(..end).unwrap_or_default(),
        text.len()
    )
}

/// `clients/` and the scenario's folder under the client scenario root.
fn client_area(dir: &Path, scenario: &ClientScenario) -> String {
    let folder = folder_under(dir, &scenario.path);
    if folder.is_empty() {
        "clients".into()
    } else {
        format!("clients/{folder}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_syntax_names_a_column_an_address_and_a_flavor() {
        let t: MatrixTarget = "redis-7.0=127.0.0.1:6379".parse().unwrap();
        assert_eq!(
            (t.name.as_str(), t.addr.port(), t.flavor),
            ("redis-7.0", 6379, Flavor::Redis)
        );
        let t: MatrixTarget = "simpledb=seed@127.0.0.1:31337".parse().unwrap();
        assert_eq!((t.addr.port(), t.flavor), (31337, Flavor::Seed));
        let t: MatrixTarget = "cluster7=cluster@127.0.0.1:7000".parse().unwrap();
        assert_eq!(
            (t.addr.port(), t.flavor, t.cluster),
            (7000, Flavor::Redis, true)
        );
        let t: MatrixTarget = "x=redis@127.0.0.1:1".parse().unwrap();
        assert_eq!(t.flavor, Flavor::Redis);
        for bad in [
            "127.0.0.1:6379",
            "=127.0.0.1:1",
            "a b=127.0.0.1:1",
            "x=cobol@127.0.0.1:1",
            "x=127.0.0.1",
        ] {
            assert!(bad.parse::<MatrixTarget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn wire_bytes_are_clipped_and_shown_escaped_and_in_hex() {
        let b = WireBytes::clipped(b"+OK\r\n", 3);
        assert_eq!(
            (b.escaped().as_str(), b.hex().as_str()),
            ("+OK", "2b 4f 4b")
        );
        assert!(b.truncated());
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"escaped": "+OK", "hex": "2b 4f 4b", "len": 5, "truncated": true})
        );
    }

    #[test]
    fn client_details_are_clipped_on_a_character_boundary() {
        assert_eq!(clip_text("short", 10), "short");
        assert_eq!(clip_text("héllo", 2), "h… (1 of 6 bytes shown)");
    }
}
