//! Drivers: one process per client library (`clients/<name>/run`), spoken to in JSON lines.
//!
//! respect writes one line per case to the driver's stdin:
//! `{"id": "...", "host": "127.0.0.1", "port": 40000, "protocol": 3, "argv": ["GET", "k"], "timeout": 5.0}`
//! and reads one line back: `{"value": V}` (V in the canonical grammar of [`super::value`]),
//! `{"error": {"kind": "server|protocol|connection|timeout|internal", "message": "..."}}`, or
//! `{"unsupported": "why"}`. Before the first case the driver prints one line,
//! `{"driver": "NAME", "library": "redis-py 8.1.0"}`. Every wait has a deadline: a driver that
//! does not answer in time is killed (HANG) and started again for the next case; one that
//! exits or prints something unreadable is CRASH.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::scenario::ErrorKind;
use super::value::Value;

/// Longest line read from a driver.
pub const MAX_LINE: usize = 16 * 1024 * 1024;
/// How long a driver may take to start and print its first line the first time (its run
/// script may install or build the library first: `npm ci`, `pip install`, `cargo build`).
pub const START_DEADLINE: Duration = Duration::from_secs(600);
/// How long a driver that has started once may take to start again after a HANG or CRASH:
/// what the first start installed or built is in place, so a driver that takes longer is
/// stuck, and every case after it would otherwise wait [`START_DEADLINE`] again.
pub const RESTART_DEADLINE: Duration = Duration::from_secs(30);
/// Added to a case's timeout before the driver is declared hung: the library's own timeout
/// is the case's, so it has this long to report it.
pub const GRACE: Duration = Duration::from_secs(2);
/// How much of a driver's stderr is kept for reports.
const STDERR_TAIL: usize = 4096;

/// One case, as sent to a driver.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    /// The scenario's id.
    pub id: &'a str,
    /// The scripted server's port (on 127.0.0.1).
    pub port: u16,
    /// 2 or 3.
    pub protocol: u8,
    /// The request.
    pub argv: &'a [String],
    /// The library's own timeout.
    pub timeout: Duration,
}

/// What a driver answered for one case.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// A value.
    Value(Value),
    /// An error of a kind.
    Error(ErrorKind, String),
    /// The library cannot speak what the case asks (RESP3).
    Unsupported(String),
    /// No answer in time: the driver was killed.
    Hang,
    /// The driver exited, or wrote something that is not an answer.
    Crash(String),
}

/// Reads one answer line (see the module doc).
pub fn parse_answer(line: &str) -> Answer {
    let j: Json = match serde_json::from_str(line) {
        Ok(j) => j,
        Err(e) => return Answer::Crash(format!("not a JSON line ({e}): {}", clip(line))),
    };
    if let Some(v) = j.get("value") {
        return match Value::from_json(v) {
            Ok(v) => Answer::Value(v),
            Err(e) => Answer::Crash(format!("not a canonical value ({e}): {}", clip(line))),
        };
    }
    if let Some(e) = j.get("error") {
        let kind = e
            .get("kind")
            .and_then(Json::as_str)
            .and_then(ErrorKind::parse);
        let message = e
            .get("message")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        return match kind {
            Some(kind) => Answer::Error(kind, message),
            None => Answer::Crash(format!("an error without a known kind: {}", clip(line))),
        };
    }
    if let Some(why) = j.get("unsupported") {
        return Answer::Unsupported(why.as_str().unwrap_or("").to_string());
    }
    Answer::Crash(format!("not an answer: {}", clip(line)))
}

fn clip(text: &str) -> String {
    let mut t: String = text.chars().take(300).collect();
    if t.len() < text.len() {
        t.push('…');
    }
    t
}

/// A running driver process.
struct Process {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The task that keeps the tail of stderr; it ends when the driver closes stderr.
    stderr_task: tokio::task::JoinHandle<()>,
}

impl Process {
    /// The tail of stderr once the driver has gone: waits (a second at most) for the reader
    /// to reach the end of the pipe, so that the last words are in.
    async fn last_words(&mut self) -> String {
        let _ = tokio::time::timeout(Duration::from_secs(1), &mut self.stderr_task).await;
        let tail = self.stderr.lock().map(|t| t.clone()).unwrap_or_default();
        String::from_utf8_lossy(&tail).trim().to_string()
    }
}

/// A driver: its program, and the process while one runs.
pub struct Driver {
    /// Its name (the folder under `clients/`).
    pub name: String,
    program: PathBuf,
    process: Option<Process>,
    /// What it said it is at its last start that succeeded (`redis-py 8.1.0`).
    pub library: Option<String>,
}

/// Reads a line of at most [`MAX_LINE`] bytes; `None` at the end of the stream or on a line
/// too long.
async fn read_line(stdout: &mut BufReader<ChildStdout>) -> Result<Option<String>, String> {
    let mut buf = Vec::new();
    let n = (&mut *stdout)
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut buf)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > MAX_LINE {
        return Err(format!("a line longer than {MAX_LINE} bytes"));
    }
    Ok(Some(String::from_utf8_lossy(&buf).trim_end().to_string()))
}

impl Driver {
    /// The driver `clients/<name>/run` under `dir`.
    pub fn new(dir: &Path, name: &str) -> Driver {
        Driver {
            name: name.to_string(),
            program: dir.join(name).join("run"),
            process: None,
            library: None,
        }
    }

    /// Starts the process if none runs, and reads its first line.
    async fn ensure_started(&mut self) -> Result<&mut Process, String> {
        if self.process.is_none() {
            let mut child = Command::new(&self.program)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
            let (Some(stdin), Some(stdout), Some(mut stderr)) =
                (child.stdin.take(), child.stdout.take(), child.stderr.take())
            else {
                return Err("the driver's pipes are missing".into());
            };
            let tail = Arc::new(Mutex::new(Vec::new()));
            let keep = Arc::clone(&tail);
            let stderr_task = tokio::spawn(async move {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stderr.read(&mut chunk).await {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut t) = keep.lock() {
                        t.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
                        let excess = t.len().saturating_sub(STDERR_TAIL);
                        t.drain(..excess);
                    }
                }
            });
            let mut process = Process {
                child,
                stdin,
                stdout: BufReader::new(stdout),
                stderr: tail,
                stderr_task,
            };
            // `library` is set by a first start that succeeded.
            let deadline = if self.library.is_some() {
                RESTART_DEADLINE
            } else {
                START_DEADLINE
            };
            let first = tokio::time::timeout(deadline, read_line(&mut process.stdout)).await;
            let line = match first {
                Ok(Ok(Some(line))) => line,
                Ok(Ok(None)) => {
                    let tail = process.last_words().await;
                    stop(process).await;
                    return Err(format!(
                        "the driver exited before its first line; stderr: {}",
                        clip(&tail)
                    ));
                }
                Ok(Err(e)) => {
                    stop(process).await;
                    return Err(e);
                }
                Err(_) => {
                    stop(process).await;
                    return Err(format!(
                        "the driver printed nothing in {} s",
                        deadline.as_secs()
                    ));
                }
            };
            let hello: Json = serde_json::from_str(&line).unwrap_or(Json::Null);
            let Some(library) = hello.get("library").and_then(Json::as_str) else {
                stop(process).await;
                return Err(format!(
                    "the driver's first line is not {{\"driver\", \"library\"}}: {}",
                    clip(&line)
                ));
            };
            self.library = Some(library.to_string());
            self.process = Some(process);
        }
        self.process
            .as_mut()
            .ok_or_else(|| "no process".to_string())
    }

    /// Starts the driver (if it is not running) and reports what it is.
    pub async fn start(&mut self) -> Result<String, String> {
        self.ensure_started().await?;
        Ok(self.library.clone().unwrap_or_default())
    }

    /// Runs one case: writes it, waits for the answer until the case's timeout plus
    /// [`GRACE`]. A hung driver is killed; a crashed one is reaped. Either way the next case
    /// starts a new process.
    pub async fn run_case(&mut self, case: &Case<'_>) -> Answer {
        let process = match self.ensure_started().await {
            Ok(p) => p,
            Err(e) => return Answer::Crash(e),
        };
        let line = json!({
            "id": case.id,
            "host": "127.0.0.1",
            "port": case.port,
            "protocol": case.protocol,
            "argv": case.argv,
            "timeout": case.timeout.as_secs_f64(),
        })
        .to_string();
        let exchange = async {
            process
                .stdin
                .write_all(line.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            process
                .stdin
                .write_all(b"\n")
                .await
                .map_err(|e| e.to_string())?;
            process.stdin.flush().await.map_err(|e| e.to_string())?;
            read_line(&mut process.stdout).await
        };
        let answer = match tokio::time::timeout(case.timeout + GRACE, exchange).await {
            Err(_) => Answer::Hang,
            Ok(Err(e)) => Answer::Crash(format!("the driver's pipes failed: {e}")),
            Ok(Ok(None)) => Answer::Crash(String::new()),
            Ok(Ok(Some(line))) => parse_answer(&line),
        };
        if matches!(answer, Answer::Hang | Answer::Crash(_)) {
            let detail = match &answer {
                Answer::Crash(m) if m.is_empty() => {
                    let status =
                        tokio::time::timeout(Duration::from_secs(2), process.child.wait()).await;
                    let status = match status {
                        Ok(Ok(s)) => s.to_string(),
                        _ => "still running".into(),
                    };
                    let tail = process.last_words().await;
                    Some(format!(
                        "the driver exited ({status}); stderr: {}",
                        clip(&tail)
                    ))
                }
                _ => None,
            };
            if let Some(p) = self.process.take() {
                stop(p).await;
            }
            if let Some(d) = detail {
                return Answer::Crash(d);
            }
        }
        answer
    }

    /// Ends the driver: closes its stdin, and kills it if it is not gone in a second.
    pub async fn shutdown(&mut self) {
        if let Some(p) = self.process.take() {
            let Process {
                mut child, stdin, ..
            } = p;
            drop(stdin);
            if tokio::time::timeout(Duration::from_secs(1), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

/// Kills a process (this process's child, by its handle) and reaps it.
async fn stop(p: Process) {
    let Process { mut child, .. } = p;
    let _ = child.kill().await;
}
