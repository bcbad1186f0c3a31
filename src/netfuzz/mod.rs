//! `respect fuzz`: the network fuzzer. It sends generated traffic to a live server on this
//! machine and, after every case, checks that the server still answers a fresh connection and
//! that the case's own connection either answers a probe or was closed: never silence. A
//! finding is written as a replayable scenario file plus the raw bytes.

pub mod against;
mod generate;
pub mod grammar;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub use generate::{case, case_with, Case, Kind, Rng};

use crate::client::{Client, ClientOptions, ReplyBudget};
use crate::conformance::scenario::identity::{id_from_path, verdict_of};
use crate::conformance::scenario::{key_prefix, write, Expectation, Matcher, Scenario, Step};
use crate::resp::{escape_bytes, Dialect, Flavor, Frame};

/// The id whose key prefix (`respect:netfuzz:`) holds every key the fuzzer names, as a
/// scenario's id holds its keys.
pub const KEY_SPACE: &str = "netfuzz";
/// Default number of cases.
pub const DEFAULT_RUNS: usize = 300;
/// Default time budget.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(120);
/// Probes of an unresponsive server before the run gives up on it.
pub const RECOVERY_PROBES: usize = 5;
/// Default wait for the server to answer a probe.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// How to fuzz.
#[derive(Debug, Clone)]
pub struct FuzzOptions {
    /// The server; must be on this machine (loopback).
    pub addr: SocketAddr,
    /// Redis or seed: which requests are generated and how replies are read.
    pub flavor: Flavor,
    /// Stop after this many cases...
    pub runs: usize,
    /// ...or after this long, whichever comes first.
    pub duration: Duration,
    /// The PRNG seed: the same number sends the same traffic.
    pub rng_seed: u64,
    /// Where findings are written (none: not written).
    pub out: Option<PathBuf>,
    /// How long a probe may take (and each write of a case).
    pub timeout: Duration,
    /// What a reply may cost; a case's connection reads at most `budget.max_bytes` before
    /// it is judged out of sync.
    pub budget: ReplyBudget,
    /// Draw valid commands from the server's command registry ([`grammar`]) rather than the
    /// fixed list.
    pub grammar: bool,
}

/// What went wrong after a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    /// A fresh connection was refused or got no answer: the server is down or wedged.
    Unresponsive,
    /// The case's connection stayed open but answered nothing, not even the probe.
    Silent,
    /// The case's connection answered, but the probe's reply never came (out of sync).
    OutOfSync,
    /// Malformed input got no answer at all (no error, no close) while later requests were
    /// answered: a client waiting for a reply to that input waits forever.
    Swallowed,
}

/// A case that broke the server.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// Case number in the run.
    pub case: usize,
    /// What generated it.
    pub name: String,
    /// What went wrong.
    pub problem: Problem,
    /// The bytes, escaped.
    pub bytes: String,
    /// Files written for it.
    pub files: Vec<String>,
}

/// The outcome of a run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FuzzReport {
    /// Cases sent.
    pub cases: usize,
    /// The PRNG seed it ran with.
    pub rng_seed: u64,
    /// Wall time.
    pub millis: u128,
    /// What broke.
    pub findings: Vec<Finding>,
}

/// The probe and the reply prefix that proves the connection is alive and in sync.
fn probe(dialect: Dialect) -> (Frame, &'static [u8]) {
    if dialect == Dialect::Seed {
        let key = format!("{}probe", key_prefix(KEY_SPACE));
        (Frame::command(["GET", key.as_str()]), b"$-1\r\n")
    } else {
        (Frame::command(["PING"]), b"+PONG\r\n")
    }
}

/// Whether the server answers a fresh connection's probe in time.
async fn alive(options: &FuzzOptions) -> bool {
    let (request, expected) = probe(options.flavor.request_dialect());
    let attempt = async {
        let client_options = ClientOptions {
            io_timeout: options.timeout,
            budget: options.budget,
        };
        let mut client = Client::connect_with(
            options.addr,
            options.flavor.request_dialect(),
            client_options,
        )
        .await
        .ok()?;
        client.send(&request).await.ok()?;
        let reply = client.read_reply().await.ok()?;
        Some(&reply.raw[..] == expected)
    };
    matches!(
        tokio::time::timeout(options.timeout, attempt).await,
        Ok(Some(true))
    )
}

/// Deletes the keys the generated commands name (`0`..`7` of the fixed list, `a`..`d` of the
/// grammar, under [`KEY_SPACE`]'s prefix) once the run ends, so that it leaves nothing on the
/// server it was pointed at. Best effort: a server that stopped answering keeps them.
async fn cleanup(options: &FuzzOptions) {
    let dialect = options.flavor.request_dialect();
    let prefix = key_prefix(KEY_SPACE);
    let mut args = vec![if dialect == Dialect::Seed {
        "MDELETE"
    } else {
        "DEL"
    }
    .to_string()];
    args.extend((0..generate::FIXED_KEYS).map(|i| format!("{prefix}{i}")));
    args.extend(grammar::KEY_NAMES.iter().map(|k| format!("{prefix}{k}")));
    let client_options = ClientOptions {
        io_timeout: options.timeout,
        budget: options.budget,
    };
    if let Ok(mut client) = Client::connect_with(options.addr, dialect, client_options).await {
        let _ = client.call(&args).await;
    }
}

/// How bytes end, read as requests by our decoder in the server's role: the judge of what a
/// correct server owes the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Complete requests: each is owed a reply.
    Complete,
    /// Inside a request (a length that promises more, a line with no end yet): waiting for the
    /// rest is correct, so only liveness is checked.
    Incomplete,
    /// A protocol error: an error reply or a close is owed.
    Malformed,
}

/// How `bytes` end; see [`Ending`].
pub fn ending(bytes: &[u8], dialect: Dialect) -> Ending {
    let mut decoder = crate::resp::Decoder::with_options(
        dialect,
        crate::resp::Role::Request,
        crate::resp::Limits::default(),
    );
    let mut buf = bytes::BytesMut::from(bytes);
    loop {
        match decoder.decode(&mut buf) {
            Ok(Some(_)) => continue,
            Ok(None) if buf.is_empty() && !decoder.is_mid_frame() => return Ending::Complete,
            Ok(None) => return Ending::Incomplete,
            Err(_) => return Ending::Malformed,
        }
    }
}

/// Sends one case and judges the connection it was sent on.
async fn run_case(options: &FuzzOptions, case: &Case) -> Option<Problem> {
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(options.timeout, TcpStream::connect(options.addr)).await
    else {
        return Some(Problem::Unresponsive);
    };
    let _ = stream.set_nodelay(true);
    let pieces: Vec<&[u8]> = match case.chunk {
        Some(n) => case.bytes.chunks(n).collect(),
        None => vec![&case.bytes],
    };
    // Every write and read of the case shares one deadline, checked before each step: a server
    // that stops reading, or streams without pause, cannot stretch a case.
    let deadline = Instant::now() + options.timeout;
    for piece in pieces {
        match tokio::time::timeout_at(deadline.into(), stream.write_all(piece)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return None, // closed on us mid-case: a rejection, not a hang
            Err(_) => return Some(Problem::Silent), // not reading: wedged on this connection
        }
    }
    let ending = ending(&case.bytes, options.flavor.request_dialect());
    if case.disconnect || ending == Ending::Incomplete {
        return None;
    }
    let (request, expected) = probe(options.flavor.request_dialect());
    let mut encoded = bytes::BytesMut::new();
    crate::resp::encode_into(&request, options.flavor.request_dialect(), &mut encoded);
    if tokio::time::timeout_at(deadline.into(), stream.write_all(&encoded))
        .await
        .is_err()
    {
        return Some(Problem::Silent);
    }
    // Read until the probe's reply shows up at the end, the server closes, or time (or the
    // reply budget) runs out. Only the tail is kept: whether it ends with the probe's reply is
    // all that is asked, so memory stays one chunk whatever the server sends.
    let mut tail: Vec<u8> = Vec::new();
    let mut received: usize = 0;
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        if Instant::now() >= deadline || received > options.budget.max_bytes {
            return Some(if received == 0 {
                Problem::Silent
            } else {
                Problem::OutOfSync
            });
        }
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return None, // closed: the server rejected and hung up
            Ok(Ok(n)) => {
                received += n;
                tail.extend_from_slice(chunk.get(..n).unwrap_or_default());
                let keep = tail.len().saturating_sub(expected.len());
                if tail.ends_with(expected) {
                    let nothing_else = received == expected.len();
                    return (ending == Ending::Malformed && nothing_else)
                        .then_some(Problem::Swallowed);
                }
                tail.drain(..keep);
            }
            Err(_) if received == 0 => return Some(Problem::Silent),
            Err(_) => return Some(Problem::OutOfSync),
        }
    }
}

/// A finding as a scenario, written through the conformance crate's one scenario writer: the
/// case's bytes sent raw, and any reply (or a close) accepted, since the finding is that the
/// server went silent or away. Its id comes from its file name, as for every scenario.
fn scenario_text(
    path: &Path,
    seed: u64,
    index: usize,
    case: &Case,
    problem: Problem,
    flavor: Flavor,
) -> Result<String, String> {
    let scenario = Scenario {
        path: path.to_path_buf(),
        id: id_from_path(Path::new(path.file_name().unwrap_or_default())),
        title: format!(
            "{problem:?} after {} (respect fuzz --rng-seed {seed}, case {index})",
            case.name
        ),
        tags: vec!["netfuzz".into(), "malformed".into()],
        needs: Vec::new(),
        flavor,
        verdict: verdict_of(path),
        destructive: false,
        global: false,
        since: None,
        cluster: Default::default(),
        steps: vec![
            Step::Send {
                line: 0,
                bytes: case.bytes.clone(),
                command: None,
            },
            Step::Expect(Expectation {
                line: 0,
                lines: (0, 0),
                alternatives: vec![Matcher::Any],
                repeated: false,
                versioned: Vec::new(),
            }),
        ],
    };
    write::scenario_text(&scenario).map_err(|e| e.to_string())
}

/// Runs the fuzzer. Refuses addresses that are not on this machine.
pub async fn fuzz(
    options: &FuzzOptions,
    progress: &(dyn Fn(usize, &Case) + Sync),
) -> Result<FuzzReport, String> {
    if !options.addr.ip().is_loopback() {
        return Err(format!(
            "{} is not a loopback address: respect fuzz only targets servers on this machine",
            options.addr
        ));
    }
    if !alive(options).await {
        return Err(format!(
            "{} does not answer the probe before fuzzing starts",
            options.addr
        ));
    }
    let started = Instant::now();
    let mut rng = Rng::new(options.rng_seed);
    let mut findings = Vec::new();
    let mut cases = 0;
    let grammar = options
        .grammar
        .then(|| grammar::Grammar::from_registry(options.flavor));
    while cases < options.runs && started.elapsed() < options.duration {
        let case = case_with(&mut rng, options.flavor.request_dialect(), grammar.as_ref());
        progress(cases, &case);
        let mut problem = run_case(options, &case).await;
        let mut down = false;
        // One missed probe on a loaded machine is not a verdict: a second, at once, confirms
        // it (a hung server misses both).
        if !alive(options).await && !alive(options).await {
            problem = Some(Problem::Unresponsive);
            // Give a busy server (deep recursion, a huge allocation) time to come back.
            down = true;
            for _ in 0..RECOVERY_PROBES {
                if alive(options).await {
                    down = false;
                    break;
                }
                tokio::time::sleep(options.timeout).await;
            }
        }
        if let Some(problem) = problem {
            let mut files = Vec::new();
            if let Some(dir) = &options.out {
                let stem = dir.join(format!("n_netfuzz_{}_{cases}", options.rng_seed));
                let scenario = stem.with_extension("scenario");
                let raw = stem.with_extension("bin");
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                std::fs::write(
                    &scenario,
                    scenario_text(
                        &scenario,
                        options.rng_seed,
                        cases,
                        &case,
                        problem,
                        options.flavor,
                    )?,
                )
                .map_err(|e| e.to_string())?;
                std::fs::write(&raw, &case.bytes).map_err(|e| e.to_string())?;
                files = vec![scenario.display().to_string(), raw.display().to_string()];
            }
            let shown = escape_bytes(case.bytes.get(..200).unwrap_or(&case.bytes));
            findings.push(Finding {
                case: cases,
                name: case.name.clone(),
                problem,
                bytes: shown,
                files,
            });
            if down {
                cases += 1;
                break; // the server is gone: nothing more to learn
            }
        }
        cases += 1;
    }
    cleanup(options).await;
    Ok(FuzzReport {
        cases,
        rng_seed: options.rng_seed,
        millis: started.elapsed().as_millis(),
        findings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding's file replays exactly the bytes that broke the server, whatever they are.
    #[test]
    fn a_finding_reads_back_as_the_bytes_that_broke_the_server() {
        let mut rng = Rng::new(3);
        for index in 0..200 {
            let flavor = if index % 2 == 0 {
                Flavor::Redis
            } else {
                Flavor::Seed
            };
            let case = case(&mut rng, flavor.request_dialect());
            let path = PathBuf::from(format!("findings/n_netfuzz_3_{index}.scenario"));
            let text = scenario_text(&path, 3, index, &case, Problem::Silent, flavor)
                .expect("a finding is writable");
            let parsed = Scenario::parse(&path, &text).expect("a finding parses");
            assert_eq!(parsed.id, format!("netfuzz-3-{index}"));
            assert_eq!(parsed.flavor, flavor);
            match parsed.steps.as_slice() {
                [Step::Send { bytes, .. }, Step::Expect(e)] => {
                    assert_eq!(bytes, &case.bytes, "{text}");
                    assert_eq!(e.alternatives, vec![Matcher::Any]);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
