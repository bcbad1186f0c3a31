//! Replies many commands share, worded as Redis 7.0.15 words them.

use bytes::Bytes;
use respect_resp::Frame;

/// The reply `+OK`.
pub fn ok() -> Frame {
    Frame::Simple(Bytes::from_static(b"OK"))
}

/// `-WRONGTYPE ...`.
pub fn wrong_type() -> Frame {
    Frame::error("WRONGTYPE Operation against a key holding the wrong kind of value")
}

/// `-ERR value is not an integer or out of range`.
pub fn not_integer() -> Frame {
    Frame::error("ERR value is not an integer or out of range")
}

/// `-ERR syntax error`.
pub fn syntax_error() -> Frame {
    Frame::error("ERR syntax error")
}

/// `-NOAUTH Authentication required.`
pub fn no_auth() -> Frame {
    Frame::error("NOAUTH Authentication required.")
}

/// `ERR wrong number of arguments for '<name>' command`.
pub fn wrong_args(name: &str) -> Frame {
    Frame::Error(Bytes::from(format!(
        "ERR wrong number of arguments for '{name}' command"
    )))
}

/// A `<COMMAND> HELP` reply as Redis's `addReplyHelp` builds it: a header naming the command
/// in capitals, the command's own `lines`, then the lines for HELP itself; each a status.
pub fn help(command: &str, lines: &[&'static str]) -> Frame {
    let header = format!(
        "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        command.to_ascii_uppercase()
    );
    let status = |line: &'static str| Frame::Simple(Bytes::from_static(line.as_bytes()));
    let mut out = Vec::with_capacity(lines.len() + 3);
    out.push(Frame::Simple(Bytes::from(header)));
    out.extend(lines.iter().copied().map(status));
    out.extend(["HELP", "    Prints this help."].map(status));
    Frame::Array(out)
}

/// `ERR unknown subcommand '<sub>'. Try <COMMAND> HELP.`
pub fn unknown_subcommand(sub: &[u8], command: &str) -> Frame {
    try_help(b"ERR unknown subcommand '", sub, command)
}

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <COMMAND> HELP.`:
/// the wording of commands that check a subcommand's arguments themselves (DEBUG, CLIENT
/// UNBLOCK...).
pub fn unknown_subcommand_or_arity(sub: &[u8], command: &str) -> Frame {
    try_help(
        b"ERR unknown subcommand or wrong number of arguments for '",
        sub,
        command,
    )
}

/// `<prefix><sub>'. Try <COMMAND> HELP.`, `sub` shown as Redis's `'%.128s'` shows it.
fn try_help(prefix: &[u8], sub: &[u8], command: &str) -> Frame {
    let mut text = prefix.to_vec();
    text.extend(printable(sub, 128));
    text.extend_from_slice(b"'. Try ");
    text.extend(command.bytes().map(|c| c.to_ascii_uppercase()));
    text.extend_from_slice(b" HELP.");
    Frame::Error(Bytes::from(text))
}

/// `ERR unknown command '<name>', with args beginning with: '<a>' '<b>' ` as Redis 7 words
/// it (each argument quoted and followed by a space, at most 128 bytes of them).
pub fn unknown_command(name: &[u8], args: &[Bytes]) -> Frame {
    let mut text = b"ERR unknown command '".to_vec();
    text.extend(printable(name, 128));
    text.extend_from_slice(b"', with args beginning with: ");
    // Redis appends `'%.*s' ` while the list is shorter than 128 bytes, each argument cut to
    // what is left of the 128: its quotes and spaces count too.
    let mut shown = Vec::new();
    for arg in args {
        let Some(room) = 128usize.checked_sub(shown.len()).filter(|&r| r > 0) else {
            break;
        };
        shown.push(b'\'');
        shown.extend(printable(arg, room));
        shown.extend_from_slice(b"' ");
    }
    text.extend(shown);
    Frame::Error(Bytes::from(text))
}

/// `b` for an error message as C's `%.<max>s` prints it (up to its first NUL byte, at most
/// `max` bytes), raw as Redis copies it; CR and LF become spaces, as Redis's
/// `addReplyErrorLength` does, so the line cannot end early.
fn printable(b: &[u8], max: usize) -> Vec<u8> {
    b.iter()
        .take_while(|&&c| c != 0)
        .take(max)
        .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
        .collect()
}

/// An error reply built as Redis's `addReplyErrorFormat` builds one from its `%s` arguments:
/// `text` ends at its first NUL byte (C strings), trailing CR and LF are trimmed, and the
/// ones left inside become spaces (by the encoder, as for every error).
pub fn error_format(text: &[u8]) -> Frame {
    let until_nul = text.split(|&b| b == 0).next().unwrap_or_default();
    let end = until_nul
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    Frame::Error(Bytes::copy_from_slice(
        until_nul.get(..end).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_is_worded_like_redis_7() {
        let args = [Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        assert_eq!(
            unknown_command(b"foo", &args),
            Frame::error("ERR unknown command 'foo', with args beginning with: 'a' 'b' ")
        );
    }

    #[test]
    fn unknown_command_counts_quotes_in_its_128_bytes_and_stops_at_nul() {
        // Measured on redis-server 7.0.15: 50 + 50 + 22 bytes of arguments, 6 quotes and
        // spaces; 32 one-byte arguments; C strings end at their first NUL.
        let long = [b"a".repeat(50), b"b".repeat(50), b"c".repeat(50)].map(Bytes::from);
        let expected = format!(
            "ERR unknown command 'FOO', with args beginning with: '{}' '{}' '{}' ",
            "a".repeat(50),
            "b".repeat(50),
            "c".repeat(22)
        );
        assert_eq!(unknown_command(b"FOO", &long), Frame::error(expected));
        let many = vec![Bytes::from_static(b"x"); 60];
        let expected = format!(
            "ERR unknown command 'FOO', with args beginning with: {}",
            "'x' ".repeat(32)
        );
        assert_eq!(unknown_command(b"FOO", &many), Frame::error(expected));
        let nul = [Bytes::from_static(b"a\0b"), Bytes::from_static(b"k")];
        assert_eq!(
            unknown_command(b"FOO\0X", &nul),
            Frame::error("ERR unknown command 'FOO', with args beginning with: 'a' 'k' ")
        );
        assert_eq!(
            unknown_subcommand(b"a\0b", "object"),
            Frame::error("ERR unknown subcommand 'a'. Try OBJECT HELP.")
        );
    }

    #[test]
    fn unknown_subcommand_names_the_command_in_capitals() {
        assert_eq!(
            unknown_subcommand(b"x", "client"),
            Frame::error("ERR unknown subcommand 'x'. Try CLIENT HELP.")
        );
    }
}
