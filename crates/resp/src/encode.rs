//! Frames to bytes, for each dialect.
//!
//! A frame native to the target dialect (see [`Frame::native_in`]) is written byte for byte as
//! it would be decoded. Any other frame is converted by the rules below; for RESP3 -> RESP2 they
//! are the ones Redis applies when a RESP3 reply goes to a RESP2 client.
//!
//! | frame            | RESP2                        | RESP3           | seed                         |
//! |------------------|------------------------------|-----------------|------------------------------|
//! | `Null`           | `$-1`                        | `_`             | `$-1`                        |
//! | `DoubleText`     | bulk string of its text      | `,text`         | bulk string of its text      |
//! | `Boolean`        | `:1` / `:0`                  | `#t` / `#f`     | `:1` / `:0`                  |
//! | `Double`         | bulk string of its text      | `,text`         | `:text` (always has `.`/`e`) |
//! | `BigNumber`      | bulk string of its digits    | `(digits`       | `:digits`                    |
//! | `BlobError`      | `-text` (CR, LF -> space)    | `!len`          | `-text` (CR, LF -> space)    |
//! | `Verbatim`       | bulk string of the text only | `=len fmt:text` | bulk string of the text only |
//! | `Map`            | flat array of 2N items       | `%N`            | `%N`                         |
//! | `Set`            | array                        | `~N`            | `&N`                         |
//! | `Push`           | array                        | `>N`            | array                        |
//! | `Attributed`     | the frame, attributes dropped| `\|N` + frame   | the frame, attributes dropped|
//! | `StreamedString` | bulk string of all chunks    | `$?` `;len`.. `;0` | bulk string of all chunks |
//! | `Streamed*`      | the counted aggregate        | `*?` `%?` `~?` .. `.` | the counted aggregate |
//! | `Text`           | bulk string                  | bulk string     | `^len`                       |
//! | `Json`           | bulk string                  | bulk string     | `@len`                       |
//! | `Inline`         | the quoted line              | the quoted line | the quoted line              |
//!
//! Lossy steps, said once: attributes are dropped outside RESP3, CR and LF inside a simple
//! string or error become spaces (as Redis's `addReplyError` does), and a verbatim string loses
//! its format outside RESP3. Empty chunks of a streamed string are skipped (`;0` ends it).

use bytes::{BufMut, Bytes, BytesMut};

use super::{Dialect, Frame};

/// Encodes one frame into a new buffer.
pub fn encode(frame: &Frame, dialect: Dialect) -> Bytes {
    let mut out = BytesMut::new();
    encode_into(frame, dialect, &mut out);
    out.freeze()
}

/// Appends the bytes of `frame` in `dialect` to `out`, converting by the rules in the module
/// documentation where the dialect has no native form.
pub fn encode_into(frame: &Frame, dialect: Dialect, out: &mut BytesMut) {
    let resp3 = dialect == Dialect::Resp3;
    let seed = dialect == Dialect::Seed;
    match frame {
        Frame::Simple(s) => write_line(b'+', s, out),
        Frame::Error(s) => write_line(b'-', s, out),
        Frame::Integer(n) => write_integer(*n, out),
        Frame::Bulk(b) => write_bulk(b, out),
        Frame::NullBulk => out.put_slice(b"$-1\r\n"),
        Frame::NullArray => out.put_slice(b"*-1\r\n"),
        Frame::Array(items) => write_items(b'*', items, dialect, out),
        Frame::Null => write_null(dialect, out),
        Frame::Double(d) => {
            let text = format_double(*d, dialect);
            if resp3 {
                write_line(b',', text.as_bytes(), out);
            } else if seed {
                write_line(b':', text.as_bytes(), out);
            } else {
                write_bulk(text.as_bytes(), out);
            }
        }
        Frame::DoubleText(text) if resp3 => write_line(b',', text, out),
        Frame::DoubleText(text) => write_bulk(text, out),
        Frame::Boolean(b) => match (resp3, b) {
            (true, true) => out.put_slice(b"#t\r\n"),
            (true, false) => out.put_slice(b"#f\r\n"),
            (false, b) => write_integer(i64::from(*b), out),
        },
        Frame::BlobError(b) if resp3 => write_blob(b'!', b, out),
        Frame::BlobError(b) => write_line(b'-', b, out),
        Frame::Verbatim { format, text } if resp3 => {
            write_length(b'=', text.len() + 4, out);
            out.put_slice(format);
            out.put_u8(b':');
            out.put_slice(text);
            out.put_slice(b"\r\n");
        }
        Frame::Verbatim { text, .. } => write_bulk(text, out),
        Frame::BigNumber(b) if resp3 => write_line(b'(', b, out),
        Frame::BigNumber(b) if seed => write_line(b':', b, out),
        Frame::BigNumber(b) => write_bulk(b, out),
        Frame::Map(pairs) => {
            write_map_header(pairs.len(), dialect, out);
            write_pairs(pairs, dialect, out);
        }
        Frame::Set(items) => {
            write_set_header(items.len(), dialect, out);
            items.iter().for_each(|f| encode_into(f, dialect, out));
        }
        Frame::Push(items) => write_items(if resp3 { b'>' } else { b'*' }, items, dialect, out),
        Frame::Attributed {
            attributes,
            streamed,
            frame,
        } => {
            if resp3 {
                if *streamed {
                    out.put_slice(b"|?\r\n");
                    write_pairs(attributes, dialect, out);
                    out.put_slice(b".\r\n");
                } else {
                    write_length(b'|', attributes.len(), out);
                    write_pairs(attributes, dialect, out);
                }
            }
            encode_into(frame, dialect, out);
        }
        Frame::StreamedString(chunks) if resp3 => {
            out.put_slice(b"$?\r\n");
            for chunk in chunks.iter().filter(|c| !c.is_empty()) {
                write_blob(b';', chunk, out);
            }
            out.put_slice(b";0\r\n");
        }
        Frame::StreamedString(chunks) => {
            write_length(b'$', chunks.iter().map(Bytes::len).sum(), out);
            chunks.iter().for_each(|c| out.put_slice(c));
            out.put_slice(b"\r\n");
        }
        Frame::StreamedArray(items) if resp3 => write_streamed(b'*', items, dialect, out),
        Frame::StreamedArray(items) => write_items(b'*', items, dialect, out),
        Frame::StreamedSet(items) if resp3 => write_streamed(b'~', items, dialect, out),
        Frame::StreamedSet(items) => {
            write_set_header(items.len(), dialect, out);
            items.iter().for_each(|f| encode_into(f, dialect, out));
        }
        Frame::StreamedMap(pairs) if resp3 => {
            out.put_slice(b"%?\r\n");
            write_pairs(pairs, dialect, out);
            out.put_slice(b".\r\n");
        }
        Frame::StreamedMap(pairs) => {
            write_map_header(pairs.len(), dialect, out);
            write_pairs(pairs, dialect, out);
        }
        Frame::Text(b) => write_blob(if seed { b'^' } else { b'$' }, b, out),
        Frame::Json(b) => write_blob(if seed { b'@' } else { b'$' }, b, out),
        Frame::Inline(args) => {
            let mut line = Vec::new();
            super::inline::write_inline_line(args, &mut line);
            out.put_slice(&line);
            out.put_slice(b"\r\n");
        }
    }
}

fn write_items(marker: u8, items: &[Frame], dialect: Dialect, out: &mut BytesMut) {
    write_length(marker, items.len(), out);
    items.iter().for_each(|f| encode_into(f, dialect, out));
}

fn write_pairs(pairs: &[(Frame, Frame)], dialect: Dialect, out: &mut BytesMut) {
    for (k, v) in pairs {
        encode_into(k, dialect, out);
        encode_into(v, dialect, out);
    }
}

fn write_streamed(marker: u8, items: &[Frame], dialect: Dialect, out: &mut BytesMut) {
    out.put_slice(&[marker, b'?', b'\r', b'\n']);
    items.iter().for_each(|f| encode_into(f, dialect, out));
    out.put_slice(b".\r\n");
}

/// `marker` + decimal `n` + CRLF: the header of a bulk or an aggregate.
fn write_length(marker: u8, n: usize, out: &mut BytesMut) {
    let mut digits = itoa::Buffer::new();
    out.put_u8(marker);
    out.put_slice(digits.format(n).as_bytes());
    out.put_slice(b"\r\n");
}

/// `marker` + length + CRLF + payload + CRLF.
fn write_blob(marker: u8, payload: &[u8], out: &mut BytesMut) {
    write_length(marker, payload.len(), out);
    out.put_slice(payload);
    out.put_slice(b"\r\n");
}

/// `marker` + text + CRLF, with CR and LF in the text written as spaces so that the line can
/// never end early.
fn write_line(marker: u8, text: &[u8], out: &mut BytesMut) {
    out.put_u8(marker);
    if text.iter().any(|&c| c == b'\r' || c == b'\n') {
        out.extend(
            text.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
    } else {
        out.put_slice(text);
    }
    out.put_slice(b"\r\n");
}

/// Writes `+text\r\n` (CR and LF become spaces).
pub fn write_simple(text: &[u8], out: &mut BytesMut) {
    write_line(b'+', text, out);
}

/// Writes `-text\r\n` (CR and LF become spaces).
pub fn write_error(text: &[u8], out: &mut BytesMut) {
    write_line(b'-', text, out);
}

/// Writes `:n\r\n`.
pub fn write_integer(n: i64, out: &mut BytesMut) {
    let mut digits = itoa::Buffer::new();
    out.put_u8(b':');
    out.put_slice(digits.format(n).as_bytes());
    out.put_slice(b"\r\n");
}

/// Writes `$len\r\npayload\r\n`.
pub fn write_bulk(payload: &[u8], out: &mut BytesMut) {
    write_blob(b'$', payload, out);
}

/// Writes the null of the dialect: `_` in RESP3, `$-1` otherwise.
pub fn write_null(dialect: Dialect, out: &mut BytesMut) {
    out.put_slice(if dialect == Dialect::Resp3 {
        b"_\r\n"
    } else {
        b"$-1\r\n"
    });
}

/// Writes the header of an array of `n` items.
pub fn write_array_header(n: usize, out: &mut BytesMut) {
    write_length(b'*', n, out);
}

/// Writes the header of a map of `pairs` pairs: `%N` in RESP3 and seed, `*2N` in RESP2.
pub fn write_map_header(pairs: usize, dialect: Dialect, out: &mut BytesMut) {
    match dialect {
        Dialect::Resp2 => write_length(b'*', pairs.saturating_mul(2), out),
        Dialect::Resp3 | Dialect::Seed => write_length(b'%', pairs, out),
    }
}

/// Writes the header of a set of `n` items: `~N` in RESP3, `&N` in seed, `*N` in RESP2.
pub fn write_set_header(n: usize, dialect: Dialect, out: &mut BytesMut) {
    let marker = match dialect {
        Dialect::Resp2 => b'*',
        Dialect::Resp3 => b'~',
        Dialect::Seed => b'&',
    };
    write_length(marker, n, out);
}

/// The text of a double: `inf`, `-inf`, `nan`, else, in RESP2 and RESP3, what redis-server
/// 7.0 writes (its `addReplyDouble`: C's `%.17g`, so `1.1` is `1.1000000000000001` and `1e21`
/// is `1e+21`): seventeen significant digits read back to the same value, and they are the
/// bytes a client of Redis 7.0 sees. In the seed dialect the shortest form that reads back,
/// positional for exponents from -5 to 16 (as Python prints it), where an integral value keeps
/// a `.0` so that a `:` reader sees a float.
pub fn format_double(d: f64, dialect: Dialect) -> String {
    if d.is_nan() {
        return "nan".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.into();
    }
    if dialect != Dialect::Seed {
        return format_g17(d);
    }
    let mut text = format_shortest(d);
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

/// The shortest text that reads back to `d` (finite), positional for exponents from -5 to 16
/// and `1.5e+21` style beyond (as C's `%g`): how a decoded double is shown to a person.
pub fn format_shortest(d: f64) -> String {
    let sci = format!("{d:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-5..17).contains(&exp) {
        format!("{d}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// C's `printf("%.17g", d)` for a finite `d`: rounded to 17 significant digits; positional
/// when the rounded exponent X is in -4..17 (with 16 - X decimals), else `d.ddde+XX`; trailing
/// zeros and a bare `.` removed. Rust's fixed-precision formatting rounds the exact binary value
/// correctly, as glibc does, so both agree digit for digit (a property test checks it against
/// the C library).
pub fn format_g17(d: f64) -> String {
    const PRECISION: i32 = 17;
    let sci = format!("{:.*e}", (PRECISION - 1) as usize, d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..PRECISION).contains(&exp) {
        let decimals = usize::try_from(PRECISION - 1 - exp).unwrap_or(0);
        let fixed = format!("{d:.decimals$}");
        strip_fraction_zeros(&fixed).to_string()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{}e{sign}{:02}",
            strip_fraction_zeros(mantissa),
            exp.unsigned_abs()
        )
    }
}

/// `1.500` -> `1.5`, `2.000` -> `2`; text without a `.` is returned as is.
fn strip_fraction_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_read_back() {
        for d in [
            0.0,
            -0.0,
            1.0,
            1.5,
            -2.25,
            1e21,
            1.5e-7,
            123456.789,
            f64::MAX,
            f64::MIN_POSITIVE,
        ] {
            for dialect in Dialect::ALL {
                let text = format_double(d, dialect);
                assert_eq!(
                    text.parse::<f64>().unwrap().to_bits(),
                    d.to_bits(),
                    "{text}"
                );
            }
        }
        assert_eq!(format_double(1.0, Dialect::Resp3), "1");
        assert_eq!(format_double(1.0, Dialect::Seed), "1.0");
        assert_eq!(format_double(1e21, Dialect::Resp3), "1e+21");
        assert_eq!(format_double(1.5e-7, Dialect::Seed), "1.5e-07");
        // Redis 7.0's `%.17g`, as redis-server 7.0.15 replies to ZSCORE.
        assert_eq!(format_double(1.1, Dialect::Resp3), "1.1000000000000001");
        assert_eq!(
            format_double(1e300, Dialect::Resp2),
            "1.0000000000000001e+300"
        );
        assert_eq!(
            format_double(1e-7, Dialect::Resp3),
            "9.9999999999999995e-08"
        );
        assert_eq!(format_double(-0.0, Dialect::Resp3), "-0");
        assert_eq!(
            format_double(123_456_789_012_345_678.0, Dialect::Resp3),
            "1.2345678901234568e+17"
        );
    }
}
