//! Inline requests: a line split into arguments by the quoting rules of redis-cli and Redis's
//! `sdssplitargs`, and the inverse quoting used to write one.

use bytes::Bytes;

use super::ErrorKind;

/// C's `isspace` in the C locale, which `sdssplitargs` uses between arguments.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits one inline line (without its line ending) into arguments, as Redis does:
///
/// - arguments are separated by white space;
/// - `"..."` allows the escapes `\n \r \t \b \a \\ \"` and `\xHH`; any other `\c` is `c`;
/// - `'...'` is literal except `\'`;
/// - a closing quote must be followed by white space or the end of the line;
/// - as in Redis, whose parser works on C strings, a NUL byte outside quotes ends the line
///   (what follows is ignored) and inside quotes leaves them unbalanced.
///
/// An unclosed quote is [`ErrorKind::UnbalancedQuotes`].
pub fn split_inline(line: &[u8]) -> Result<Vec<Bytes>, ErrorKind> {
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while at(p) != 0 && is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Ok(args);
        }
        let mut current = Vec::new();
        // The quote we are inside of, if any.
        let mut quote: Option<u8> = None;
        loop {
            let c = at(p);
            let Some(q) = quote else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => break,
                    b'"' | b'\'' => quote = Some(c),
                    _ => current.push(c),
                }
                p += 1;
                continue;
            };
            if q == b'"' && c == b'\\' && at(p + 1) == b'x' {
                if let (Some(h), Some(l)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                    current.push(h * 16 + l);
                    p += 4;
                    continue;
                }
            }
            if q == b'"' && c == b'\\' && at(p + 1) != 0 {
                current.push(match at(p + 1) {
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'b' => 0x08,
                    b'a' => 0x07,
                    other => other,
                });
                p += 2;
            } else if q == b'\'' && c == b'\\' && at(p + 1) == b'\'' {
                current.push(b'\'');
                p += 2;
            } else if c == q {
                // A closing quote must end the argument.
                if at(p + 1) != 0 && !is_space(at(p + 1)) {
                    return Err(ErrorKind::UnbalancedQuotes);
                }
                p += 1;
                break;
            } else if c == 0 {
                return Err(ErrorKind::UnbalancedQuotes);
            } else {
                current.push(c);
                p += 1;
            }
        }
        args.push(Bytes::from(current));
    }
}

/// Whether an argument can be written bare: non-empty, printable ASCII, no quotes, no
/// backslash, no white space.
fn is_bare(arg: &[u8]) -> bool {
    !arg.is_empty()
        && arg
            .iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\')
}

/// Writes `arg` so that [`split_inline`] reads it back unchanged: bare when it can be, else in
/// double quotes with `\\`, `\"` and `\xHH` escapes. `first` forces quotes when the argument
/// would otherwise start with a non-alphanumeric byte, which a decoder could take for a marker.
pub fn quote_arg(arg: &[u8], first: bool, out: &mut Vec<u8>) {
    let starts_plain = arg.first().is_some_and(u8::is_ascii_alphanumeric);
    if is_bare(arg) && (!first || starts_plain) {
        out.extend_from_slice(arg);
        return;
    }
    out.push(b'"');
    for &c in arg {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 15)],
                ]);
            }
        }
    }
    out.push(b'"');
}

/// Writes a whole inline line (without its CRLF).
pub(crate) fn write_inline_line(args: &[Bytes], out: &mut Vec<u8>) {
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        quote_arg(arg, i == 0, out);
    }
}

/// The length of the line [`write_inline_line`] would write.
pub(crate) fn quoted_line_len(args: &[Bytes]) -> usize {
    let mut line = Vec::new();
    write_inline_line(args, &mut line);
    line.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &[u8]) -> Result<Vec<Vec<u8>>, ErrorKind> {
        split_inline(s).map(|v| v.into_iter().map(|b| b.to_vec()).collect())
    }

    #[test]
    fn splits_like_redis() {
        assert_eq!(
            split(b"SET k v").unwrap(),
            vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()]
        );
        assert_eq!(
            split(b"  a   b  ").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(
            split(b"set \"a b\" 'c d'").unwrap()[1..],
            [b"a b".to_vec(), b"c d".to_vec()]
        );
        assert_eq!(split(b"x \"\\x41\\n\\q\"").unwrap()[1], b"A\nq".to_vec());
        assert_eq!(split(b"x 'it\\'s'").unwrap()[1], b"it's".to_vec());
        assert_eq!(split(b"x \"\"").unwrap()[1], b"".to_vec());
        assert_eq!(split(b"a\0b c").unwrap(), vec![b"a".to_vec()]);
        assert!(split(b"").unwrap().is_empty());
    }

    #[test]
    fn rejects_unbalanced_quotes() {
        for bad in [
            &b"set \"a"[..],
            b"set 'a",
            b"set \"a\"b",
            b"set 'a'b",
            b"x \"a\0\"",
        ] {
            assert_eq!(split(bad), Err(ErrorKind::UnbalancedQuotes), "{bad:?}");
        }
    }

    #[test]
    fn quoting_round_trips() {
        let args: Vec<Bytes> = [
            &b"*3"[..],
            b"",
            b"a b",
            b"\"q\"",
            b"\\",
            b"\x00\xff\r\n",
            b"plain",
        ]
        .iter()
        .map(|a| Bytes::copy_from_slice(a))
        .collect();
        let mut line = Vec::new();
        write_inline_line(&args, &mut line);
        assert_eq!(split_inline(&line).unwrap(), args);
    }
}
