//! `respect diff`: where two servers answer the same scenarios differently.
//!
//! Every scenario runs on both servers at once (scenarios `jobs` at a time, as `run` does, with
//! the same SKIPPED rules and key hygiene), every reply of every step is captured, and replies
//! are compared pairwise. Two replies agree when their bytes are equal, or when both match the
//! same loose form of the scenario's expectation (`<~` unordered, `? type`, `? error`, `? any`):
//! a set's order or a SCAN cursor is not a difference between servers.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{RwLock, Semaphore};

use super::keys::foreign_keys;
use super::matcher::{clip, first_difference};
use super::runner::{capture_scenario, skip_reason, Captured, RunOptions};
use super::scenario::Scenario;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiffKind {
    /// One reply's bytes differ (and no loose form of the expectation covers both).
    Bytes,
    /// One server gave more replies than the other.
    ReplyCount,
    /// The scenario could not be completed on a server (timeout, refused, budget).
    Unrunnable,
}

impl DiffKind {
    /// As printed in the group heading.
    pub fn label(self) -> &'static str {
        match self {
            DiffKind::Bytes => "reply bytes differ",
            DiffKind::ReplyCount => "number of replies differs",
            DiffKind::Unrunnable => "could not run on one server",
        }
    }
}

/// One place where two servers answered a scenario differently.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Difference {
    /// Scenario id.
    pub id: String,
    /// Its file.
    pub path: String,
    /// What kind.
    pub kind: DiffKind,
    /// The scenario line of the expectation the replies answer.
    pub line: Option<usize>,
    /// Which reply of the scenario (1-based).
    pub reply: Option<usize>,
    /// The first differing byte of the two replies.
    pub at: Option<usize>,
    /// The first server's side, escaped (from the first differing byte, clipped).
    pub left: String,
    /// The second server's side, escaped.
    pub right: String,
}

/// The outcome of a whole diff.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DiffReport {
    /// Scenarios compared.
    pub compared: usize,
    /// Scenarios not run, with why.
    pub skipped: Vec<(String, String)>,
    /// Every difference, by scenario path then reply.
    pub differences: Vec<Difference>,
}

impl DiffReport {
    /// How many scenarios have at least one difference.
    pub fn differing_scenarios(&self) -> usize {
        let mut ids: Vec<&str> = self.differences.iter().map(|d| d.id.as_str()).collect();
        ids.dedup();
        ids.len()
    }
}

/// Compares two captures of one scenario, reply by reply: every difference, not the first.
pub fn compare(scenario: &Scenario, left: &[Captured], right: &[Captured]) -> Vec<Difference> {
    let mut out = Vec::new();
    let base = |kind, line, reply| Difference {
        id: scenario.id.clone(),
        path: scenario.path.display().to_string(),
        kind,
        line,
        reply,
        at: None,
        left: String::new(),
        right: String::new(),
    };
    for (index, (l, r)) in left.iter().zip(right).enumerate() {
        let same_loose = l.loose_match.is_some() && l.loose_match == r.loose_match;
        if l.raw == r.raw || same_loose {
            continue;
        }
        let at = first_difference(&l.raw, &r.raw);
        out.push(Difference {
            at: Some(at),
            left: clip(&l.raw, at),
            right: clip(&r.raw, at),
            ..base(DiffKind::Bytes, Some(l.lines.0), Some(index + 1))
        });
    }
    if left.len() != right.len() {
        let longer = if left.len() > right.len() {
            left
        } else {
            right
        };
        let first_extra = longer.get(left.len().min(right.len()));
        out.push(Difference {
            left: format!("{} replies", left.len()),
            right: format!("{} replies", right.len()),
            ..base(
                DiffKind::ReplyCount,
                first_extra.map(|c| c.lines.0),
                Some(left.len().min(right.len()) + 1),
            )
        });
    }
    out
}

/// Replays `scenario` on both servers at once and lists every difference.
pub async fn diff_scenario(
    a: SocketAddr,
    b: SocketAddr,
    scenario: &Scenario,
    options: &RunOptions,
) -> Vec<Difference> {
    let (left, right) = tokio::join!(
        capture_scenario(a, scenario, options),
        capture_scenario(b, scenario, options)
    );
    let unrunnable = |left: String, right: String| {
        vec![Difference {
            id: scenario.id.clone(),
            path: scenario.path.display().to_string(),
            kind: DiffKind::Unrunnable,
            line: None,
            reply: None,
            at: None,
            left,
            right,
        }]
    };
    match (left, right) {
        (Ok(l), Ok(r)) => compare(scenario, &l, &r),
        (Err(e), Ok(_)) => unrunnable(e, "ran".into()),
        (Ok(_), Err(e)) => unrunnable("ran".into(), e),
        // Both failed alike (e.g. both time out on a blocking command): no difference.
        (Err(x), Err(y)) if x == y => Vec::new(),
        (Err(x), Err(y)) => unrunnable(x, y),
    }
}

/// Diffs `scenarios` on `a` and `b` as `run` runs them: SKIPPED ones set aside, destructive
/// ones (with `allow_flush`) alone first, the rest `jobs` at a time, a scenario naming keys
/// outside its prefix with the servers to itself.
pub async fn diff_scenarios(
    a: SocketAddr,
    b: SocketAddr,
    scenarios: Vec<Scenario>,
    options: &RunOptions,
) -> DiffReport {
    let mut report = DiffReport::default();
    let mut runnable = Vec::new();
    for scenario in scenarios {
        match skip_reason(&scenario, options) {
            Some(why) => report.skipped.push((scenario.id.clone(), why)),
            None => runnable.push(scenario),
        }
    }
    report.compared = runnable.len();
    let (destructive, others): (Vec<_>, Vec<_>) = runnable.into_iter().partition(|s| s.destructive);
    for scenario in &destructive {
        report
            .differences
            .extend(diff_scenario(a, b, scenario, options).await);
    }
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let keyspace = Arc::new(RwLock::new(()));
    let options = Arc::new(options.clone());
    let mut tasks = Vec::new();
    for scenario in others {
        let (permits, keyspace, options) = (permits.clone(), keyspace.clone(), options.clone());
        let alone = !foreign_keys(&scenario).is_empty();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await;
            let (_whole, _shared);
            if alone {
                _whole = keyspace.write().await;
            } else {
                _shared = keyspace.read().await;
            }
            diff_scenario(a, b, &scenario, &options).await
        }));
    }
    for task in tasks {
        if let Ok(found) = task.await {
            report.differences.extend(found);
        }
    }
    report
        .differences
        .sort_by(|x, y| (&x.path, x.reply).cmp(&(&y.path, y.reply)));
    report
}

/// The report for a terminal: differences grouped by kind, each with where it is, the first
/// differing byte and both sides escaped; then one summary line.
pub fn render(report: &DiffReport, a: SocketAddr, b: SocketAddr) -> String {
    let mut out = String::new();
    for kind in [DiffKind::Bytes, DiffKind::ReplyCount, DiffKind::Unrunnable] {
        let group: Vec<&Difference> = report
            .differences
            .iter()
            .filter(|d| d.kind == kind)
            .collect();
        if group.is_empty() {
            continue;
        }
        out.push_str(&format!("== {} ({}) ==\n", kind.label(), group.len()));
        for d in group {
            let mut place = String::new();
            if let Some(line) = d.line {
                place.push_str(&format!(" line {line}"));
            }
            if let Some(reply) = d.reply {
                place.push_str(&format!(" reply {reply}"));
            }
            if let Some(at) = d.at {
                place.push_str(&format!(", first difference at byte {at}"));
            }
            out.push_str(&format!("{}  {}{place}\n", d.id, d.path));
            out.push_str(&format!("    {a}: \"{}\"\n", d.left));
            out.push_str(&format!("    {b}: \"{}\"\n", d.right));
        }
    }
    out.push_str(&format!(
        "{} differences in {} of {} scenarios between {a} and {b} ({} skipped)\n",
        report.differences.len(),
        report.differing_scenarios(),
        report.compared,
        report.skipped.len()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured(line: usize, raw: &[u8], loose_match: Option<usize>) -> Captured {
        Captured {
            lines: (line, line),
            repeated: false,
            raw: raw.to_vec(),
            loose_match,
        }
    }

    #[test]
    fn every_differing_reply_is_listed_and_loose_matches_agree() {
        let scenario = Scenario::parse(
            std::path::Path::new("t.scenario"),
            "# id: t\n> PING\n< +PONG\n",
        )
        .expect("parses");
        let left = [
            captured(3, b"+PONG\r\n", None),
            captured(5, b"*2\r\n$1\r\na\r\n$1\r\nb\r\n", Some(0)),
            captured(7, b":1\r\n", None),
            captured(9, b":5\r\n", None),
        ];
        let right = [
            captured(3, b"+PONG\r\n", None),
            // The same set in another order: both matched the `<~` form.
            captured(5, b"*2\r\n$1\r\nb\r\n$1\r\na\r\n", Some(0)),
            captured(7, b":2\r\n", None),
        ];
        let found = compare(&scenario, &left, &right);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].kind, DiffKind::Bytes);
        assert_eq!(
            (found[0].line, found[0].reply, found[0].at),
            (Some(7), Some(3), Some(1))
        );
        assert_eq!(found[1].kind, DiffKind::ReplyCount);
        assert_eq!(found[1].line, Some(9));
    }
}
