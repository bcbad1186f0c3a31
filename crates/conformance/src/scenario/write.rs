//! The one writer: a scenario, or one of its parts, back into file text that [`super::parse`]
//! reads back to the same steps. `respect record` writes its expectation blocks with
//! [`expectation_lines`], the network fuzzer writes its findings with [`scenario_text`].
//!
//! What the writer guarantees: parsing what it wrote gives an equivalent scenario (the same
//! headers and steps; line numbers differ, and a `! repeat` comes back unrolled, since a parsed
//! scenario holds its steps expanded). Bytes are written with the escapes the parser reads
//! (`\r \n \t \a \b \\ \" \xHH`), a `{` that would open a template as `\x7b`, and a run of at
//! least [`MIN_GENERATED_RUN`] equal letters or digits as a `{{C*N}}` generator, so that large
//! values stay short lines.

use std::fmt::Write as _;
use std::path::Path;

use bytes::BytesMut;

use super::identity::{flavor_of, id_from_path, verdict_of};
use super::types::{ClusterRule, Delivery, Expectation, Matcher, Scenario, Step};
use respect_resp::{escape_bytes, Decoder, Dialect, Frame, Limits, Role};

/// The shortest run of one letter or digit written as a `{{C*N}}` generator.
pub const MIN_GENERATED_RUN: usize = 64;

/// Something a scenario holds that the text format cannot say.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot write scenario {path}: {message}")]
pub struct WriteError {
    /// The scenario's file.
    pub path: String,
    /// What cannot be written.
    pub message: String,
}

/// A piece of bytes to write: literal bytes, or a run of one byte.
enum Piece<'a> {
    Literal(&'a [u8]),
    Run(u8, usize),
}

/// Splits bytes into literal stretches and runs long enough for a generator.
fn pieces(bytes: &[u8]) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_start = 0;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let run = bytes.get(at..).unwrap_or_default();
        let len = run.iter().take_while(|&&c| c == b).count();
        if b.is_ascii_alphanumeric() && len >= MIN_GENERATED_RUN {
            if literal_start < at {
                out.push(Piece::Literal(
                    bytes.get(literal_start..at).unwrap_or_default(),
                ));
            }
            out.push(Piece::Run(b, len));
            at += len;
            literal_start = at;
        } else {
            at += len.max(1);
        }
    }
    if literal_start < bytes.len() {
        out.push(Piece::Literal(
            bytes.get(literal_start..).unwrap_or_default(),
        ));
    }
    out
}

/// `text` with every `{` that would open a template written `\x7b`: one followed by `{`, and
/// the last one when a generator follows. Only for text the parser unescapes.
fn guard_braces(text: &str, generator_follows: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        if c == '{' && (next == Some('{') || (next.is_none() && generator_follows)) {
            out.push_str("\\x7b");
        } else {
            out.push(c);
        }
    }
    out
}

/// Bytes as the text of a `>>` or `<` line: escaped as the parser unescapes them, with long
/// runs as generators.
pub fn escape_line(bytes: &[u8]) -> String {
    let pieces = pieces(bytes);
    let mut out = String::new();
    for (index, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Literal(b) => {
                let generator_follows = matches!(pieces.get(index + 1), Some(Piece::Run(..)));
                out.push_str(&guard_braces(&escape_bytes(b), generator_follows));
            }
            Piece::Run(b, n) => {
                let _ = write!(out, "{{{{{}*{n}}}}}", char::from(*b));
            }
        }
    }
    out
}

/// Whether a byte may stand in a bare (unquoted) argument of a `>` line.
fn bare_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'{' | b'}')
}

/// One argument of a `>` line, as the parser's quoting (redis-cli's) reads it back: bare when
/// it can be, else in double quotes with `\\`, `\"` and `\xHH` escapes (`{` always escaped,
/// as generators are expanded before quotes are read).
fn write_arg(arg: &[u8], out: &mut String) {
    let pieces = pieces(arg);
    let bare = !arg.is_empty()
        && pieces.iter().all(|p| match p {
            Piece::Literal(b) => b.iter().all(|&c| bare_byte(c)),
            Piece::Run(..) => true,
        });
    if !bare {
        out.push('"');
    }
    for piece in pieces {
        match piece {
            Piece::Run(b, n) => {
                let _ = write!(out, "{{{{{}*{n}}}}}", char::from(b));
            }
            Piece::Literal(b) if bare => out.extend(b.iter().map(|&c| char::from(c))),
            Piece::Literal(b) => {
                for &c in b {
                    match c {
                        b'"' => out.push_str("\\\""),
                        b'\\' => out.push_str("\\\\"),
                        b'{' => out.push_str("\\x7b"),
                        c if c.is_ascii_graphic() || c == b' ' => out.push(char::from(c)),
                        c => {
                            let _ = write!(out, "\\x{c:02x}");
                        }
                    }
                }
            }
        }
    }
    if !bare {
        out.push('"');
    }
}

/// A `>` line sending `args` as a command (an array of bulk strings).
pub fn command_line<A: AsRef<[u8]>>(args: &[A]) -> String {
    let mut out = String::from(">");
    for arg in args {
        out.push(' ');
        write_arg(arg.as_ref(), &mut out);
    }
    out
}

/// A `>>` line sending `bytes` as they are.
pub fn raw_line(bytes: &[u8]) -> String {
    format!(">> {}", escape_line(bytes))
}

/// Reply bytes as expectation lines under `sigil` (`<`, `<~` or `<|`): split after each CRLF,
/// every line escaped. Bytes with no final CRLF (never a whole reply) are kept, and would read
/// back with one.
pub fn expectation_lines_with(sigil: &str, bytes: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, next) = match rest.windows(2).position(|w| w == b"\r\n") {
            Some(at) => (
                rest.get(..at).unwrap_or_default(),
                rest.get(at + 2..).unwrap_or_default(),
            ),
            None => (rest, &[][..]),
        };
        let text = escape_line(line);
        lines.push(if text.is_empty() {
            sigil.to_string()
        } else {
            format!("{sigil} {text}")
        });
        rest = next;
    }
    lines
}

/// Reply bytes as `<` lines (see [`expectation_lines_with`]).
pub fn expectation_lines(bytes: &[u8]) -> Vec<String> {
    expectation_lines_with("<", bytes)
}

/// The arguments of a command send, if `bytes` is exactly the array of bulk strings a `>` line
/// of `command` encodes to.
fn command_args(bytes: &[u8], command: &str) -> Option<Vec<bytes::Bytes>> {
    let mut decoder = Decoder::with_options(Dialect::Resp2, Role::Any, Limits::default());
    let mut buf = BytesMut::from(bytes);
    let Ok(Some(Frame::Array(items))) = decoder.decode(&mut buf) else {
        return None;
    };
    if !buf.is_empty() {
        return None;
    }
    let args: Vec<bytes::Bytes> = items
        .into_iter()
        .map(|f| match f {
            Frame::Bulk(b) => Some(b),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let first = args.first()?;
    (String::from_utf8_lossy(first).to_ascii_uppercase() == command).then_some(args)
}

/// One line a text must be: no line break, and no white space at either end (the parser trims).
fn check_word(path: &Path, what: &str, text: &str) -> Result<(), WriteError> {
    if text.contains(['\n', '\r']) || text.trim() != text {
        return Err(WriteError {
            path: path.display().to_string(),
            message: format!(
                "{what} `{}` has a line break or edge white space",
                text.escape_debug()
            ),
        });
    }
    Ok(())
}

fn millis(path: &Path, duration: std::time::Duration) -> Result<u128, WriteError> {
    if !duration.subsec_nanos().is_multiple_of(1_000_000) {
        return Err(WriteError {
            path: path.display().to_string(),
            message: format!("{duration:?} is not a whole number of milliseconds"),
        });
    }
    Ok(duration.as_millis())
}

/// The lines of one expectation (a block of its own).
fn expectation_block(path: &Path, e: &Expectation) -> Result<Vec<String>, WriteError> {
    let unwritable = |message: &str| WriteError {
        path: path.display().to_string(),
        message: message.to_string(),
    };
    let (strict, variants) = e
        .alternatives
        .split_first()
        .ok_or_else(|| unwritable("an expectation with no accepted reply"))?;
    let mut lines = match strict {
        Matcher::Exact { bytes, .. } => expectation_lines_with("<", bytes),
        Matcher::Unordered { bytes, .. } => expectation_lines_with("<~", bytes),
        Matcher::Error(glob) => {
            check_word(path, "error glob", glob)?;
            vec![format!("? error {glob}")]
        }
        Matcher::Simple(glob) => {
            check_word(path, "simple glob", glob)?;
            vec![format!("? simple {glob}")]
        }
        Matcher::Type(name) => {
            check_word(path, "type", name)?;
            vec![format!("? type {name}")]
        }
        Matcher::Any => vec!["? any".to_string()],
    };
    match variants {
        [] => {}
        [Matcher::Exact { bytes, .. }] if lines.iter().all(|l| l.starts_with('<')) => {
            lines.extend(expectation_lines_with("<|", bytes));
        }
        _ => {
            return Err(unwritable(
                "only one exact variant (`<|`) of an exact reply can be written",
            ))
        }
    }
    for (range, form) in &e.versioned {
        match form {
            Matcher::Exact { bytes, .. } if lines.iter().all(|l| l.starts_with('<')) => {
                lines.extend(expectation_lines_with(&format!("<@{range}"), bytes));
            }
            _ => return Err(unwritable("a `<@` form is exact bytes under a `<` block")),
        }
    }
    Ok(lines)
}

/// The line of a step that is not an expectation.
fn step_line(path: &Path, step: &Step) -> Result<String, WriteError> {
    let name = |n: &str| check_word(path, "connection name", n).map(|()| n.to_string());
    Ok(match step {
        Step::Send {
            bytes,
            command: Some(command),
            ..
        } => match command_args(bytes, command) {
            Some(args) => command_line(&args),
            None => raw_line(bytes),
        },
        Step::Send { bytes, .. } => raw_line(bytes),
        Step::Deliver(Delivery::Whole) => "! deliver whole".to_string(),
        Step::Deliver(Delivery::Pipelined) => "! deliver pipelined".to_string(),
        Step::Deliver(Delivery::Bytewise) => "! deliver bytewise".to_string(),
        Step::Deliver(Delivery::Chunks(seed)) => format!("! deliver chunks {seed}"),
        Step::Decode(dialect) => format!("! decode {dialect}"),
        Step::Open(n) => format!("! open {}", name(n)?),
        Step::Use(n) => format!("! use {}", name(n)?),
        Step::Disconnect => "! disconnect".to_string(),
        Step::ExpectClose { .. } => "! expect-close".to_string(),
        Step::Silence { duration, .. } => format!("! silence {}", millis(path, *duration)?),
        Step::Sleep(duration) => format!("! sleep {}", millis(path, *duration)?),
        Step::Expect(_) => {
            return Err(WriteError {
                path: path.display().to_string(),
                message: "an expectation is a block, not a line".to_string(),
            })
        }
    })
}

/// Whether two expectations can share one `<` block: both one exact reply from the same lines.
fn same_block(a: &Expectation, b: &Expectation) -> bool {
    let plain = |e: &Expectation| matches!(e.alternatives.as_slice(), [Matcher::Exact { .. }]);
    plain(a) && plain(b) && a.lines == b.lines
}

/// The whole scenario as file text: the headers its path does not already say, a blank line,
/// then its steps. Comments of the file it came from are not part of a [`Scenario`] and are
/// not written.
pub fn scenario_text(s: &Scenario) -> Result<String, WriteError> {
    let path = s.path.as_path();
    if s.verdict != verdict_of(path) {
        return Err(WriteError {
            path: path.display().to_string(),
            message: "the verdict is the file name's prefix (y_, n_, i_) and disagrees".into(),
        });
    }
    let mut out = String::new();
    let standalone_id = id_from_path(path.file_name().map(Path::new).unwrap_or(path));
    if s.id != standalone_id {
        check_word(path, "id", &s.id)?;
        let _ = writeln!(out, "# id: {}", s.id);
    }
    if !s.title.is_empty() {
        check_word(path, "title", &s.title)?;
        let _ = writeln!(out, "# title: {}", s.title);
    }
    for (key, words) in [("tags", &s.tags), ("needs", &s.needs)] {
        if words.is_empty() {
            continue;
        }
        for w in words {
            if w.is_empty() || w.contains(char::is_whitespace) {
                return Err(WriteError {
                    path: path.display().to_string(),
                    message: format!("`{key}` entry `{}` is not one word", w.escape_debug()),
                });
            }
        }
        let _ = writeln!(out, "# {key}: {}", words.join(" "));
    }
    if s.flavor != flavor_of(path) {
        let _ = writeln!(out, "# flavor: {}", s.flavor);
    }
    if s.destructive {
        out.push_str("# destructive: yes\n");
    }
    if s.global {
        out.push_str("# global: yes\n");
    }
    match &s.cluster {
        ClusterRule::Anywhere => {}
        ClusterRule::Not(why) => {
            let _ = writeln!(out, "# cluster: no {why}");
        }
        ClusterRule::Only => out.push_str("# cluster: only\n"),
        ClusterRule::Elsewhere => out.push_str("# cluster: elsewhere\n"),
    }
    if let Some(since) = s.since {
        let _ = writeln!(out, "# since: {since}");
    }
    out.push('\n');
    let mut previous: Option<&Expectation> = None;
    for step in &s.steps {
        match step {
            Step::Expect(e) => {
                let lines = expectation_block(path, e)?;
                match previous {
                    Some(p) if same_block(p, e) => {}
                    Some(_) => out.push('\n'),
                    None => {}
                }
                for line in lines {
                    out.push_str(&line);
                    out.push('\n');
                }
                previous = Some(e);
            }
            other => {
                out.push_str(&step_line(path, other)?);
                out.push('\n');
                previous = None;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use respect_resp::{encode_into, Flavor};
    use std::path::PathBuf;
    use std::time::Duration;

    /// A scenario with its positions forgotten: what a round trip must keep.
    fn positionless(s: &Scenario) -> Scenario {
        let mut s = s.clone();
        for step in &mut s.steps {
            match step {
                Step::Send { line, .. }
                | Step::ExpectClose { line }
                | Step::Silence { line, .. } => *line = 0,
                Step::Expect(e) => {
                    e.line = 0;
                    e.lines = (0, 0);
                    e.repeated = false;
                }
                _ => {}
            }
        }
        s
    }

    fn round_trip(s: &Scenario, parse: impl Fn(&str) -> Scenario) {
        let text = scenario_text(s).unwrap_or_else(|e| panic!("{e}"));
        let back = parse(&text);
        assert_eq!(positionless(&back), positionless(s), "written as:\n{text}");
    }

    #[test]
    fn escapes_read_back_and_braces_do_not_open_templates() {
        let bytes = b"a{{k}}\r\n\x00\xff\"\\{";
        let line = raw_line(bytes);
        let s = Scenario::parse(Path::new("y_t.scenario"), &format!("{line}\n")).unwrap();
        assert!(matches!(&s.steps[0], Step::Send { bytes: b, .. } if b == bytes));
        assert_eq!(
            escape_line(&[b'x'; 100]),
            format!("{{{{x*100}}}}"),
            "long runs become generators"
        );
        assert_eq!(escape_line(b"{\"a\":1}"), "{\\\"a\\\":1}");
    }

    #[test]
    fn command_lines_quote_what_needs_quoting() {
        assert_eq!(
            command_line(&["SET", "k", "a b", ""]),
            "> SET k \"a b\" \"\""
        );
        assert_eq!(command_line(&["GET", "{{k}}"]), "> GET \"\\x7b\\x7bk}}\"");
    }

    /// Bytes rich in what the writer must take care of: braces (templates), line ends, quotes,
    /// backslashes, and runs long enough to become generators.
    fn tricky_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        let chunk = prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            prop::sample::select(b"{}{}\r\n\"'* $:k".to_vec()).prop_map(|b| vec![b]),
            Just(b"{{k}}".to_vec()),
            Just(b"{{i}}".to_vec()),
            (60usize..70, prop::sample::select(b"ax0{".to_vec())).prop_map(|(n, b)| vec![b; n]),
        ];
        proptest::collection::vec(chunk, 0..max).prop_map(|c| c.concat())
    }

    fn frame() -> impl Strategy<Value = Frame> {
        let leaf = prop_oneof![
            "[a-zA-Z0-9 ]{0,12}".prop_map(|t| Frame::Simple(t.into())),
            "[A-Z]{1,4} [a-z {]{0,10}".prop_map(|t| Frame::Error(t.into())),
            any::<i64>().prop_map(Frame::Integer),
            tricky_bytes(8).prop_map(|b| Frame::Bulk(b.into())),
            Just(Frame::Null),
            Just(Frame::NullBulk),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            proptest::collection::vec(inner, 0..4).prop_map(Frame::Array)
        })
    }

    fn exact(frame: &Frame, dialect: Dialect, unordered: bool) -> Matcher {
        let mut bytes = BytesMut::new();
        encode_into(frame, dialect, &mut bytes);
        // The frame as the parser will see it: decoded from the bytes in the same dialect.
        let mut decoder = Decoder::with_options(dialect, Role::Reply, Limits::default());
        let mut buf = bytes.clone();
        let frame = match decoder.decode(&mut buf) {
            Ok(Some(f)) => f,
            other => panic!("{other:?}"),
        };
        let bytes = bytes.to_vec();
        if unordered {
            Matcher::Unordered { frame, bytes }
        } else {
            Matcher::Exact { frame, bytes }
        }
    }

    fn expectation(alternatives: Vec<Matcher>) -> Step {
        Step::Expect(Expectation {
            line: 0,
            lines: (0, 0),
            alternatives,
            repeated: false,
            versioned: Vec::new(),
        })
    }

    /// Steps as the generator describes them; expectations are made once the dialect in force
    /// is known.
    #[derive(Debug, Clone)]
    enum Gen {
        Command(Vec<Vec<u8>>),
        Raw(Vec<u8>),
        Reply(Frame, bool, Option<Frame>),
        Glob(String),
        Type(String),
        Any,
        Deliver(u8, u64),
        Decode(u8),
        Open(String),
        Use(String),
        Disconnect,
        ExpectClose,
        Silence(u64),
        Sleep(u64),
    }

    fn gen_step() -> impl Strategy<Value = Gen> {
        prop_oneof![
            (
                "[A-Za-z]{1,8}",
                proptest::collection::vec(tricky_bytes(8), 0..4)
            )
                .prop_map(|(c, rest)| {
                    let mut args = vec![c.into_bytes()];
                    args.extend(rest);
                    Gen::Command(args)
                }),
            tricky_bytes(8)
                .prop_filter("a send has bytes", |b| !b.is_empty())
                .prop_map(Gen::Raw),
            (frame(), any::<bool>(), proptest::option::of(frame()))
                .prop_map(|(f, u, v)| Gen::Reply(f, u, v)),
            "[A-Z]{1,6}[ a-z*?]{0,8}[a-z*]".prop_map(Gen::Glob),
            "[a-z]{1,8}".prop_map(Gen::Type),
            Just(Gen::Any),
            (0u8..4, any::<u64>()).prop_map(|(k, s)| Gen::Deliver(k, s)),
            (0u8..2).prop_map(Gen::Decode),
            "[a-z0-9]{1,6}".prop_map(Gen::Open),
            "[a-z0-9]{1,6}".prop_map(Gen::Use),
            Just(Gen::Disconnect),
            Just(Gen::ExpectClose),
            (0u64..10_000).prop_map(Gen::Silence),
            (0u64..10_000).prop_map(Gen::Sleep),
        ]
    }

    fn build(gens: Vec<Gen>, title: String, tags: Vec<String>, flavor: Flavor) -> Scenario {
        let mut dialect = flavor.reply_dialect();
        let mut steps = Vec::new();
        for g in gens {
            let step = match g {
                Gen::Command(args) => {
                    let frame = Frame::Array(
                        args.iter()
                            .cloned()
                            .map(|a| Frame::Bulk(a.into()))
                            .collect(),
                    );
                    let mut bytes = BytesMut::new();
                    encode_into(&frame, Dialect::Resp2, &mut bytes);
                    Step::Send {
                        line: 0,
                        bytes: bytes.to_vec(),
                        command: Some(String::from_utf8_lossy(&args[0]).to_ascii_uppercase()),
                    }
                }
                Gen::Raw(bytes) => Step::Send {
                    line: 0,
                    bytes,
                    command: None,
                },
                Gen::Reply(f, unordered, variant) => {
                    let mut alternatives = vec![exact(&f, dialect, unordered)];
                    alternatives.extend(variant.map(|v| exact(&v, dialect, false)));
                    expectation(alternatives)
                }
                Gen::Glob(g) => expectation(vec![Matcher::Error(g)]),
                Gen::Type(t) => expectation(vec![Matcher::Type(t)]),
                Gen::Any => expectation(vec![Matcher::Any]),
                Gen::Deliver(k, seed) => Step::Deliver(match k {
                    0 => Delivery::Whole,
                    1 => Delivery::Pipelined,
                    2 => Delivery::Bytewise,
                    _ => Delivery::Chunks(seed),
                }),
                Gen::Decode(d) => {
                    dialect = if d == 0 {
                        Dialect::Resp2
                    } else {
                        Dialect::Resp3
                    };
                    Step::Decode(dialect)
                }
                Gen::Open(n) => Step::Open(n),
                Gen::Use(n) => Step::Use(n),
                Gen::Disconnect => Step::Disconnect,
                Gen::ExpectClose => Step::ExpectClose { line: 0 },
                Gen::Silence(ms) => Step::Silence {
                    line: 0,
                    duration: Duration::from_millis(ms),
                },
                Gen::Sleep(ms) => Step::Sleep(Duration::from_millis(ms)),
            };
            steps.push(step);
        }
        let path = PathBuf::from("conformance/redis/area/y_generated.scenario");
        Scenario {
            id: id_from_path(Path::new("y_generated.scenario")),
            verdict: verdict_of(&path),
            path,
            title,
            tags,
            needs: vec!["GET".into(), "SET".into()],
            flavor,
            destructive: false,
            global: false,
            since: None,
            cluster: ClusterRule::Anywhere,
            steps,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn parse_of_write_is_the_scenario(
            gens in proptest::collection::vec(gen_step(), 0..12),
            title in "[A-Za-z]([A-Za-z0-9 ,.]{0,30}[a-z])?",
            tags in proptest::collection::vec("[a-z0-9]{1,6}", 0..3),
        ) {
            // Redis flavor only: the seed dialect decodes replies into other frames (its
            // round trip is covered by the corpus files under conformance/seed).
            let s = build(gens, title, tags, Flavor::Redis);
            round_trip(&s, |text| Scenario::parse(&s.path, text).unwrap_or_else(|e| panic!("{e}\n{text}")));
        }
    }

    /// Every scenario of the corpus, written and read back, is the same scenario.
    #[test]
    fn every_corpus_file_survives_a_round_trip() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance");
        let all = super::super::load_dir(&root).expect("the corpus loads");
        assert!(all.len() > 100, "{} scenarios", all.len());
        for s in &all {
            round_trip(s, |text| {
                Scenario::parse_under(&root, &s.path, text)
                    .unwrap_or_else(|e| panic!("{e}\n{text}"))
            });
        }
    }
}
