//! `respect record`: rewrite scenarios' expectations with what a trusted server answered, as a
//! reviewable diff.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use super::runner::{capture_scenario, RunOptions};
use super::scenario::write::expectation_lines;
use super::scenario::Scenario;

/// A scenario file rewritten from a server's replies.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// The file.
    pub path: std::path::PathBuf,
    /// Its text now.
    pub old: String,
    /// Its text with the recorded expectations.
    pub new: String,
}

/// Runs `scenario` on `addr` and rewrites each plain `<` block (no `{{` generators, no `<~`,
/// `<|` or `?` matchers) with the bytes the server sent. `None` if nothing changes.
pub async fn record_scenario(
    addr: SocketAddr,
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<Option<Rewrite>, String> {
    let old = std::fs::read_to_string(&scenario.path).map_err(|e| e.to_string())?;
    let captured = capture_scenario(addr, scenario, options).await?;
    let mut by_block: BTreeMap<(usize, usize), Vec<u8>> = BTreeMap::new();
    let mut repeated = std::collections::BTreeSet::new();
    for c in captured {
        if c.repeated {
            repeated.insert(c.lines);
        }
        by_block
            .entry(c.lines)
            .or_default()
            .extend_from_slice(&c.raw);
    }
    by_block.retain(|lines, _| !repeated.contains(lines));
    let lines: Vec<&str> = old.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut n = 1;
    while n <= lines.len() {
        let block = by_block.iter().find(|((first, _), _)| *first == n);
        if let Some((&(first, last), raw)) = block {
            let original = lines.get(first - 1..last).unwrap_or_default();
            let plain = original.iter().all(|l| l.starts_with("< ") || *l == "<")
                && !original.iter().any(|l| l.contains("{{"));
            if plain {
                out.extend(expectation_lines(raw));
                n = last + 1;
                continue;
            }
        }
        out.push(lines.get(n - 1).copied().unwrap_or_default().to_string());
        n += 1;
    }
    let mut new = out.join("\n");
    if old.ends_with('\n') {
        new.push('\n');
    }
    Ok((new != old).then(|| Rewrite {
        path: scenario.path.clone(),
        old,
        new,
    }))
}

/// A line diff of a rewrite, for review.
pub fn unified_diff(rewrite: &Rewrite) -> String {
    let old: Vec<&str> = rewrite.old.lines().collect();
    let new: Vec<&str> = rewrite.new.lines().collect();
    let mut out = format!(
        "--- {}\n+++ {} (recorded)\n",
        rewrite.path.display(),
        rewrite.path.display()
    );
    // Expectation blocks change in place, so a common prefix and suffix walk is enough.
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            i += 1;
            j += 1;
            continue;
        }
        let resync = (i..old.len()).find_map(|a| {
            (j..new.len())
                .find(|&b| old[a] == new[b] && a + 1 < old.len())
                .map(|b| (a, b))
        });
        let (a_end, b_end) = resync.unwrap_or((old.len(), new.len()));
        out.push_str(&format!("@@ line {} @@\n", i + 1));
        for line in &old[i..a_end] {
            out.push_str(&format!("-{line}\n"));
        }
        for line in &new[j..b_end] {
            out.push_str(&format!("+{line}\n"));
        }
        i = a_end;
        j = b_end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_bytes_become_lines_that_read_back() {
        let lines = expectation_lines(b"*2\r\n$4\r\na\r\nb\r\n:1\r\n");
        assert_eq!(lines, vec!["< *2", "< $4", "< a", "< b", "< :1"]);
        let lines = expectation_lines(b"$3\r\n\x00\xff\"\r\n");
        assert_eq!(lines, vec!["< $3", "< \\x00\\xff\\\""]);
    }
}
