//! `respect fuzz --addr A --against B`: differential network fuzzing. The same grammar-driven
//! command sequences ([`super::grammar`], same PRNG seed) go to two live servers, each sequence
//! under a fresh key prefix, and every pair of replies is compared. Replies agree when their
//! bytes are equal, or when they are equal after the scenario matchers' own normalisation for
//! what Redis itself marks as unordered or volatile (`crates/conformance`'s matcher, not a copy):
//! - a command with the `nondeterministic_output_order` tip: [`same_unordered`] (`<~`);
//! - a command with the `nondeterministic_output` tip (SPOP, SRANDMEMBER, ...): the same reply
//!   type (`? type`);
//! - a time left or timestamp ([`TIME_REPLIES`]): negative values exactly, positive ones as
//!   "positive" (`? type integer`).
//!
//! The first difference of a sequence ends it (the two keyspaces may differ from then on) and
//! is written as a replayable scenario: the sequence so far, `{{k}}` in place of the prefix,
//! A's replies as the expectations (so `respect run --addr B` shows B's reply against A's).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::generate::Rng;
use super::grammar::{Grammar, KEY_NAMES, TIME_REPLIES};
use crate::client::{Client, ClientOptions, Reply, ReplyBudget};
use crate::conformance::matcher::{clip, first_difference, matches, same_unordered};
use crate::conformance::scenario::identity::{id_from_path, verdict_of};
use crate::conformance::scenario::template::run_key_prefix;
use crate::conformance::scenario::{write, Expectation, Matcher, Scenario, Step};
use crate::resp::{Dialect, Flavor, Frame};
use crate::server::commands::{Flag, Spec};

/// Default commands per sequence.
pub const DEFAULT_SEQUENCE_LEN: usize = 40;

/// How to fuzz two servers against each other.
#[derive(Debug, Clone)]
pub struct AgainstOptions {
    /// The reference server (its replies become a finding's expectations).
    pub a: SocketAddr,
    /// The server under test.
    pub b: SocketAddr,
    /// Stop after this many sequences...
    pub sequences: usize,
    /// ...or after this long.
    pub duration: Duration,
    /// Commands per sequence.
    pub length: usize,
    /// The PRNG seed: the same number sends the same sequences.
    pub rng_seed: u64,
    /// Where findings are written (none: not written).
    pub out: Option<PathBuf>,
    /// How long one reply may take.
    pub timeout: Duration,
    /// What one reply may cost.
    pub budget: ReplyBudget,
    /// Commands (lowercase registry names) never sent: differences already known, so that
    /// they stop hiding the ones after them.
    pub skip: Vec<String>,
}

/// One difference: the first of its sequence.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Difference {
    /// Sequence number.
    pub sequence: usize,
    /// Command number in it (0-based).
    pub step: usize,
    /// The command, escaped.
    pub command: String,
    /// First differing byte.
    pub at: usize,
    /// A's reply, escaped and clipped around `at`.
    pub a: String,
    /// B's reply.
    pub b: String,
    /// The scenario written for it.
    pub file: Option<String>,
}

/// The outcome of a differential run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AgainstReport {
    /// Sequences run.
    pub sequences: usize,
    /// Commands sent to each server.
    pub commands: usize,
    /// Reply pairs that agreed only after normalisation.
    pub normalised: usize,
    /// Wall time.
    pub millis: u128,
    /// The first difference of each sequence that had one.
    pub differences: Vec<Difference>,
}

/// How two replies to one command compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// The same bytes.
    Same,
    /// Equal after normalisation; the matcher a scenario would use.
    Normalised,
    /// Different.
    Differ,
}

/// Whether `spec`'s replies `a` and `b` agree (see the module doc), and the matcher a scenario
/// expecting `a` should use.
pub fn compare(spec: &Spec, a: &Reply, b: &Reply) -> (Agreement, Matcher) {
    let exact = Matcher::Exact {
        frame: a.frame.clone(),
        bytes: a.raw.to_vec(),
    };
    if a.raw == b.raw {
        // A time left agrees now, but a replay of the scenario reads another one.
        let time_left =
            TIME_REPLIES.contains(&spec.name) && matches!(a.frame, Frame::Integer(t) if t >= 0);
        return if time_left {
            (Agreement::Same, Matcher::Type("integer".into()))
        } else {
            (Agreement::Same, exact)
        };
    }
    let loose = if TIME_REPLIES.contains(&spec.name) {
        match (&a.frame, &b.frame) {
            (Frame::Integer(x), Frame::Integer(y)) if *x >= 0 && *y >= 0 => {
                Some(Matcher::Type("integer".into()))
            }
            _ => None,
        }
    } else if spec.tips.contains(&"nondeterministic_output") {
        Some(Matcher::Type(a.frame.type_name().replace(' ', "-")))
    } else if spec.tips.contains(&"nondeterministic_output_order")
        && same_unordered(&a.frame, &b.frame)
    {
        Some(Matcher::Unordered {
            frame: a.frame.clone(),
            bytes: a.raw.to_vec(),
        })
    } else {
        None
    };
    match loose {
        Some(m) if matches(&m, &a.frame, &a.raw) && matches(&m, &b.frame, &b.raw) => {
            (Agreement::Normalised, m)
        }
        _ => (Agreement::Differ, exact),
    }
}

/// Both connections of one sequence.
struct Pair {
    a: Client,
    b: Client,
}

async fn connect(addr: SocketAddr, options: &AgainstOptions) -> Result<Client, String> {
    let client_options = ClientOptions {
        io_timeout: options.timeout,
        budget: options.budget,
    };
    Client::connect_with(addr, Dialect::Resp2, client_options)
        .await
        .map_err(|e| format!("{addr}: {e}"))
}

async fn call(client: &mut Client, args: &[Bytes], timeout: Duration) -> Option<Reply> {
    client.send(&Frame::command(args)).await.ok()?;
    client.read_reply_timeout(timeout).await.ok()
}

/// Runs the differential fuzzer. Refuses addresses that are not on this machine.
pub async fn against(options: &AgainstOptions) -> Result<AgainstReport, String> {
    for addr in [options.a, options.b] {
        if !addr.ip().is_loopback() {
            return Err(format!(
                "{addr} is not a loopback address: respect fuzz only targets servers on this machine"
            ));
        }
    }
    let grammar = Grammar::from_registry(Flavor::Redis);
    let started = Instant::now();
    let mut rng = Rng::new(options.rng_seed);
    let mut report = AgainstReport {
        sequences: 0,
        commands: 0,
        normalised: 0,
        millis: 0,
        differences: Vec::new(),
    };
    while report.sequences < options.sequences && started.elapsed() < options.duration {
        let n = report.sequences;
        let id = format!("difffuzz-{}-{n}", options.rng_seed);
        let prefix = run_key_prefix(&id);
        let mut pair = Pair {
            a: connect(options.a, options).await?,
            b: connect(options.b, options).await?,
        };
        let resp3 = rng.below(3) == 0;
        let mut steps = Vec::new();
        // A finding that could not be written: returned once the keys are cleaned up.
        let mut failure = None;
        if resp3 {
            let hello = [Bytes::from_static(b"HELLO"), Bytes::from_static(b"3")];
            // HELLO 3's own reply is already RESP3.
            pair.a.set_dialect(Dialect::Resp3);
            pair.b.set_dialect(Dialect::Resp3);
            let a = call(&mut pair.a, &hello, options.timeout).await;
            let b = call(&mut pair.b, &hello, options.timeout).await;
            if a.is_none() || b.is_none() {
                return Err("HELLO 3 got no reply".into());
            }
            // HELLO 3's own reply is RESP3: the scenario reads it so.
            steps.push(send_step(&hello));
            steps.push(Step::Decode(Dialect::Resp3));
            steps.push(expect(Matcher::Any));
        }
        for step in 0..options.length {
            let Some((spec, mut args)) = grammar.command(&mut rng, &prefix) else {
                break;
            };
            if options.skip.iter().any(|s| s == spec.name) {
                continue;
            }
            if spec.flags.contains(Flag::Write) && spec.tips.contains(&"nondeterministic_output") {
                // SPOP and its kind: a random write leaves the two keyspaces different.
                continue;
            }
            stable_times(spec, &mut args);
            let a = call(&mut pair.a, &args, options.timeout).await;
            let b = call(&mut pair.b, &args, options.timeout).await;
            report.commands += 1;
            steps.push(send_step(&args));
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (Some(a), Some(b)),
                // Neither answered in time (a slow command on a loaded machine): not a
                // difference, but the sequence cannot go on.
                (None, None) => break,
                (a, b) => {
                    // One answered in time and the other did not: give the late one
                    // [`SLOW_REPLY_GRACE`] more (its connection kept what it had read).
                    let a = match a {
                        Some(a) => Some(a),
                        None => pair.a.read_reply_timeout(SLOW_REPLY_GRACE).await.ok(),
                    };
                    let b = match b {
                        Some(b) => Some(b),
                        None => pair.b.read_reply_timeout(SLOW_REPLY_GRACE).await.ok(),
                    };
                    (a, b)
                }
            };
            let (a, b) = match (a, b) {
                (Some(a), Some(b)) => (a, b),
                (a, b) => {
                    let show = |r: &Option<Reply>| {
                        r.as_ref()
                            .map_or("(no reply)".to_string(), |r| clip(&r.raw, 0))
                    };
                    let difference = Difference {
                        sequence: n,
                        step,
                        command: command_text(&args),
                        at: 0,
                        a: show(&a),
                        b: show(&b),
                        file: None,
                    };
                    failure =
                        record(options, &id, &prefix, steps, None, difference, &mut report).err();
                    break;
                }
            };
            let (agreement, matcher) = compare(spec, &a, &b);
            match agreement {
                Agreement::Same => {}
                Agreement::Normalised => report.normalised += 1,
                Agreement::Differ => {
                    let at = first_difference(&a.raw, &b.raw);
                    let difference = Difference {
                        sequence: n,
                        step,
                        command: command_text(&args),
                        at,
                        a: clip(&a.raw, at),
                        b: clip(&b.raw, at),
                        file: None,
                    };
                    failure = record(
                        options,
                        &id,
                        &prefix,
                        steps,
                        Some((matcher, &a)),
                        difference,
                        &mut report,
                    )
                    .err();
                    break;
                }
            }
            steps.push(expect(if mentions(&a.raw, &prefix) {
                // A reply naming a key holds the run's prefix, which `{{k}}` stands for in
                // the scenario but with another run token: compared by type there.
                Matcher::Type(a.frame.type_name().replace(' ', "-"))
            } else {
                matcher
            }));
        }
        cleanup(&mut pair, &prefix, options).await;
        if let Some(e) = failure {
            return Err(e);
        }
        report.sequences += 1;
    }
    report.millis = started.elapsed().as_millis();
    Ok(report)
}

/// How much longer the differential waits for a server that has not answered when the other
/// has: a slow reply is not a different one. SETBIT at offset 2^31 makes redis-server allocate
/// and zero 256 MB, which on a loaded machine outlasts `--timeout` (6 of 45 findings of a
/// 45-minute campaign were that, and their replies agreed once they came).
pub const SLOW_REPLY_GRACE: Duration = Duration::from_secs(30);

/// Commands whose argument 2 is a relative time to live.
const RELATIVE_TTL_COMMANDS: &[&str] = &["expire", "pexpire", "setex", "psetex"];

/// Options whose next argument is a relative time to live.
const RELATIVE_TTL_OPTIONS: &[&str] = &["EX", "PX"];

/// Below this, a generated time to live is moved up by this much (see `stable_times`).
pub const MIN_STABLE_TTL: i64 = 100_000;

/// A key that lives 3 ms expires during the sequence on one server and not yet on the other:
/// a difference of timing, not of behaviour. Small positive relative TTLs (in seconds or
/// milliseconds) are moved up by [`MIN_STABLE_TTL`]; zero, negative, huge and malformed
/// values, and absolute times, stay as generated (their outcome does not depend on timing).
fn stable_times(spec: &Spec, args: &mut [Bytes]) {
    let mut at: Vec<usize> = Vec::new();
    if RELATIVE_TTL_COMMANDS.contains(&spec.name) {
        at.push(2);
    }
    for i in 1..args.len() {
        let option = args
            .get(i - 1)
            .map(|a| String::from_utf8_lossy(a).to_uppercase());
        if option.is_some_and(|o| RELATIVE_TTL_OPTIONS.contains(&o.as_str())) {
            at.push(i);
        }
    }
    for i in at {
        let Some(arg) = args.get_mut(i) else { continue };
        let value = std::str::from_utf8(arg)
            .ok()
            .and_then(|t| t.parse::<i64>().ok());
        if let Some(v) = value.filter(|v| (1..MIN_STABLE_TTL).contains(v)) {
            *arg = Bytes::from((v + MIN_STABLE_TTL).to_string());
        }
    }
}

/// Deletes a sequence's keys on both servers (a fresh connection when one was lost).
async fn cleanup(pair: &mut Pair, prefix: &str, options: &AgainstOptions) {
    let mut del = vec![Bytes::from_static(b"DEL")];
    del.extend(
        KEY_NAMES
            .iter()
            .map(|k| Bytes::from(format!("{prefix}{k}"))),
    );
    for (client, addr) in [(&mut pair.a, options.a), (&mut pair.b, options.b)] {
        // Back to RESP2 replies is not needed: DEL answers an integer in both.
        let deleted = call(client, &del, options.timeout)
            .await
            .is_some_and(|r| matches!(r.frame, Frame::Integer(_)));
        if !deleted {
            // The sequence lost this connection (a timeout, a closed socket), so the DEL may
            // not have reached the server: once more on a fresh one.
            if let Ok(mut fresh) = connect(addr, options).await {
                let _ = call(&mut fresh, &del, options.timeout).await;
            }
        }
    }
}

fn mentions(raw: &[u8], prefix: &str) -> bool {
    raw.windows(prefix.len()).any(|w| w == prefix.as_bytes())
}

fn command_text(args: &[Bytes]) -> String {
    write::command_line(args)
}

fn send_step(args: &[Bytes]) -> Step {
    let mut bytes = bytes::BytesMut::new();
    crate::resp::encode_into(&Frame::command(args), Dialect::Resp2, &mut bytes);
    let name = args
        .first()
        .map(|n| String::from_utf8_lossy(n).to_uppercase());
    Step::Send {
        line: 0,
        bytes: bytes.to_vec(),
        command: name,
    }
}

fn expect(matcher: Matcher) -> Step {
    Step::Expect(Expectation {
        line: 0,
        lines: (0, 0),
        alternatives: vec![matcher],
        repeated: false,
        versioned: Vec::new(),
    })
}

/// Writes the sequence so far as a scenario (A's reply as the last expectation) and adds the
/// difference to the report.
fn record(
    options: &AgainstOptions,
    id: &str,
    prefix: &str,
    mut steps: Vec<Step>,
    last: Option<(Matcher, &Reply)>,
    mut difference: Difference,
    report: &mut AgainstReport,
) -> Result<(), String> {
    if let Some(dir) = &options.out {
        match last {
            Some((matcher, a)) if !mentions(&a.raw, prefix) => steps.push(expect(matcher)),
            Some((_, a)) => {
                steps.push(expect(Matcher::Type(a.frame.type_name().replace(' ', "-"))))
            }
            None => steps.push(expect(Matcher::Any)),
        }
        let path = dir.join(format!("y_{}.scenario", id.replace('-', "_")));
        let text = scenario_text(&path, options, &difference, steps)?;
        // The scenario names its keys through `{{k}}`, as every scenario does (the writer
        // spells the prefix's `{` as `\x7b` inside a quoted argument).
        let text = text
            .replace(&prefix.replace('{', "\\x7b"), "{{k}}")
            .replace(prefix, "{{k}}");
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        difference.file = Some(path.display().to_string());
    }
    report.differences.push(difference);
    Ok(())
}

fn scenario_text(
    path: &Path,
    options: &AgainstOptions,
    difference: &Difference,
    steps: Vec<Step>,
) -> Result<String, String> {
    let scenario = Scenario {
        path: path.to_path_buf(),
        id: id_from_path(Path::new(path.file_name().unwrap_or_default())),
        title: format!(
            "{} differs from {} (respect fuzz --against, rng seed {}, sequence {}, step {})",
            options.b, options.a, options.rng_seed, difference.sequence, difference.step
        ),
        tags: vec!["difffuzz".into()],
        needs: Vec::new(),
        flavor: Flavor::Redis,
        verdict: verdict_of(path),
        destructive: false,
        global: false,
        cluster: Default::default(),
        since: None,
        steps,
    };
    write::scenario_text(&scenario).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::{Decoder, Limits, Role};
    use crate::server::commands::lookup_spec;

    fn reply(raw: &[u8], dialect: Dialect) -> Reply {
        let mut decoder = Decoder::with_options(dialect, Role::Reply, Limits::default());
        let frame = decoder
            .decode(&mut bytes::BytesMut::from(raw))
            .ok()
            .flatten()
            .expect("a reply");
        Reply {
            frame,
            raw: Bytes::copy_from_slice(raw),
        }
    }

    fn spec(name: &str) -> &'static Spec {
        lookup_spec(Flavor::Redis, name.as_bytes()).expect("a command we implement")
    }

    #[test]
    fn unordered_replies_agree_only_where_redis_says_the_order_is_free() {
        let a = reply(b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n", Dialect::Resp2);
        let b = reply(b"*2\r\n$1\r\ny\r\n$1\r\nx\r\n", Dialect::Resp2);
        assert_eq!(compare(spec("smembers"), &a, &b).0, Agreement::Normalised);
        assert_eq!(compare(spec("lrange"), &a, &b).0, Agreement::Differ);
        assert_eq!(compare(spec("lrange"), &a, &a).0, Agreement::Same);
    }

    #[test]
    fn volatile_replies_agree_by_type_or_sign() {
        let one = reply(b"$1\r\nx\r\n", Dialect::Resp2);
        let other = reply(b"$1\r\ny\r\n", Dialect::Resp2);
        let nil = reply(b"$-1\r\n", Dialect::Resp2);
        // As SRANDMEMBER is in Redis: any member, so only the type is compared.
        let random = Spec {
            tips: &["nondeterministic_output"],
            ..*spec("get")
        };
        assert_eq!(compare(&random, &one, &other).0, Agreement::Normalised);
        assert_eq!(compare(&random, &one, &nil).0, Agreement::Differ);
        let (t1, t2, gone) = (
            reply(b":99\r\n", Dialect::Resp2),
            reply(b":100\r\n", Dialect::Resp2),
            reply(b":-2\r\n", Dialect::Resp2),
        );
        assert_eq!(compare(spec("ttl"), &t1, &t2).0, Agreement::Normalised);
        assert_eq!(compare(spec("ttl"), &t1, &gone).0, Agreement::Differ);
        // Equal now, but a scenario replaying it must not expect the same milliseconds.
        assert_eq!(
            compare(spec("pttl"), &t1, &t1),
            (Agreement::Same, Matcher::Type("integer".into()))
        );
        assert_eq!(compare(spec("pttl"), &gone, &gone).0, Agreement::Same);
    }

    #[test]
    fn short_relative_ttls_are_lengthened_and_nothing_else() {
        let mut args: Vec<Bytes> = ["SET", "k", "v", "PX", "3", "EXAT", "5"]
            .map(Bytes::from)
            .to_vec();
        stable_times(spec("set"), &mut args);
        assert_eq!(args[4], "100003");
        assert_eq!(args[6], "5");
        let mut args: Vec<Bytes> = ["PEXPIRE", "k", "-1"].map(Bytes::from).to_vec();
        stable_times(spec("pexpire"), &mut args);
        assert_eq!(args[2], "-1");
        let mut args: Vec<Bytes> = ["EXPIRE", "k", "7"].map(Bytes::from).to_vec();
        stable_times(spec("expire"), &mut args);
        assert_eq!(args[2], "100007");
    }

    #[test]
    fn a_difference_is_written_as_a_scenario_that_parses() {
        let dir = std::env::temp_dir().join(format!("difffuzz-test-{}", std::process::id()));
        let options = AgainstOptions {
            a: "127.0.0.1:1".parse().expect("addr"),
            b: "127.0.0.1:2".parse().expect("addr"),
            sequences: 1,
            duration: Duration::from_secs(1),
            length: 1,
            rng_seed: 5,
            out: Some(dir.clone()),
            timeout: Duration::from_secs(1),
            budget: ReplyBudget::default(),
            skip: Vec::new(),
        };
        let prefix = run_key_prefix("difffuzz-5-0");
        let args = [
            Bytes::from_static(b"GET"),
            Bytes::from(format!("{prefix}a")),
        ];
        let a = reply(b"$1\r\nx\r\n", Dialect::Resp2);
        let exact = compare(spec("get"), &a, &a).1;
        let mut report = AgainstReport {
            sequences: 0,
            commands: 0,
            normalised: 0,
            millis: 0,
            differences: Vec::new(),
        };
        let difference = Difference {
            sequence: 0,
            step: 0,
            command: command_text(&args),
            at: 0,
            a: String::new(),
            b: String::new(),
            file: None,
        };
        record(
            &options,
            "difffuzz-5-0",
            &prefix,
            vec![send_step(&args)],
            Some((exact, &a)),
            difference,
            &mut report,
        )
        .expect("written");
        let path = report.differences[0].file.clone().expect("a file");
        let text = std::fs::read_to_string(&path).expect("readable");
        assert!(text.contains("> GET \"{{k}}a\""), "{text}");
        let parsed = Scenario::parse(Path::new(&path), &text).expect("parses");
        assert_eq!(parsed.steps.len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }
}
