//! The `diff_hiredis` fuzz target's property: our RESP2 reply decoder against hiredis's C
//! reply parser ([`crate::hiredis`], `redisReaderCreate`/`redisReaderFeed`/
//! `redisReaderGetReply` with the default reply functions) on the same bytes, frame by frame,
//! through the comparison and blame rules of [`crate::differential::compare_with`].
//!
//! The whole input is RESP2 replies (hiredis 0.14 knows no RESP3 marker). One hiredis reader is
//! fed the whole input once and asked for one reply per step; the bytes it took are the input
//! length minus its unread bytes (`len - pos`, which hiredis moves together when it discards a
//! consumed prefix).
//!
//! Normalisations (each a difference of representation, not of acceptance):
//! - `$-1` and `*-1` are both `REDIS_REPLY_NIL` in hiredis; ours keeps `NullBulk` and
//!   `NullArray` apart. Both become `Null`.
//! - hiredis's `STATUS`, `ERROR`, `INTEGER`, `STRING`, `ARRAY` are our `Simple`, `Error`,
//!   `Integer`, `Bulk`, `Array`; error texts are compared as bytes (hiredis, like Redis, takes
//!   any bytes, so unlike redis-protocol nothing is skipped for not being UTF-8).
//!
//! Steps hiredis cannot model end the comparison quietly: aggregates nested deeper than 7
//! (hiredis refuses them with "No support for nested multi bulk replies with depth > 7", a
//! documented limit of its fixed read stack, not a protocol judgement).

use crate::differential::{compare_with, Blame, Disagreement, Norm, Peer, Step, Unmodelled};
use crate::hiredis::{Read, Reader, Reply};
use crate::resp::Dialect;

/// hiredis as a [`Peer`]: one reader fed the whole input, read one reply per step.
struct Hiredis {
    reader: Option<Reader>,
    /// Bytes hiredis had consumed after the previous reply.
    taken: usize,
    /// hiredis's error text, once it has refused the input.
    error: Option<String>,
}

/// hiredis's error for an integer reply spelled otherwise than `string2ll` writes it
/// (`:+5`, `:05`, `:-0`): ours reads those (its documented leniency for `:` lines, see
/// `fuzz/findings/hiredis.md`), so an [`Blame::OursLenient`] step that hiredis refused with
/// exactly this text is expected, not a finding.
const BAD_INTEGER: &str = "Bad integer value";

impl Hiredis {
    fn new(input: &[u8]) -> Hiredis {
        Hiredis {
            reader: Reader::new(input),
            taken: 0,
            error: None,
        }
    }
}

fn normalise(reply: Reply) -> Norm {
    match reply {
        Reply::Status(s) => Norm::Simple(s),
        Reply::Error(e) => Norm::Error(e),
        Reply::Integer(i) => Norm::Integer(i),
        Reply::String(b) => Norm::Bulk(b),
        Reply::Nil => Norm::Null,
        Reply::Array(items) => Norm::Array(false, items.into_iter().map(normalise).collect()),
    }
}

impl Peer for Hiredis {
    const UTF8_ERRORS: bool = false;

    fn step(&mut self, _rest: &[u8]) -> Result<Step, Unmodelled> {
        let Some(reader) = self.reader.as_mut() else {
            return Ok(Step::NoFrame);
        };
        Ok(match reader.next_reply() {
            Read::Reply(reply, total) => {
                let n = total.saturating_sub(self.taken);
                self.taken = total;
                Step::Frame(normalise(reply), n)
            }
            Read::Error(e) if e.contains("nested multi bulk") => return Err(Unmodelled::TooDeep),
            Read::Error(e) => {
                self.error = Some(e);
                Step::NoFrame
            }
            Read::Incomplete => Step::NoFrame,
        })
    }

    fn takes_whole(&self, bytes: &[u8]) -> bool {
        let Some(mut reader) = Reader::new(bytes) else {
            return false;
        };
        matches!(reader.next_reply(), Read::Reply(_, n) if n == bytes.len())
    }
}

/// The largest aggregate count hiredis is shown. hiredis allocates `count` element pointers
/// when it reads an aggregate's header, before any element arrives (`createArrayObject`
/// callocs `count * sizeof(redisReply *)`; `fuzz/findings/hiredis.md`): `*2147483647\r\n`
/// makes it ask for 16 GiB, which libFuzzer reports as an out-of-memory crash of the target.
/// The comparison therefore stops before the first header declaring more (1 Mi pointers,
/// 8 MiB at most each).
pub const HIREDIS_MAX_COUNT: u64 = 1 << 20;

/// The input up to the first `*` header whose count exceeds [`HIREDIS_MAX_COUNT`] (one pass).
fn before_huge_count(input: &[u8]) -> &[u8] {
    let mut i = 0;
    while let Some(at) = input
        .get(i..)
        .and_then(|r| r.iter().position(|&c| c == b'*'))
    {
        let start = i + at;
        let digits = input.get(start + 1..).unwrap_or_default();
        let count = digits
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .try_fold(0u64, |n, &c| {
                n.checked_mul(10)?.checked_add(u64::from(c - b'0'))
            });
        if count.is_none_or(|n| n > HIREDIS_MAX_COUNT) {
            return input.get(..start).unwrap_or_default();
        }
        i = start + 1;
    }
    input
}

/// Both parsers on the input up to the first huge count ([`before_huge_count`]: every way into
/// hiredis goes through here, so none can make it calloc gigabytes), the first disagreement,
/// and hiredis's error text if it refused the input.
fn compare_guarded(input: &[u8]) -> (&[u8], Option<Disagreement>, Option<String>) {
    let input = before_huge_count(input);
    let mut peer = Hiredis::new(input);
    let d = compare_with(input, Dialect::Resp2, &mut peer);
    (input, d, peer.error)
}

/// `diff_hiredis`: the input is fed to both parsers as RESP2 replies; a disagreement that may
/// be ours ([`crate::differential::Blame::implicates_ours`]) panics with both answers. The
/// others are hiredis's, listed in `fuzz/findings/hiredis.md`.
pub fn check_diff_hiredis(input: &[u8]) {
    let (input, d, error) = compare_guarded(input);
    if let Some(d) = d {
        let integer_spelling =
            d.blame == Blame::OursLenient && error.as_deref() == Some(BAD_INTEGER);
        assert!(
            !d.blame.implicates_ours() || integer_spelling,
            "RESP2: parsers disagree ({:?}) at byte {} of \"{}\": ours {:?}, hiredis {:?}",
            d.blame,
            d.offset,
            crate::resp::escape_bytes(input),
            d.ours,
            d.theirs
        );
    }
}

/// The first disagreement between our decoder and hiredis on `input` (up to its first huge
/// count, as the target sees it), whoever it blames (for triage: `fuzz/findings/hiredis.md`).
pub fn compare_with_hiredis(input: &[u8]) -> Option<Disagreement> {
    compare_guarded(input).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_on_every_resp2_type() {
        assert_eq!(
            compare_with_hiredis(b"+OK\r\n-ERR\xff\r\n:-1\r\n$0\r\n\r\n$-1\r\n*-1\r\n*1\r\n*0\r\n"),
            None
        );
    }

    #[test]
    fn deep_nesting_is_hiredis_limit_not_a_disagreement() {
        assert_eq!(compare_with_hiredis(&b"*1\r\n".repeat(9)), None);
        assert_eq!(
            compare_with_hiredis(&[b"*1\r\n".repeat(9), b":1\r\n".to_vec()].concat()),
            None
        );
    }

    #[test]
    fn a_disagreement_is_found_and_blamed() {
        // hiredis 0.14 reads a RESP3 marker as a protocol error; ours in RESP2 too: agreement.
        assert_eq!(compare_with_hiredis(b"_\r\n"), None);
        // A length with a plus sign: hiredis's string2ll accepts no '+', ours neither.
        let d = compare_with_hiredis(b"$+1\r\na\r\n");
        assert!(
            d.as_ref().is_none_or(|d| d.blame != Blame::Meaning),
            "{d:?}"
        );
    }

    #[test]
    fn a_huge_count_ends_what_hiredis_is_shown() {
        assert_eq!(before_huge_count(b":1\r\n*2147483647\r\n"), b":1\r\n");
        assert_eq!(before_huge_count(b"*99999999999999999999999\r\n"), b"");
        assert_eq!(
            before_huge_count(b"*1048576\r\n*-1\r\n"),
            b"*1048576\r\n*-1\r\n"
        );
        check_diff_hiredis(b"*2147483647\r\n$?\r\n");
        // The triage entry point is guarded as well (it used to hand hiredis the whole input).
        assert_eq!(compare_with_hiredis(b"*2147483647\r\n"), None);
    }

    #[test]
    fn a_non_canonical_integer_is_our_known_leniency() {
        let d = compare_with_hiredis(b":+5\r\n").expect("hiredis refuses :+5");
        assert_eq!(d.blame, Blame::OursLenient);
        check_diff_hiredis(b":+5\r\n");
        check_diff_hiredis(b"*1\r\n:007\r\n");
    }

    #[test]
    fn an_unchecked_bulk_terminator_is_hiredis_leniency() {
        let d = compare_with_hiredis(b"$4\r\nPINGXY\r\n").expect("ours refuses");
        assert_eq!(d.blame, Blame::TheirsLenient);
    }
}
