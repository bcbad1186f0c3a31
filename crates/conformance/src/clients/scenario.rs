//! Client scenarios: the reply a scripted server sends for one request, how it delivers it,
//! and what a correct client library must surface. `conformance/clients/README.md` is the
//! specification; this is the parser.
//!
//! ```text
//! # title: A RESP3 map with an integer key is a map
//! # protocol: 3
//! # request: HGETALL h
//! < %1
//! < :1
//! < $1
//! < a
//! ! deliver bytewise
//! ? value {"map": [[{"int": 1}, {"bulk": "a"}]]}
//! ```
//!
//! The `#` headers, the escapes (`\r \n \xHH`, [`respect_resp::unescape_bytes`]), the
//! generators (`{{C*N}}`, [`crate::scenario::template::expand_generators`]) and identity from the
//! path ([`crate::scenario::identity`]) are those of server scenarios.

use std::path::{Path, PathBuf};
use std::time::Duration;

use respect_resp::{split_inline, unescape_bytes};

use super::value::{parse_value, Value};
use crate::scenario::identity::{id_from_path, verdict_of};
use crate::scenario::template::expand_generators;
use crate::scenario::{ParseError, Verdict};

/// Longest delay (`! delay`, `! gap`) a scenario may ask for.
pub const MAX_DELAY: Duration = Duration::from_secs(10);
/// Largest reply a scenario may script (after generators).
pub const MAX_REPLY: usize = 64 * 1024 * 1024;

/// How the scripted server writes the reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Where the reply is cut into writes.
    pub split: Split,
    /// Wait before the first write.
    pub delay: Duration,
    /// Wait between writes.
    pub gap: Duration,
    /// Write only this many bytes of the reply, then close the connection.
    pub close_after: Option<usize>,
}

/// How the reply is cut into writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Split {
    /// One write.
    #[default]
    Whole,
    /// One byte per write.
    Bytewise,
    /// Cut at these offsets (ascending).
    At(Vec<usize>),
}

impl Delivery {
    /// The bytes of `reply` that are written: up to the close, if there is one.
    pub fn sent<'a>(&self, reply: &'a [u8]) -> &'a [u8] {
        let end = self.close_after.map_or(reply.len(), |n| n.min(reply.len()));
        reply.get(..end).unwrap_or(reply)
    }

    /// The pieces of `reply` as they are written, up to the close; made as they are written,
    /// so a large reply delivered bytewise costs no list of pieces.
    pub fn pieces<'a>(&'a self, reply: &'a [u8]) -> Box<dyn Iterator<Item = &'a [u8]> + Send + 'a> {
        let reply = self.sent(reply);
        match &self.split {
            Split::Whole => Box::new(std::iter::once(reply).filter(|p| !p.is_empty())),
            Split::Bytewise => Box::new(reply.chunks(1)),
            Split::At(at) => {
                let cuts = at
                    .iter()
                    .copied()
                    .filter(move |&c| c > 0 && c < reply.len());
                let starts = std::iter::once(0).chain(cuts.clone());
                let ends = cuts.chain(std::iter::once(reply.len()));
                Box::new(
                    starts
                        .zip(ends)
                        .filter_map(move |(a, b)| reply.get(a..b))
                        .filter(|p| !p.is_empty()),
                )
            }
        }
    }
}

/// Kinds of error a client may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server answered with an error reply.
    Server,
    /// The library refused the bytes as malformed.
    Protocol,
    /// The connection closed or failed.
    Connection,
    /// The library's own timeout expired.
    Timeout,
    /// The library failed with something that is not one of its error types (a Python
    /// `IndexError`, a caught Rust panic): graded CRASH.
    Internal,
}

impl ErrorKind {
    /// Every kind, in the order they are documented.
    const ALL: [ErrorKind; 5] = [
        ErrorKind::Server,
        ErrorKind::Protocol,
        ErrorKind::Connection,
        ErrorKind::Timeout,
        ErrorKind::Internal,
    ];

    /// The kind's name, as scenarios and drivers write it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Server => "server",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
        }
    }

    /// Reads a kind's name.
    pub fn parse(name: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Several kinds' names, joined by `separator`.
    pub fn names(kinds: &[ErrorKind], separator: &str) -> String {
        kinds
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(separator)
    }
}

/// What a correct client surfaces.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// `? value JSON`: this value.
    Value(Value),
    /// `? error server TEXT`: an error reply with this text (or the text without its code).
    ServerError(String),
    /// `? error KIND...`: an error of one of these kinds.
    Error(Vec<ErrorKind>),
    /// `? survive`: any answer, before the case's timeout, that is not a crash.
    Survive,
}

/// One client scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientScenario {
    /// The file.
    pub path: PathBuf,
    /// From the path (`clients.maps.int-key` for `clients/maps/y_int_key.scenario`).
    pub id: String,
    /// `# title:`.
    pub title: String,
    /// `# tags:`.
    pub tags: Vec<String>,
    /// From the file name's prefix.
    pub verdict: Verdict,
    /// `# protocol: 2|3`: what the client is asked to speak (2 when absent).
    pub protocol: u8,
    /// `# request:`: the command the driver issues.
    pub request: Vec<String>,
    /// The scripted reply's bytes.
    pub reply: Vec<u8>,
    /// `! ...` lines.
    pub delivery: Delivery,
    /// The `?` line.
    pub expect: Expect,
    /// `# timeout: SECONDS`: this case's time limit instead of the run's.
    pub timeout: Option<Duration>,
}

impl ClientScenario {
    /// The upper-case command name and argument count the scripted server matches.
    pub fn matches(&self, args: &[bytes::Bytes]) -> bool {
        match (args.first(), self.request.first()) {
            (Some(name), Some(want)) => {
                args.len() == self.request.len() && name.eq_ignore_ascii_case(want.as_bytes())
            }
            _ => false,
        }
    }

    /// Parses `text` read from `path` under the client scenario root `root`.
    pub fn parse_under(root: &Path, path: &Path, text: &str) -> Result<ClientScenario, ParseError> {
        let relative = path.strip_prefix(root).unwrap_or(path);
        let fail = |line: usize, message: String| ParseError {
            path: path.display().to_string(),
            line,
            message,
        };
        let mut s = ClientScenario {
            path: path.to_path_buf(),
            id: id_from_path(relative),
            title: String::new(),
            tags: Vec::new(),
            verdict: verdict_of(path),
            protocol: 2,
            request: Vec::new(),
            reply: Vec::new(),
            delivery: Delivery::default(),
            expect: Expect::Survive,
            timeout: None,
        };
        let mut expect = None;
        for (index, raw) in text.lines().enumerate() {
            let n = index + 1;
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('#') {
                header(&mut s, rest).map_err(|e| fail(n, e))?;
            } else if let Some(rest) = line.strip_prefix("<<") {
                let bytes =
                    reply_bytes(rest.strip_prefix(' ').unwrap_or(rest)).map_err(|e| fail(n, e))?;
                s.reply.extend(bytes);
            } else if let Some(rest) = line.strip_prefix('<') {
                let bytes =
                    reply_bytes(rest.strip_prefix(' ').unwrap_or(rest)).map_err(|e| fail(n, e))?;
                s.reply.extend(bytes);
                s.reply.extend_from_slice(b"\r\n");
            } else if let Some(rest) = line.strip_prefix('!') {
                directive(&mut s.delivery, rest.trim()).map_err(|e| fail(n, e))?;
            } else if let Some(rest) = line.strip_prefix('?') {
                if expect.is_some() {
                    return Err(fail(n, "a scenario has one `?` expectation".into()));
                }
                expect = Some(expectation(rest.trim()).map_err(|e| fail(n, e))?);
            } else {
                return Err(fail(n, format!("unknown line `{line}`")));
            }
            if s.reply.len() > MAX_REPLY {
                return Err(fail(
                    n,
                    format!("the reply is larger than {MAX_REPLY} bytes"),
                ));
            }
        }
        if s.request.is_empty() {
            return Err(fail(0, "no `# request:` header".into()));
        }
        if s.reply.is_empty() {
            return Err(fail(0, "no reply (`<` or `<<` lines)".into()));
        }
        s.expect = expect.ok_or_else(|| fail(0, "no `?` expectation".into()))?;
        Ok(s)
    }
}

fn reply_bytes(text: &str) -> Result<Vec<u8>, String> {
    expand_generators(text, unescape_bytes)
}

fn header(s: &mut ClientScenario, rest: &str) -> Result<(), String> {
    let Some((key, value)) = rest.split_once(':') else {
        return Ok(());
    };
    let value = value.trim();
    match key.trim() {
        "title" => s.title = value.to_string(),
        "tags" => s.tags = value.split_whitespace().map(String::from).collect(),
        "protocol" => {
            s.protocol = match value {
                "2" => 2,
                "3" => 3,
                _ => return Err(format!("`# protocol:` is 2 or 3, not `{value}`")),
            }
        }
        "request" => {
            let args = split_inline(value.as_bytes()).map_err(|e| e.to_string())?;
            s.request = args
                .iter()
                .map(|a| {
                    String::from_utf8(a.to_vec())
                        .map_err(|_| "request arguments are UTF-8 text".to_string())
                })
                .collect::<Result<_, _>>()?;
            if s.request.is_empty() {
                return Err("`# request:` without a command".into());
            }
        }
        "timeout" => {
            let secs: f64 = value
                .parse()
                .map_err(|_| format!("bad timeout `{value}`"))?;
            if !(0.1..=60.0).contains(&secs) {
                return Err("`# timeout:` is 0.1 to 60 seconds".into());
            }
            s.timeout = Some(Duration::from_secs_f64(secs));
        }
        "id" if value != s.id => {
            return Err(format!(
                "`# id: {value}` disagrees with the path's `{}`",
                s.id
            ))
        }
        _ => {}
    }
    Ok(())
}

fn millis(text: &str) -> Result<Duration, String> {
    let ms: u64 = text
        .parse()
        .map_err(|_| format!("bad milliseconds `{text}`"))?;
    let d = Duration::from_millis(ms);
    if d > MAX_DELAY {
        return Err(format!("at most {} ms", MAX_DELAY.as_millis()));
    }
    Ok(d)
}

fn directive(d: &mut Delivery, text: &str) -> Result<(), String> {
    let mut words = text.split_whitespace();
    let name = words.next().unwrap_or("");
    let args: Vec<&str> = words.collect();
    match (name, args.as_slice()) {
        ("deliver", ["whole"]) => d.split = Split::Whole,
        ("deliver", ["bytewise"]) => d.split = Split::Bytewise,
        ("deliver", ["split", offsets @ ..]) if !offsets.is_empty() => {
            let mut at = Vec::new();
            for o in offsets {
                let n: usize = o.parse().map_err(|_| format!("bad offset `{o}`"))?;
                if at.last().is_some_and(|&last| n <= last) {
                    return Err("split offsets go up".into());
                }
                at.push(n);
            }
            d.split = Split::At(at);
        }
        ("delay", [ms]) => d.delay = millis(ms)?,
        ("gap", [ms]) => d.gap = millis(ms)?,
        ("close-after", [n]) => {
            d.close_after = Some(n.parse().map_err(|_| format!("bad byte count `{n}`"))?)
        }
        ("close", []) => d.close_after = Some(usize::MAX),
        _ => return Err(format!("unknown directive `! {text}`")),
    }
    Ok(())
}

fn expectation(text: &str) -> Result<Expect, String> {
    let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    match word {
        "value" => parse_value(rest).map(Expect::Value),
        "survive" if rest.is_empty() => Ok(Expect::Survive),
        "error" => {
            if let Some(message) = rest.strip_prefix("server ") {
                let bytes = unescape_bytes(message.trim())?;
                return String::from_utf8(bytes)
                    .map(Expect::ServerError)
                    .map_err(|_| "an error text is UTF-8".into());
            }
            let kinds: Vec<ErrorKind> = rest
                .split_whitespace()
                .map(|k| ErrorKind::parse(k).ok_or_else(|| format!("unknown error kind `{k}`")))
                .collect::<Result<_, _>>()?;
            if kinds.is_empty() {
                return Err("`? error` names a kind".into());
            }
            Ok(Expect::Error(kinds))
        }
        _ => Err(format!("unknown expectation `? {text}`")),
    }
}

/// Every client scenario under `root`, sorted by path; two with one id are an error.
pub fn load_client_dir(root: &Path) -> Result<Vec<ClientScenario>, ParseError> {
    let files = crate::scenario::load::scenario_files(root, None)?;
    let mut out: Vec<ClientScenario> = Vec::with_capacity(files.len());
    for p in &files {
        let fail = |message: String| ParseError {
            path: p.display().to_string(),
            line: 0,
            message,
        };
        let text = crate::scenario::load::read(p)?;
        let s = ClientScenario::parse_under(root, p, &text)?;
        if let Some(other) = out.iter().find(|o| o.id == s.id) {
            return Err(fail(format!(
                "id `{}` is also the id of {}",
                s.id,
                other.path.display()
            )));
        }
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClientScenario, ParseError> {
        let root = Path::new("conformance/clients");
        ClientScenario::parse_under(root, &root.join("maps/y_int_key.scenario"), text)
    }

    #[test]
    fn a_scenario_reads_whole() {
        let s = parse(
            "# title: t\n# tags: resp3 maps\n# protocol: 3\n# request: HGETALL \"a b\"\n\
             < %1\n< :1\n<< $1\\r\\na\\r\\n\n! deliver split 2 5\n! delay 10\n! gap 1\n\
             ! close-after 9\n? value {\"map\": [[{\"int\": 1}, {\"bulk\": \"a\"}]]}\n",
        )
        .expect("parses");
        assert_eq!(s.id, "maps.int-key");
        assert_eq!(s.verdict, Verdict::Accept);
        assert_eq!(s.protocol, 3);
        assert_eq!(s.request, ["HGETALL", "a b"]);
        assert_eq!(s.reply, b"%1\r\n:1\r\n$1\r\na\r\n");
        assert_eq!(s.delivery.split, Split::At(vec![2, 5]));
        assert_eq!(s.delivery.delay, Duration::from_millis(10));
        assert_eq!(
            s.delivery.pieces(&s.reply).collect::<Vec<_>>(),
            [&b"%1"[..], b"\r\n:", b"1\r\n$"]
        );
        assert!(s.matches(&[bytes::Bytes::from("hgetall"), bytes::Bytes::from("x")]));
        assert!(!s.matches(&[bytes::Bytes::from("hgetall")]));
        assert!(!s.matches(&[bytes::Bytes::from("get"), bytes::Bytes::from("x")]));
    }

    #[test]
    fn expectations_of_every_kind() {
        let with = |e: &str| parse(&format!("# request: GET k\n< +OK\n{e}\n")).map(|s| s.expect);
        assert_eq!(with("? survive").expect("ok"), Expect::Survive);
        assert_eq!(
            with("? error server ERR boom").expect("ok"),
            Expect::ServerError("ERR boom".into())
        );
        assert_eq!(
            with("? error protocol connection").expect("ok"),
            Expect::Error(vec![ErrorKind::Protocol, ErrorKind::Connection])
        );
        for bad in [
            "? error",
            "? error weird",
            "? value {",
            "? maybe",
            "! deliver sideways",
            "! delay 99999",
            "x",
        ] {
            assert!(with(bad).is_err(), "{bad}");
        }
        assert!(with("? survive\n? survive").is_err());
        assert!(parse("< +OK\n? survive\n").is_err(), "no request");
        assert!(parse("# request: GET k\n? survive\n").is_err(), "no reply");
    }

    #[test]
    fn bytewise_and_close_pieces() {
        let d = Delivery {
            split: Split::Bytewise,
            close_after: Some(3),
            ..Delivery::default()
        };
        assert_eq!(
            d.pieces(b"+OK\r\n").collect::<Vec<_>>(),
            [&b"+"[..], b"O", b"K"]
        );
        let whole = Delivery::default();
        assert_eq!(
            whole.pieces(b"+OK\r\n").collect::<Vec<_>>(),
            [&b"+OK\r\n"[..]]
        );
        let nothing = Delivery {
            close_after: Some(0),
            ..Delivery::default()
        };
        assert_eq!(nothing.pieces(b"+OK\r\n").count(), 0);
        let split = Delivery {
            split: Split::At(vec![0, 2, 9]),
            ..Delivery::default()
        };
        assert_eq!(
            split.pieces(b"+OK\r\n").collect::<Vec<_>>(),
            [&b"+O"[..], b"K\r\n"]
        );
    }

    #[test]
    fn the_corpus_parses_and_every_y_value_is_what_the_codec_reads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/clients");
        let all = load_client_dir(&root).expect("the client corpus loads");
        for s in &all {
            let Expect::Value(want) = &s.expect else {
                continue;
            };
            if s.verdict != Verdict::Accept || s.delivery.close_after.is_some() {
                continue;
            }
            let dialect = if s.protocol == 3 {
                respect_resp::Dialect::Resp3
            } else {
                respect_resp::Dialect::Resp2
            };
            let frames = respect_resp::decode_all(&s.reply, dialect)
                .unwrap_or_else(|e| panic!("{}: {e}", s.path.display()));
            // Pushes before the reply go to the library's push handler, not to the caller.
            let reply = frames
                .iter()
                .find(|f| !matches!(f, respect_resp::Frame::Push(_)));
            let got = reply.and_then(Value::of_reply);
            assert!(
                got.as_ref().is_some_and(|g| g.strict_eq(want)),
                "{}: the codec reads {:?}",
                s.path.display(),
                got.map(|g| g.to_json().to_string())
            );
        }
    }
}
