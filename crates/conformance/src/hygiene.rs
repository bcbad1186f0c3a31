//! Key hygiene: a run leaves the server as it found it. Before and after each scenario the
//! runner deletes exactly that scenario's own keys (those under its `{{k}}` prefix, found with
//! `SCAN MATCH` and removed with `UNLINK`), and the keys it names outside its prefix, which it
//! may only use when the server does not already hold them (else the scenario is SKIPPED, so a
//! user's key is never overwritten). Nothing else is read or written: no FLUSH, no KEYS.
//!
//! Only the Redis flavor is cleaned this way; the seed dialect has no SCAN.

use bytes::Bytes;
use respect_client::Client;
use respect_resp::{Flavor, Frame};

use super::keys::foreign_keys;
use super::scenario::Scenario;

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

/// The keys under `prefix` that the server holds, by SCAN MATCH.
async fn keys_under(client: &mut Client, prefix: &[u8]) -> Result<Vec<Bytes>, String> {
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
        let reply = client.call(&args).await.map_err(|e| e.to_string())?;
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

/// Deletes `keys` (UNLINK, or DEL where UNLINK is unknown).
async fn delete(client: &mut Client, keys: &[Bytes]) -> Result<(), String> {
    for batch in keys.chunks(500) {
        let mut args: Vec<&[u8]> = vec![b"UNLINK"];
        args.extend(batch.iter().map(|k| k.as_ref()));
        let reply = client.call(&args).await.map_err(|e| e.to_string())?;
        if reply.is_error() {
            args[0] = b"DEL";
            let reply = client.call(&args).await.map_err(|e| e.to_string())?;
            if reply.is_error() {
                return Err(format!("cannot delete the scenario's keys: {reply}"));
            }
        }
    }
    Ok(())
}

/// Which of `scenario`'s keys outside its prefix the server already holds: the scenario would
/// overwrite a key that is not its own, so it must not run.
pub async fn occupied_foreign_keys(
    client: &mut Client,
    scenario: &Scenario,
) -> Result<Vec<Bytes>, String> {
    let mut held = Vec::new();
    if scenario.flavor != Flavor::Redis {
        return Ok(held);
    }
    for key in foreign_keys(scenario) {
        let args: [&[u8]; 2] = [b"EXISTS", &key];
        if client.call(&args).await.map_err(|e| e.to_string())? == Frame::Integer(1) {
            held.push(key);
        }
    }
    Ok(held)
}

/// Deletes every key of `scenario`'s: under its prefix, and those it names outside it (which
/// the runner checked were absent before it ran). A no-op for the seed flavor.
pub async fn clean(client: &mut Client, scenario: &Scenario) -> Result<(), String> {
    if scenario.flavor != Flavor::Redis {
        return Ok(());
    }
    let mut keys = keys_under(client, scenario.key_prefix().as_bytes()).await?;
    keys.extend(foreign_keys(scenario));
    keys.sort();
    keys.dedup();
    if keys.is_empty() {
        return Ok(());
    }
    delete(client, &keys).await
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
