//! Key hygiene: a run leaves the server as it found it. Before and after each scenario the
//! runner deletes exactly that scenario's own keys, and the keys it names outside its prefix,
//! which it may only use when the server does not already hold them (else the scenario is
//! SKIPPED, so a user's key is never overwritten). Nothing else is read or written: no FLUSH,
//! no KEYS.
//!
//! Two ways find the keys, chosen once per run by [`detect`]:
//!
//! - the exact list, always: every key the scenario's requests name, found through the
//!   command registry's key positions ([`super::keys::scenario_keys`]), deleted with `DEL`
//!   (one per hash slot, so that a cluster accepts it) or, in the seed dialect, one `DELETE`
//!   per key;
//! - `SCAN MATCH <prefix>*` as a safety net, for keys a scenario creates without naming them,
//!   where the server has SCAN ([`Cleanup::ScanAndExact`]). Proxies (twemproxy) and the seed
//!   dialect have none: there the exact list is all ([`Cleanup::ExactOnly`]).
//!
//! On a cluster the commands go through a [`Link`], which follows `-MOVED` and `-ASK`; a
//! scenario's own keys share one slot (its hash tag), so SCAN on that slot's master sees them
//! all.

use std::net::SocketAddr;

use bytes::Bytes;
use respect_resp::{Dialect, Flavor, Frame};

use super::cluster::{key_slot, Link};
use super::keys::{foreign_keys, scenario_keys};
use super::runner::{connect, RunOptions};
use super::scenario::template::run_token;
use super::scenario::Scenario;

/// How a run finds the keys it deletes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Cleanup {
    /// The keys the scenario names, then SCAN for any others under its prefix.
    #[default]
    ScanAndExact,
    /// Only the keys the scenario names: the server has no SCAN.
    ExactOnly,
}

impl std::fmt::Display for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cleanup::ScanAndExact => "keys cleaned by name and SCAN",
            Cleanup::ExactOnly => "keys cleaned by name only (no SCAN)",
        })
    }
}

/// Most keys in one `DEL`.
pub const MAX_KEYS_PER_DEL: usize = 500;

/// Most SCAN round trips one cleanup makes: a bound on the loop a server's cursor drives, far
/// above what a scenario's few keys need (SCAN visits every key at most once per full cycle).
pub const MAX_SCAN_ROUNDS: usize = 100_000;

/// Keys asked for per SCAN call.
const SCAN_COUNT: &str = "1000";

/// `text` with the glob's special characters escaped, so it matches only itself.
fn glob_literal(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Which cleanup the server at `addr` allows: SCAN with a pattern no key matches, on a
/// connection of its own (a proxy may close the connection on a command it does not know).
pub async fn detect(addr: SocketAddr, flavor: Flavor, options: &RunOptions) -> Cleanup {
    if flavor != Flavor::Redis {
        return Cleanup::ExactOnly;
    }
    let Ok(mut client) = connect(addr, Dialect::Resp2, options).await else {
        return Cleanup::ExactOnly;
    };
    let pattern = format!("respect:{{{}:}}:probe", run_token());
    match client
        .call(&["SCAN", "0", "MATCH", pattern.as_str(), "COUNT", "1"])
        .await
    {
        Ok(Frame::Array(_)) => Cleanup::ScanAndExact,
        _ => Cleanup::ExactOnly,
    }
}

/// The keys under `prefix` that the server holds, by SCAN MATCH.
async fn keys_under(link: &mut Link<'_>, prefix: &[u8]) -> Result<Vec<Bytes>, String> {
    let mut pattern = glob_literal(prefix);
    pattern.push(b'*');
    let mut cursor = Bytes::from_static(b"0");
    let mut found = Vec::new();
    for _ in 0..MAX_SCAN_ROUNDS {
        let args: [&[u8]; 6] = [
            b"SCAN",
            &cursor,
            b"MATCH",
            &pattern,
            b"COUNT",
            SCAN_COUNT.as_bytes(),
        ];
        let reply = link.call(&args).await?;
        let Frame::Array(parts) = &reply else {
            return Err(format!("SCAN answered {reply}"));
        };
        let (Some(next), Some(Frame::Array(keys))) =
            (parts.first().and_then(Frame::as_bytes), parts.get(1))
        else {
            return Err(format!("SCAN answered {reply}"));
        };
        found.extend(keys.iter().filter_map(Frame::as_bytes).cloned());
        if next.as_ref() == b"0" {
            return Ok(found);
        }
        cursor = next.clone();
    }
    Err(format!("SCAN did not finish in {MAX_SCAN_ROUNDS} rounds"))
}

/// Deletes `keys`: in the Redis flavor one `DEL` per hash slot (at most [`MAX_KEYS_PER_DEL`]
/// keys each), in the seed dialect one `DELETE` per key.
async fn delete(link: &mut Link<'_>, flavor: Flavor, keys: &[Bytes]) -> Result<(), String> {
    if flavor != Flavor::Redis {
        for key in keys {
            let reply = link.call(&[b"DELETE", key]).await?;
            if reply.is_error() {
                return Err(format!("cannot delete the scenario's keys: {reply}"));
            }
        }
        return Ok(());
    }
    let mut by_slot: Vec<(u16, &Bytes)> = keys.iter().map(|k| (key_slot(k), k)).collect();
    by_slot.sort();
    for slot in by_slot.chunk_by(|a, b| a.0 == b.0) {
        for batch in slot.chunks(MAX_KEYS_PER_DEL) {
            let mut args: Vec<&[u8]> = vec![b"DEL"];
            args.extend(batch.iter().map(|(_, k)| k.as_ref()));
            let reply = link.call(&args).await?;
            if reply.is_error() {
                return Err(format!("cannot delete the scenario's keys: {reply}"));
            }
        }
    }
    Ok(())
}

/// Whether the server holds `key`. The cleanup deletes the key when not, so only a clear
/// "no" counts as one: Redis's `TYPE` answering `+none` (a status, not an integer: a server
/// wrong about integers still answers it right), the seed dialect's `EXISTS` answering `:0`.
/// Any other type or count is "held"; an error is an `Err` (the harness cannot tell).
async fn holds(link: &mut Link<'_>, flavor: Flavor, key: &[u8]) -> Result<bool, String> {
    let (command, absent): (&[u8], Frame) = match flavor {
        Flavor::Redis => (b"TYPE", Frame::Simple("none".into())),
        _ => (b"EXISTS", Frame::Integer(0)),
    };
    match link.call(&[command, key]).await? {
        reply if reply == absent => Ok(false),
        Frame::Simple(_) | Frame::Integer(_) => Ok(true),
        other => Err(format!(
            "{} {} answered {other}: cannot tell whether the server holds it",
            String::from_utf8_lossy(command),
            respect_resp::escape_bytes(key)
        )),
    }
}

/// Which of `scenario`'s keys outside its prefix the server already holds: the scenario would
/// overwrite a key that is not its own, so it must not run.
pub async fn occupied_foreign_keys(
    link: &mut Link<'_>,
    scenario: &Scenario,
) -> Result<Vec<Bytes>, String> {
    let mut held = Vec::new();
    for key in foreign_keys(scenario) {
        if holds(link, scenario.flavor, &key).await? {
            held.push(key);
        }
    }
    Ok(held)
}

/// After an interrupted run against `addr` (every master, on a cluster): deletes every key
/// under this run's prefixes (`respect:{<run>:`), which only this process writes, and returns
/// how many. `Err` where the server has no SCAN: the caller says what may be left.
pub async fn clean_run(
    addr: SocketAddr,
    flavor: Flavor,
    options: &RunOptions,
) -> Result<usize, String> {
    let prefix = format!("respect:{{{}:", run_token());
    if flavor != Flavor::Redis || options.cleanup == Cleanup::ExactOnly {
        return Err(format!(
            "the server has no SCAN to find keys under {prefix}"
        ));
    }
    let cluster = options.cluster.as_deref();
    let nodes = cluster.map_or_else(|| vec![addr], |c| c.masters());
    let mut deleted = 0;
    for node in nodes {
        let mut link = Link::open(node, cluster, options).await?;
        let keys = keys_under(&mut link, prefix.as_bytes()).await?;
        delete(&mut link, flavor, &keys).await?;
        deleted += keys.len();
    }
    Ok(deleted)
}

/// Deletes every key of `scenario`'s: those it names (under its prefix, and outside it, which
/// the runner checked were absent before it ran), then, with [`Cleanup::ScanAndExact`], any
/// other under its prefix.
pub async fn clean(
    link: &mut Link<'_>,
    scenario: &Scenario,
    cleanup: Cleanup,
) -> Result<(), String> {
    let mut keys = scenario_keys(scenario);
    keys.sort();
    keys.dedup();
    delete(link, scenario.flavor, &keys).await?;
    if cleanup == Cleanup::ExactOnly || scenario.flavor != Flavor::Redis {
        return Ok(());
    }
    let left = keys_under(link, scenario.key_prefix().as_bytes()).await?;
    if left.is_empty() {
        return Ok(());
    }
    delete(link, scenario.flavor, &left).await
}

#[cfg(test)]
mod tests {
    use super::glob_literal;

    #[test]
    fn glob_characters_match_only_themselves() {
        assert_eq!(
            glob_literal(b"respect:a*b?[c]\\:"),
            b"respect:a\\*b\\?\\[c\\]\\\\:"
        );
    }
}
