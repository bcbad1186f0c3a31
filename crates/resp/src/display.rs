//! Human rendering of frames, in the style of redis-cli: `(integer) 1`, `"text"`, numbered
//! aggregate items. Bytes that are not printable ASCII are written as escapes (`\r`, `\n`,
//! `\t`, `\xHH`), so a rendering is never a lossy conversion: it reads back to the same bytes.

use std::fmt::{self, Write};

use super::Frame;

/// Displays bytes as redis-cli's `sdscatrepr` does, without the surrounding quotes: printable
/// ASCII as is, `"` and `\` escaped, `\n \r \t \a \b` by name, anything else as `\xHH`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &c in self.0 {
            match c {
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                0x07 => f.write_str("\\a")?,
                0x08 => f.write_str("\\b")?,
                c if c.is_ascii_graphic() || c == b' ' => f.write_char(char::from(c))?,
                c => write!(f, "\\x{c:02x}")?,
            }
        }
        Ok(())
    }
}

/// The escaped form of `bytes` as a string (see [`Escaped`]).
pub fn escape_bytes(bytes: &[u8]) -> String {
    Escaped(bytes).to_string()
}

/// The inverse of [`escape_bytes`]: reads `\\ \" \n \r \t \a \b \0 \xHH`, and every other
/// character as its UTF-8 bytes. An unknown or cut-off escape is an error naming its position.
pub fn unescape_bytes(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            let mut utf8 = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            continue;
        }
        let escaped = match chars.next() {
            Some((_, '\\')) => b'\\',
            Some((_, '"')) => b'"',
            Some((_, '\'')) => b'\'',
            Some((_, 'n')) => b'\n',
            Some((_, 'r')) => b'\r',
            Some((_, 't')) => b'\t',
            Some((_, 'a')) => 0x07,
            Some((_, 'b')) => 0x08,
            Some((_, '0')) => 0,
            Some((_, 'x')) => {
                let hi = chars.next().and_then(|(_, h)| h.to_digit(16));
                let lo = chars.next().and_then(|(_, l)| l.to_digit(16));
                match (hi, lo) {
                    (Some(h), Some(l)) => (h * 16 + l) as u8,
                    _ => {
                        return Err(format!(
                            "bad \\x escape at character {at}: two hex digits expected"
                        ))
                    }
                }
            }
            Some((_, other)) => return Err(format!("unknown escape \\{other} at character {at}")),
            None => return Err(format!("lone backslash at the end (character {at})")),
        };
        out.push(escaped);
    }
    Ok(out)
}

impl fmt::Display for Frame {
    /// redis-cli's rendering; aggregates take one line per item, nested items indented.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        render(self, 0, &mut out);
        f.write_str(out.trim_end_matches('\n'))
    }
}

fn quoted(bytes: &[u8], out: &mut String) {
    let _ = write!(out, "\"{}\"", Escaped(bytes));
}

/// Appends the rendering of `frame`, whose first line starts at column `indent` (already
/// written by the caller); every line ends with `\n`.
fn render(frame: &Frame, indent: usize, out: &mut String) {
    match frame {
        Frame::Simple(s) => {
            let _ = writeln!(out, "{}", Escaped(s));
        }
        Frame::Error(s) => {
            let _ = writeln!(out, "(error) {}", Escaped(s));
        }
        Frame::BlobError(s) => {
            let _ = writeln!(out, "(blob error) {}", Escaped(s));
        }
        Frame::Integer(n) => {
            let _ = writeln!(out, "(integer) {n}");
        }
        Frame::Bulk(b) | Frame::Text(b) => {
            quoted(b, out);
            out.push('\n');
        }
        Frame::NullBulk | Frame::NullArray | Frame::Null => out.push_str("(nil)\n"),
        Frame::Double(d) => {
            // The shortest text that reads back, not the 17 digits Redis 7.0 sends.
            let text = if d.is_finite() {
                super::format_shortest(*d)
            } else {
                super::format_double(*d, super::Dialect::Resp3)
            };
            let _ = writeln!(out, "(double) {text}");
        }
        Frame::DoubleText(text) => {
            let _ = writeln!(out, "(double) {}", String::from_utf8_lossy(text));
        }
        Frame::Boolean(b) => {
            let _ = writeln!(out, "({b})");
        }
        Frame::Verbatim { format, text } => {
            let _ = write!(out, "(verbatim {}) ", Escaped(format));
            quoted(text, out);
            out.push('\n');
        }
        Frame::BigNumber(b) => {
            let _ = writeln!(out, "(big number) {}", Escaped(b));
        }
        Frame::Json(b) => {
            let _ = writeln!(out, "(json) {}", Escaped(b));
        }
        Frame::StreamedString(chunks) => {
            out.push_str("(streamed)");
            for chunk in chunks {
                out.push(' ');
                quoted(chunk, out);
            }
            out.push('\n');
        }
        Frame::Inline(args) => {
            out.push_str("(inline)");
            for arg in args {
                out.push(' ');
                quoted(arg, out);
            }
            out.push('\n');
        }
        Frame::Array(items) | Frame::StreamedArray(items) => {
            render_items(items, ")", "array", indent, out)
        }
        Frame::Set(items) | Frame::StreamedSet(items) => {
            render_items(items, "~", "set", indent, out)
        }
        Frame::Push(items) => {
            out.push_str("(push) ");
            render_items(items, ")", "push", indent + 7, out)
        }
        Frame::Map(pairs) | Frame::StreamedMap(pairs) => render_pairs(pairs, "map", indent, out),
        Frame::Attributed {
            attributes, frame, ..
        } => {
            out.push_str("(attributes) ");
            render_pairs(attributes, "attributes", indent + 13, out);
            out.push_str(&" ".repeat(indent));
            render(frame, indent, out);
        }
    }
}

fn render_items(items: &[Frame], mark: &str, name: &str, indent: usize, out: &mut String) {
    if items.is_empty() {
        let _ = writeln!(out, "(empty {name})");
        return;
    }
    let width = items.len().to_string().len();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        let label = format!("{:>width$}{mark} ", i + 1);
        out.push_str(&label);
        render(item, indent + label.len(), out);
    }
}

fn render_pairs(pairs: &[(Frame, Frame)], name: &str, indent: usize, out: &mut String) {
    if pairs.is_empty() {
        let _ = writeln!(out, "(empty {name})");
        return;
    }
    let width = pairs.len().to_string().len();
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(indent));
        }
        let label = format!("{:>width$}# ", i + 1);
        out.push_str(&label);
        let mut key_text = String::new();
        render(key, indent + label.len(), &mut key_text);
        let key_text = key_text.trim_end_matches('\n');
        out.push_str(key_text);
        out.push_str(" => ");
        let last_line = key_text.rsplit('\n').next().unwrap_or("").len();
        let column = if key_text.contains('\n') {
            last_line
        } else {
            indent + label.len() + last_line
        };
        render(value, column + 4, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn unescape_inverts_escape() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unescape_bytes(&escape_bytes(&all)).unwrap(), all);
        assert_eq!(unescape_bytes("a\\0\\x41é").unwrap(), b"a\0A\xc3\xa9");
        assert!(unescape_bytes("\\q").is_err());
        assert!(unescape_bytes("\\x4").is_err());
        assert!(unescape_bytes("\\").is_err());
    }

    #[test]
    fn renders_like_redis_cli() {
        let frame = Frame::Array(vec![
            Frame::Array(vec![Frame::bulk("a"), Frame::Integer(2)]),
            Frame::Bulk(Bytes::from_static(b"\xff\x00\r\n\"")),
            Frame::NullBulk,
        ]);
        assert_eq!(
            frame.to_string(),
            "1) 1) \"a\"\n   2) (integer) 2\n2) \"\\xff\\x00\\r\\n\\\"\"\n3) (nil)"
        );
        let map = Frame::Map(vec![(
            Frame::bulk("k"),
            Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)]),
        )]);
        assert_eq!(
            map.to_string(),
            "1# \"k\" => 1) (integer) 1\n          2) (integer) 2"
        );
    }
}
