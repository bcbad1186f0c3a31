//! Templates: what a scenario line may say in place of bytes, expanded by the parser.
//!
//! - `{{k}}`: the scenario's own key prefix in this run, `respect:{<run>:<id>}:`
//!   ([`run_key_prefix`]); scenarios run side by side on one keyspace, so each names keys only
//!   under its prefix, and each run under its own.
//! - `{{slot}}`: the Redis Cluster hash slot of the scenario's own keys in this run (for the
//!   `-MOVED <slot> host:port` a cluster answers).
//! - `{{C*N}}`: the byte `C` repeated `N` times (large values without large files).
//! - `{{$:TEXT}}`: TEXT as a RESP bulk string with its length counted, for raw `>>` lines.
//! - `{{#:TEXT}}`: the byte length of TEXT, for the `$<len>` line of an expected bulk string
//!   that names a key (`< ${{#:{{k}}a}}` then `< {{k}}a`).
//! - `{{i}}`: the repetition number (1..=N) under `! repeat N`, replaced after the line is
//!   parsed so that bulk lengths stay right.

use bytes::BytesMut;

use respect_resp::{encode_into, Decoder, Dialect, Frame, Limits, Role};

/// The repetition-number template.
pub const INDEX: &str = "{{i}}";

/// Largest value a `{{C*N}}` generator may produce (the codec's bulk limit).
pub const MAX_GENERATED_LEN: usize = respect_resp::DEFAULT_MAX_BULK_LEN;

/// Largest `! repeat` count.
pub const MAX_REPEAT: usize = 100_000;

/// The key prefix of the scenario `id`: `respect:<id>:`. The one place it is spelled, for the
/// parser's `{{k}}`, the runner's key checks and anything that names a scenario's keys.
pub fn key_prefix(id: &str) -> String {
    format!("respect:{id}:")
}

/// The key prefix of the scenario `id` in this run: `respect:{<run>:<id>}:`, what `{{k}}`
/// stands for. `<run>` ([`run_token`]) is unique to this process, so two runs against one
/// server (two users, two CI jobs, a run and the leftovers of a killed one) never share a key;
/// the braces make `<run>:<id>` a Redis Cluster hash tag, so a scenario's keys share one slot.
/// [`key_prefix`] stays the stable form for tools that must name the same keys every time.
pub fn run_key_prefix(id: &str) -> String {
    format!("respect:{{{}:{id}}}:", run_token())
}

/// Eight hex digits naming this process's run, drawn once from the clock and the process id.
pub fn run_token() -> &'static str {
    static TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TOKEN.get_or_init(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        // One xorshift round spreads the clock's low bits over the token.
        let mut x = (nanos as u64) ^ (u64::from(std::process::id()) << 32) | 1;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        format!("{:08x}", x as u32)
    })
}

/// `text` with every `{{k}}` replaced by the run's key prefix of `id` ([`run_key_prefix`]),
/// and every `{{slot}}` by the Redis Cluster hash slot of that prefix's keys (what a `-MOVED`
/// for them names).
pub fn with_key_prefix(text: &str, id: &str) -> String {
    let prefix = run_key_prefix(id);
    let text = text.replace("{{k}}", &prefix);
    if text.contains(SLOT) {
        let slot = crate::cluster::key_slot(prefix.as_bytes());
        return text.replace(SLOT, &slot.to_string());
    }
    text
}

/// The template of the scenario's hash slot.
pub const SLOT: &str = "{{slot}}";

/// Expands the generators `{{C*N}}` (the byte C, N times) and `{{$:TEXT}}` (TEXT as a bulk
/// string), and keeps `{{i}}` for later; the text between them is read by `piece` (unescaped
/// for raw and expected bytes, as is for a `>` line, whose quoting comes after).
pub fn expand_generators(
    text: &str,
    piece: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.extend(piece(&rest[..start])?);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("unclosed `{{`")?;
        let inner = &after[..end];
        if let Some(payload) = inner.strip_prefix("#:") {
            // The byte length of TEXT, for a `$<len>` line of an expected reply naming a key.
            out.extend_from_slice(piece(payload)?.len().to_string().as_bytes());
            rest = &after[end + 2..];
            continue;
        }
        if let Some(payload) = inner.strip_prefix("$:") {
            let payload = piece(payload)?;
            out.extend_from_slice(format!("${}\r\n", payload.len()).as_bytes());
            out.extend(payload);
            out.extend_from_slice(b"\r\n");
            rest = &after[end + 2..];
            continue;
        }
        match inner.split_once('*') {
            Some((c, n)) => {
                let byte = piece(c)?;
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad count in `{{{{{inner}}}}}`"))?;
                match byte.as_slice() {
                    [b] if n <= MAX_GENERATED_LEN => out.resize(out.len() + n, *b),
                    _ => {
                        return Err(format!(
                            "`{{{{{inner}}}}}` must be one byte times at most {MAX_GENERATED_LEN}"
                        ))
                    }
                }
            }
            None if inner == "i" => out.extend_from_slice(INDEX.as_bytes()),
            None => return Err(format!("unknown generator `{{{{{inner}}}}}`")),
        }
        rest = &after[end + 2..];
    }
    out.extend(piece(rest)?);
    Ok(out)
}

/// Replaces `{{i}}` with `i`, fixing up the lengths of bulk strings that contained it (the
/// bytes are a valid RESP encoding of the request with `{{i}}` as literal text).
pub fn substitute_index(bytes: &[u8], i: usize) -> Vec<u8> {
    const MARK: &[u8] = INDEX.as_bytes();
    if !bytes.windows(MARK.len()).any(|w| w == MARK) {
        return bytes.to_vec();
    }
    let digits = i.to_string();
    // Re-encode frame by frame so that every `$len` stays right.
    let mut decoder = Decoder::with_options(Dialect::Resp3, Role::Any, Limits::default());
    let mut buf = BytesMut::from(bytes);
    let mut out = BytesMut::new();
    while let Ok(Some(frame)) = decoder.decode(&mut buf) {
        encode_into(
            &replace_in_frame(frame, digits.as_bytes()),
            Dialect::Resp3,
            &mut out,
        );
    }
    out.extend_from_slice(&buf);
    out.to_vec()
}

pub fn replace_index(b: &[u8], with: &[u8]) -> bytes::Bytes {
    let mut out = Vec::with_capacity(b.len());
    let mut rest = b;
    while let Some(at) = rest
        .windows(INDEX.len())
        .position(|w| w == INDEX.as_bytes())
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + INDEX.len()..];
    }
    out.extend_from_slice(rest);
    bytes::Bytes::from(out)
}

fn replace_in_frame(frame: Frame, with: &[u8]) -> Frame {
    match frame {
        Frame::Bulk(b) => Frame::Bulk(replace_index(&b, with)),
        Frame::Simple(b) => Frame::Simple(replace_index(&b, with)),
        Frame::Error(b) => Frame::Error(replace_index(&b, with)),
        Frame::Text(b) => Frame::Text(replace_index(&b, with)),
        Frame::Integer(_) => frame,
        Frame::Array(items) => Frame::Array(
            items
                .into_iter()
                .map(|f| replace_in_frame(f, with))
                .collect(),
        ),
        other => other,
    }
}
