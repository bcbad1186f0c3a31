//! Grading: every selected client scenario against every driver, one verdict each.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::driver::{Answer, Case, Driver};
use super::scenario::{ClientScenario, ErrorKind, Expect};
use super::server::ScriptedServer;
use super::value::error_text_matches;
use crate::scenario::Verdict as FileVerdict;

/// The verdict for one scenario and one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grade {
    /// What the scenario expects, every distinction kept.
    Pass,
    /// The value, with a distinction lost (the ladder of [`super::value::Loose`]), or an
    /// `i_` scenario answered otherwise.
    NonStrict,
    /// The library cannot speak the scenario's protocol (RESP3).
    Unsupported,
    /// A wrong value or error.
    Fail,
    /// No answer within the case's timeout.
    Hang,
    /// The driver died, or the library failed with an internal error.
    Crash,
}

/// A grade is written as its [`Grade::label`], the one spelling reports use.
impl serde::Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

impl Grade {
    /// The label reports print.
    pub fn label(self) -> &'static str {
        match self {
            Grade::Pass => "PASS",
            Grade::NonStrict => "NON-STRICT",
            Grade::Unsupported => "UNSUPPORTED",
            Grade::Fail => "FAIL",
            Grade::Hang => "HANG",
            Grade::Crash => "CRASH",
        }
    }

    /// Every grade, in report order.
    pub const ALL: [Grade; 6] = [
        Grade::Pass,
        Grade::NonStrict,
        Grade::Unsupported,
        Grade::Fail,
        Grade::Hang,
        Grade::Crash,
    ];

    /// Whether the run exits 1 for it.
    pub fn failed(self) -> bool {
        matches!(self, Grade::Fail | Grade::Hang | Grade::Crash)
    }
}

/// Grades an answer against the scenario's expectation.
pub fn grade(s: &ClientScenario, answer: &Answer) -> (Grade, String) {
    let (g, detail) = grade_strict(s, answer);
    // An `i_` scenario states one reasonable behaviour; another is reported, not failed. A
    // library that ran into its own timeout did neither: it waited for bytes that will never
    // come (without a timeout it would hang), so that stays a FAIL.
    let timed_out = matches!(answer, Answer::Error(ErrorKind::Timeout, _));
    if s.verdict == FileVerdict::ImplementationDefined && g == Grade::Fail && !timed_out {
        return (Grade::NonStrict, detail);
    }
    (g, detail)
}

fn describe(answer: &Answer) -> String {
    match answer {
        Answer::Value(v) => format!("value {}", v.to_json()),
        Answer::Error(kind, m) => format!("{} error: {m}", kind.name()),
        Answer::Unsupported(why) => format!("unsupported: {why}"),
        Answer::Hang => "no answer in time (killed)".into(),
        Answer::Crash(why) => format!("crash: {why}"),
    }
}

fn grade_strict(s: &ClientScenario, answer: &Answer) -> (Grade, String) {
    let got = describe(answer);
    match answer {
        Answer::Hang => return (Grade::Hang, got),
        Answer::Crash(_) | Answer::Error(ErrorKind::Internal, _) => return (Grade::Crash, got),
        Answer::Unsupported(_) => return (Grade::Unsupported, got),
        _ => {}
    }
    match (&s.expect, answer) {
        (Expect::Survive, _) => (Grade::Pass, got),
        (Expect::Value(want), Answer::Value(v)) if v.strict_eq(want) => (Grade::Pass, got),
        (Expect::Value(want), Answer::Value(v)) if v.loose_eq(want) => (
            Grade::NonStrict,
            format!("{got}; expected {}", want.to_json()),
        ),
        (Expect::Value(want), _) => (
            Grade::Fail,
            format!("{got}; expected value {}", want.to_json()),
        ),
        (Expect::ServerError(want), Answer::Error(ErrorKind::Server, m))
            if error_text_matches(m.as_bytes(), want.as_bytes()) =>
        {
            (Grade::Pass, got)
        }
        (Expect::ServerError(want), _) => {
            (Grade::Fail, format!("{got}; expected server error {want}"))
        }
        (Expect::Error(kinds), Answer::Error(k, _)) if kinds.contains(k) => (Grade::Pass, got),
        (Expect::Error(kinds), _) => {
            let names = ErrorKind::names(kinds, " or ");
            (Grade::Fail, format!("{got}; expected a {names} error"))
        }
    }
}

/// One scenario's verdict for one client.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientResult {
    /// The driver.
    pub client: String,
    /// The scenario's id.
    pub id: String,
    /// Its file.
    pub path: String,
    /// Its title.
    pub title: String,
    /// The verdict.
    pub grade: Grade,
    /// What the library did, and what was expected when they differ.
    pub detail: String,
    /// Time taken.
    pub millis: u128,
}

/// One driver's run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClientRun {
    /// The driver's name.
    pub client: String,
    /// What it said it is, or why it could not start.
    pub library: String,
    /// Whether it started at all.
    pub started: bool,
    /// A verdict per scenario.
    pub results: Vec<ClientResult>,
}

impl ClientRun {
    /// Count of each grade, in [`Grade::ALL`]'s order.
    pub fn counts(&self) -> [usize; 6] {
        let mut c = [0; 6];
        for r in &self.results {
            if let Some(i) = Grade::ALL.iter().position(|g| *g == r.grade) {
                if let Some(slot) = c.get_mut(i) {
                    *slot += 1;
                }
            }
        }
        c
    }

    /// The counts in words, every grade in [`Grade::ALL`]'s order: `3 PASS, 0 NON-STRICT, ...`.
    pub fn summary(&self) -> String {
        Grade::ALL
            .iter()
            .zip(self.counts())
            .map(|(g, n)| format!("{n} {}", g.label()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs every scenario through one driver, one scripted server per case; `timeout` is the
/// case's limit unless the scenario sets its own.
pub async fn run_driver(
    driver: &mut Driver,
    scenarios: &[Arc<ClientScenario>],
    timeout: Duration,
    progress: &(dyn Fn(&ClientResult) + Sync),
) -> ClientRun {
    let library = match driver.start().await {
        Ok(l) => l,
        Err(e) => {
            return ClientRun {
                client: driver.name.clone(),
                library: e,
                started: false,
                results: Vec::new(),
            }
        }
    };
    let mut results = Vec::with_capacity(scenarios.len());
    for s in scenarios {
        let started = Instant::now();
        let (g, detail) = match ScriptedServer::start(Arc::clone(s)).await {
            Ok(server) => {
                let case = Case {
                    id: &s.id,
                    port: server.addr().port(),
                    protocol: s.protocol,
                    argv: &s.request,
                    timeout: s.timeout.unwrap_or(timeout),
                };
                let answer = driver.run_case(&case).await;
                drop(server);
                grade(s, &answer)
            }
            Err(e) => (
                Grade::Crash,
                format!("cannot start the scripted server: {e}"),
            ),
        };
        let r = ClientResult {
            client: driver.name.clone(),
            id: s.id.clone(),
            path: s.path.display().to_string(),
            title: s.title.clone(),
            grade: g,
            detail,
            millis: started.elapsed().as_millis(),
        };
        progress(&r);
        results.push(r);
    }
    driver.shutdown().await;
    ClientRun {
        client: driver.name.clone(),
        library,
        started: true,
        results,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn fixtures() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
    }

    fn grades(run: &ClientRun) -> Vec<(&str, Grade)> {
        run.results
            .iter()
            .map(|r| (r.id.as_str(), r.grade))
            .collect()
    }

    /// A driver that hangs is killed and the next case gets a new one; one that dies, prints
    /// garbage or reports an internal error is CRASH.
    #[tokio::test]
    async fn hang_and_crash_are_graded_and_the_driver_comes_back() {
        let dir = fixtures();
        let scenarios: Vec<Arc<ClientScenario>> =
            super::super::load_client_dir(&dir.join("clients-scenarios"))
                .expect("fixture scenarios")
                .into_iter()
                .map(Arc::new)
                .collect();
        let mut driver = Driver::new(&dir.join("clients"), "scripted");
        let run = run_driver(&mut driver, &scenarios, Duration::from_secs(5), &|_| {}).await;
        assert!(run.started, "{}", run.library);
        assert_eq!(run.library, "fixture 1");
        assert_eq!(
            grades(&run),
            [
                ("t.closed", Grade::Pass),
                ("t.die", Grade::Crash),
                ("t.garbage", Grade::Crash),
                ("t.hang", Grade::Hang),
                ("t.internal", Grade::Crash),
                ("t.ok", Grade::NonStrict),
                ("t.ok-after-hang", Grade::NonStrict),
                ("t.unsupported", Grade::Unsupported),
            ]
        );
        let died = run
            .results
            .iter()
            .find(|r| r.id == "t.die")
            .map(|r| r.detail.as_str());
        assert!(
            died.is_some_and(|d| d.contains("dying on purpose") && d.contains('3')),
            "{died:?}"
        );
    }

    #[tokio::test]
    async fn a_driver_that_cannot_start_is_not_run() {
        let dir = fixtures();
        let mut driver = Driver::new(&dir.join("clients"), "silent-start");
        let run = run_driver(&mut driver, &[], Duration::from_secs(1), &|_| {}).await;
        assert!(!run.started);
        assert!(
            run.library.contains("cannot import the library"),
            "{}",
            run.library
        );
        let mut missing = Driver::new(&dir.join("clients"), "no-such-driver");
        let run = run_driver(&mut missing, &[], Duration::from_secs(1), &|_| {}).await;
        assert!(
            !run.started && run.library.contains("cannot start"),
            "{}",
            run.library
        );
    }

    #[test]
    fn answers_are_graded_against_expectations() {
        use super::super::driver::parse_answer;
        let root = Path::new("c");
        let s = |text: &str, name: &str| {
            ClientScenario::parse_under(root, &root.join(name), text).expect("parses")
        };
        let value = s(
            "# request: GET k\n< +OK\n? value {\"simple\": \"OK\"}\n",
            "a/y_v.scenario",
        );
        let server = s(
            "# request: GET k\n< -ERR boom\n? error server ERR boom\n",
            "a/y_e.scenario",
        );
        let kinds = s(
            "# request: GET k\n< $-2\n? error protocol connection\n",
            "a/n_k.scenario",
        );
        let loose = s(
            "# request: GET k\n< $-2\n? error protocol\n",
            "a/i_k.scenario",
        );
        let g = |s: &ClientScenario, line: &str| grade(s, &parse_answer(line)).0;
        assert_eq!(g(&value, r#"{"value": {"simple": "OK"}}"#), Grade::Pass);
        assert_eq!(g(&value, r#"{"value": {"bulk": "OK"}}"#), Grade::NonStrict);
        assert_eq!(g(&value, r#"{"value": {"bulk": "KO"}}"#), Grade::Fail);
        assert_eq!(g(&value, r#"{"value": {"nope": 1}}"#), Grade::Crash);
        assert_eq!(
            g(
                &server,
                r#"{"error": {"kind": "server", "message": "boom"}}"#
            ),
            Grade::Pass
        );
        assert_eq!(
            g(
                &server,
                r#"{"error": {"kind": "server", "message": "ERR boom"}}"#
            ),
            Grade::Pass
        );
        assert_eq!(
            g(
                &server,
                r#"{"error": {"kind": "server", "message": "bang"}}"#
            ),
            Grade::Fail
        );
        assert_eq!(
            g(
                &kinds,
                r#"{"error": {"kind": "connection", "message": ""}}"#
            ),
            Grade::Pass
        );
        assert_eq!(g(&kinds, r#"{"value": {"null": null}}"#), Grade::Fail);
        assert_eq!(g(&kinds, r#"{"error": {"kind": "weird"}}"#), Grade::Crash);
        assert_eq!(
            g(&loose, r#"{"value": {"null": null}}"#),
            Grade::NonStrict,
            "i_ never fails"
        );
        assert_eq!(g(&loose, "[1"), Grade::Crash);
        let timeout = r#"{"error": {"kind": "timeout", "message": "read timed out"}}"#;
        assert_eq!(
            g(&loose, timeout),
            Grade::Fail,
            "a timeout is no answer, even for i_"
        );
    }
}
