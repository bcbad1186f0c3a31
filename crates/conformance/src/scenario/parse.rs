//! The parser: scenario text, line by line, into a [`Scenario`] of steps.
//!
//! ```text
//! # title: GET of a missing key is the null bulk string
//! # tags: nulls resp2
//! # needs: GET
//! > GET {{k}}missing
//! < $-1
//! ```
//!
//! Lines, by their first characters:
//!
//! | line | meaning |
//! |---|---|
//! | `# key: value` | header: `id` (optional: the id comes from the path, see [`super::identity`]; a header may only repeat it), `title`, `tags`, `needs` (commands), `flavor` (redis or seed), `destructive` (yes), `global` (yes), `since` (a Redis version: on an older target a failure is VERSION), `cluster` (`only`, `elsewhere`, `no <reason>`: see [`super::types::ClusterRule`]) |
//! | `#` anything else, blank | comment |
//! | `> ARGS` | send a command: arguments split by redis-cli's quoting (`"a b"`, `"\x00"`), sent as an array of bulk strings |
//! | `>> BYTES` | send raw bytes, with escapes `\r \n \t \a \b \0 \xHH \\ \"` |
//! | `< LINE` | one line of the expected reply, exact bytes, CRLF added; consecutive `<` lines form one block that may hold several replies |
//! | `<~ LINE` | like `<`, but aggregates may come in any order (sets, map keys) |
//! | `<\| LINE` | an accepted variant of the block above it (NON-STRICT when it is the one that matches) |
//! | `<@RANGE LINE` | what versions in RANGE (`<7.0`, `>=7.2`, `6.2`) answer instead of the block above: VERSION on such a target, FAIL on another |
//! | `? error GLOB` / `? type NAME` / `? any` | expect one reply by a matcher |
//! | `! deliver whole\|pipelined\|bytewise\|chunks SEED` | how sends are written |
//! | `! decode resp2\|resp3\|seed` | read replies in this dialect from here on |
//! | `! open NAME` / `! use NAME` / `! disconnect` | connections |
//! | `! expect-close` / `! silence MS` / `! sleep MS` | the server must close / must stay silent / wait |
//! | `! repeat N` | the next send and the next expectation happen N times; `{{i}}` is 1..=N |
//!
//! Everywhere, `{{k}}` is the scenario's own key prefix (`respect:<id>:`), and `{{C*N}}` is
//! the byte `C` repeated N times (large values without large files). In `>>` lines,
//! `{{$:TEXT}}` is TEXT as a bulk string with its length counted (`{{$:{{k}}a}}` is
//! `$<n>\r\nrespect:<id>:a\r\n`), so raw requests can name keys under the prefix too.
//!
//! Scenarios run side by side on one keyspace, so each names only keys under its own prefix;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::BytesMut;

use super::identity::{flavor_of, id_from_path, verdict_of};
use super::template::{
    expand_generators, replace_index, substitute_index, with_key_prefix, INDEX, MAX_REPEAT,
};
use super::types::{ClusterRule, Delivery, Expectation, Matcher, Scenario, Step, VersionRange};
use respect_resp::{
    encode_into, split_inline, unescape_bytes, Decoder, Dialect, Flavor, Frame, Limits, Role,
};

/// A scenario that could not be parsed: where and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ParseError {
    /// The file.
    pub path: String,
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl Scenario {
    /// Parses `text` read from `path`, outside any scenario root: the id is the one a `# id:`
    /// header names, else the one the file name alone gives ([`id_from_path`]).
    pub fn parse(path: &Path, text: &str) -> Result<Scenario, ParseError> {
        let name = path.file_name().map(Path::new).unwrap_or(path);
        Parser::new(path, id_from_path(name), false).parse(text)
    }

    /// Parses `text` read from `path` under the scenario root `root`: the id comes from the
    /// path under the root ([`id_from_path`]), and a `# id:` header that says otherwise is an
    /// error.
    pub fn parse_under(root: &Path, path: &Path, text: &str) -> Result<Scenario, ParseError> {
        let relative = path.strip_prefix(root).unwrap_or(path);
        Parser::new(path, id_from_path(relative), true).parse(text)
    }
}

struct Parser {
    path: PathBuf,
    /// Whether the id comes from the path (under a scenario root), so that a `# id:` header
    /// may only repeat it.
    path_names_id: bool,
    scenario: Scenario,
    /// Dialect replies are decoded in at this point of the file.
    decode: Dialect,
    repeat: Option<usize>,
    repeat_send_done: bool,
    /// The expectation block being gathered: (first line, last line, kind, bytes, variants).
    block: Option<Block>,
}

/// The replies an expectation block holds: each frame with its exact bytes.
type Replies = Vec<(Frame, Vec<u8>)>;

struct Block {
    first: usize,
    /// Whether a line of the block holds the `{{i}}` template (as text, not escaped).
    indexed: bool,
    last: usize,
    unordered: bool,
    bytes: Vec<u8>,
    variants: Vec<Vec<u8>>,
    /// `<@RANGE` forms, one per run of lines with the same range.
    versioned: Vec<(VersionRange, Vec<u8>)>,
}

impl Parser {
    fn new(path: &Path, id: String, path_names_id: bool) -> Parser {
        let flavor = flavor_of(path);
        Parser {
            path: path.to_path_buf(),
            path_names_id,
            scenario: Scenario {
                path: path.to_path_buf(),
                id,
                title: String::new(),
                tags: Vec::new(),
                needs: Vec::new(),
                flavor,
                verdict: verdict_of(path),
                destructive: false,
                global: false,
                since: None,
                cluster: ClusterRule::Anywhere,
                steps: Vec::new(),
            },
            decode: flavor.reply_dialect(),
            repeat: None,
            repeat_send_done: false,
            block: None,
        }
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            path: self.path.display().to_string(),
            line,
            message: message.into(),
        }
    }

    fn parse(mut self, text: &str) -> Result<Scenario, ParseError> {
        for (index, raw_line) in text.lines().enumerate() {
            let n = index + 1;
            let line = raw_line.trim_end_matches('\r');
            let (sigil, rest) = split_sigil(line);
            if let Some(tagged) = line.strip_prefix("<@") {
                self.versioned_line(n, tagged)?;
                continue;
            }
            if !matches!(sigil, "<" | "<~" | "<|") {
                self.flush_block()?;
            }
            match sigil {
                "" => {}
                "#" => self.header(n, rest)?,
                ">" => self.send_command(n, rest)?,
                ">>" => {
                    let bytes = self.expand(n, rest)?;
                    self.push_send(n, bytes, None, rest.contains(INDEX));
                }
                "<" | "<~" | "<|" => self.block_line(n, sigil, rest)?,
                "?" => self.matcher(n, rest)?,
                "!" => self.directive(n, rest)?,
                _ => return Err(self.error(n, format!("unknown line `{line}`"))),
            }
        }
        self.flush_block()?;
        if self.repeat.is_some() {
            return Err(self.error(0, "`! repeat` without a send and an expectation after it"));
        }
        Ok(self.scenario)
    }

    fn header(&mut self, line: usize, rest: &str) -> Result<(), ParseError> {
        let Some((key, value)) = rest.split_once(':') else {
            return Ok(());
        };
        let value = value.trim();
        match key.trim() {
            "id" if self.path_names_id && value != self.scenario.id => {
                return Err(self.error(
                    line,
                    format!(
                        "`# id: {value}` disagrees with the id its path gives, `{}`",
                        self.scenario.id
                    ),
                ))
            }
            "id" => self.scenario.id = value.to_string(),
            "title" => self.scenario.title = value.to_string(),
            "tags" => self.scenario.tags = value.split_whitespace().map(String::from).collect(),
            "needs" => {
                self.scenario.needs = value
                    .split_whitespace()
                    .map(|c| c.to_ascii_uppercase())
                    .collect()
            }
            "flavor" => match value.parse::<Flavor>() {
                Ok(flavor) => {
                    self.scenario.flavor = flavor;
                    self.decode = flavor.reply_dialect();
                }
                Err(e) => return Err(self.error(line, e)),
            },
            "destructive" => self.scenario.destructive = value == "yes",
            "global" => self.scenario.global = value == "yes",
            "since" => {
                self.scenario.since = Some(value.parse().map_err(|e: String| self.error(line, e))?)
            }
            "cluster" => {
                self.scenario.cluster = match value.split_once(' ').unwrap_or((value, "")) {
                    ("only", "") => ClusterRule::Only,
                    ("elsewhere", "") => ClusterRule::Elsewhere,
                    ("no", why) if !why.trim().is_empty() => ClusterRule::Not(why.trim().into()),
                    _ => {
                        return Err(self.error(
                            line,
                            format!("bad `# cluster: {value}` (only, elsewhere, or no <reason>)"),
                        ))
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Expands `{{k}}`, `{{C*N}}` and `{{i}}`, and the escapes between them.
    fn expand(&self, line: usize, text: &str) -> Result<Vec<u8>, ParseError> {
        let with_prefix = with_key_prefix(text, &self.scenario.id);
        expand_generators(&with_prefix, unescape_bytes).map_err(|e| self.error(line, e))
    }

    fn send_command(&mut self, line: usize, rest: &str) -> Result<(), ParseError> {
        let with_prefix = with_key_prefix(rest, &self.scenario.id);
        // Generators first, so `{{x*1048576}}` can stand inside a quoted argument.
        let expanded = expand_generators(&with_prefix, |t| Ok(t.as_bytes().to_vec()))
            .map_err(|e| self.error(line, e))?;
        let args = split_inline(&expanded).map_err(|e| self.error(line, format!("{e}")))?;
        if args.is_empty() {
            return Err(self.error(line, "`>` without a command"));
        }
        let command = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        let mut bytes = BytesMut::new();
        encode_into(
            &Frame::Array(args.into_iter().map(Frame::Bulk).collect()),
            Dialect::Resp2,
            &mut bytes,
        );
        self.push_send(line, bytes.to_vec(), Some(command), rest.contains(INDEX));
        Ok(())
    }

    /// Adds a send (`times` of them under `! repeat`); `indexed` says whether the line's text
    /// holds the `{{i}}` template, so that bytes which merely read `{{i}}` (written escaped, as
    /// `\x7b{i}}`) are sent as they are.
    fn push_send(&mut self, line: usize, bytes: Vec<u8>, command: Option<String>, indexed: bool) {
        let times = match self.repeat {
            Some(n) if !self.repeat_send_done => {
                self.repeat_send_done = true;
                n
            }
            _ => 1,
        };
        for i in 1..=times {
            self.scenario.steps.push(Step::Send {
                line,
                bytes: if indexed {
                    substitute_index(&bytes, i)
                } else {
                    bytes.clone()
                },
                command: command.clone(),
            });
        }
    }

    /// A `<@RANGE LINE` line: one line of what versions in RANGE answer instead of the block.
    fn versioned_line(&mut self, line: usize, tagged: &str) -> Result<(), ParseError> {
        let (range, rest) = tagged.split_once(' ').unwrap_or((tagged, ""));
        let range: VersionRange = range.parse().map_err(|e: String| self.error(line, e))?;
        let mut bytes = self.expand(line, rest)?;
        bytes.extend_from_slice(b"\r\n");
        let Some(block) = &mut self.block else {
            return Err(self.error(line, "`<@` form with no `<` block above it"));
        };
        match block.versioned.last_mut() {
            Some((last, form)) if *last == range && block.last + 1 == line => {
                form.extend_from_slice(&bytes)
            }
            _ => block.versioned.push((range, bytes)),
        }
        block.last = line;
        Ok(())
    }

    fn block_line(&mut self, line: usize, sigil: &str, rest: &str) -> Result<(), ParseError> {
        let mut bytes = self.expand(line, rest)?;
        bytes.extend_from_slice(b"\r\n");
        match (&mut self.block, sigil) {
            (None, "<|") => return Err(self.error(line, "`<|` variant with no `<` block above it")),
            (None, _) => {
                self.block = Some(Block {
                    first: line,
                    indexed: rest.contains(INDEX),
                    last: line,
                    unordered: sigil == "<~",
                    bytes,
                    variants: Vec::new(),
                    versioned: Vec::new(),
                })
            }
            (Some(block), "<|") => {
                block.indexed |= rest.contains(INDEX);
                // A new variant starts where the previous line was not `<|`.
                if block.last + 1 != line || block.variants.is_empty() {
                    block.variants.push(bytes);
                } else if let Some(v) = block.variants.last_mut() {
                    v.extend_from_slice(&bytes);
                }
                block.last = line;
            }
            (Some(block), _) => {
                block.indexed |= rest.contains(INDEX);
                if !block.variants.is_empty() {
                    return Err(self.error(
                        line,
                        "`<` line after a `<|` variant: start a new block with a blank line",
                    ));
                }
                block.bytes.extend_from_slice(&bytes);
                block.last = line;
            }
        }
        Ok(())
    }

    /// Splits bytes into the frames they hold, in the current decode dialect.
    fn frames(&self, line: usize, bytes: &[u8]) -> Result<Vec<(Frame, Vec<u8>)>, ParseError> {
        let mut decoder = Decoder::with_options(self.decode, Role::Reply, Limits::default());
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        loop {
            match decoder.decode_with_raw(&mut buf) {
                Ok(Some((frame, raw))) => out.push((frame, raw.to_vec())),
                Ok(None) if buf.is_empty() => return Ok(out),
                Ok(None) => return Err(self.error(line, "expected reply ends inside a frame")),
                Err(e) => {
                    return Err(self.error(
                        line,
                        format!("expected reply is not valid {}: {e}", self.decode),
                    ))
                }
            }
        }
    }

    fn flush_block(&mut self) -> Result<(), ParseError> {
        let Some(block) = self.block.take() else {
            return Ok(());
        };
        if !block.indexed {
            for e in self.block_expectations(&block, &block.bytes, &block.variants)? {
                self.push_expectation(e);
            }
            return Ok(());
        }
        // `{{i}}` in an expectation is replaced as text, before decoding, once per repetition.
        let times = self.repeat.take().unwrap_or(1);
        self.repeat_send_done = false;
        for i in 1..=times {
            let digits = i.to_string();
            let bytes = replace_index(&block.bytes, digits.as_bytes()).to_vec();
            let variants: Vec<Vec<u8>> = block
                .variants
                .iter()
                .map(|v| replace_index(v, digits.as_bytes()).to_vec())
                .collect();
            for mut e in self.block_expectations(&block, &bytes, &variants)? {
                e.repeated = times > 1;
                self.scenario.steps.push(Step::Expect(e));
            }
        }
        Ok(())
    }

    /// One expectation per reply in `bytes`, each with its variants.
    fn block_expectations(
        &self,
        block: &Block,
        bytes: &[u8],
        variant_bytes: &[Vec<u8>],
    ) -> Result<Vec<Expectation>, ParseError> {
        let main = self.frames(block.first, bytes)?;
        let variants: Vec<Vec<(Frame, Vec<u8>)>> = variant_bytes
            .iter()
            .map(|v| self.frames(block.first, v))
            .collect::<Result<_, _>>()?;
        if variants.iter().any(|v| v.len() != main.len()) {
            return Err(self.error(
                block.first,
                "a `<|` variant must hold as many replies as the block it varies",
            ));
        }
        let versioned: Vec<(VersionRange, Replies)> = block
            .versioned
            .iter()
            .map(|(range, bytes)| Ok((*range, self.frames(block.first, bytes)?)))
            .collect::<Result<_, ParseError>>()?;
        if versioned.iter().any(|(_, v)| v.len() != main.len()) {
            return Err(self.error(
                block.first,
                "a `<@` form must hold as many replies as the block it varies",
            ));
        }
        Ok(main
            .into_iter()
            .enumerate()
            .map(|(index, (frame, bytes))| {
                let strict = if block.unordered {
                    Matcher::Unordered { frame, bytes }
                } else {
                    Matcher::Exact { frame, bytes }
                };
                let mut alternatives = vec![strict];
                alternatives.extend(
                    variants
                        .iter()
                        .filter_map(|v| v.get(index).cloned())
                        .map(|(frame, bytes)| Matcher::Exact { frame, bytes }),
                );
                Expectation {
                    line: block.first,
                    lines: (block.first, block.last),
                    alternatives,
                    repeated: false,
                    versioned: versioned
                        .iter()
                        .filter_map(|(range, v)| {
                            let (frame, bytes) = v.get(index).cloned()?;
                            Some((*range, Matcher::Exact { frame, bytes }))
                        })
                        .collect(),
                }
            })
            .collect())
    }

    fn push_expectation(&mut self, expectation: Expectation) {
        let times = match self.repeat.take() {
            Some(n) => {
                self.repeat_send_done = false;
                n
            }
            None => 1,
        };
        for _ in 0..times {
            let mut e = expectation.clone();
            e.repeated = times > 1;
            self.scenario.steps.push(Step::Expect(e));
        }
    }

    fn matcher(&mut self, line: usize, rest: &str) -> Result<(), ParseError> {
        let (kind, arg) = rest.split_once(' ').unwrap_or((rest, ""));
        let matcher = match kind {
            // `{{k}}` and `{{slot}}` may stand in a glob (`? error MOVED {{slot}} *`).
            "error" => Matcher::Error(with_key_prefix(arg.trim(), &self.scenario.id)),
            "simple" => Matcher::Simple(with_key_prefix(arg.trim(), &self.scenario.id)),
            "type" => Matcher::Type(arg.trim().to_string()),
            "any" => Matcher::Any,
            _ => {
                return Err(self.error(
                    line,
                    format!("unknown matcher `? {kind}` (error, simple, type, any)"),
                ))
            }
        };
        self.push_expectation(Expectation {
            line,
            lines: (line, line),
            alternatives: vec![matcher],
            repeated: false,
            versioned: Vec::new(),
        });
        Ok(())
    }

    fn directive(&mut self, line: usize, rest: &str) -> Result<(), ParseError> {
        let words: Vec<&str> = rest.split_whitespace().collect();
        let millis = |w: Option<&&str>| -> Result<Duration, ParseError> {
            w.and_then(|s| s.trim_end_matches("ms").parse::<u64>().ok())
                .map(Duration::from_millis)
                .ok_or_else(|| self.error(line, "expected a duration in milliseconds"))
        };
        let step = match words.as_slice() {
            ["deliver", "whole"] => Step::Deliver(Delivery::Whole),
            ["deliver", "pipelined"] => Step::Deliver(Delivery::Pipelined),
            ["deliver", "bytewise"] => Step::Deliver(Delivery::Bytewise),
            ["deliver", "chunks", seed] => Step::Deliver(Delivery::Chunks(
                seed.parse()
                    .map_err(|_| self.error(line, "`chunks` takes a numeric seed"))?,
            )),
            ["decode", d] => {
                let dialect: Dialect = d.parse().map_err(|e: String| self.error(line, e))?;
                self.decode = dialect;
                Step::Decode(dialect)
            }
            ["open", name] => Step::Open((*name).to_string()),
            ["use", name] => Step::Use((*name).to_string()),
            ["disconnect"] => Step::Disconnect,
            ["expect-close"] => Step::ExpectClose { line },
            ["silence", _] => Step::Silence {
                line,
                duration: millis(words.get(1))?,
            },
            ["sleep", _] => Step::Sleep(millis(words.get(1))?),
            ["repeat", n] => {
                let n: usize = n
                    .parse()
                    .map_err(|_| self.error(line, "`repeat` takes a count"))?;
                if n == 0 || n > MAX_REPEAT {
                    return Err(
                        self.error(line, format!("`repeat` count must be 1 to {MAX_REPEAT}"))
                    );
                }
                self.repeat = Some(n);
                self.repeat_send_done = false;
                return Ok(());
            }
            _ => return Err(self.error(line, format!("unknown directive `! {rest}`"))),
        };
        self.scenario.steps.push(step);
        Ok(())
    }
}

/// The sigil of a line (`>>`, `>`, `<~`, `<|`, `<`, `?`, `!`, `#`, or "" for a blank line)
/// and the rest, with the one separating space removed.
fn split_sigil(line: &str) -> (&str, &str) {
    if line.trim().is_empty() {
        return ("", "");
    }
    for sigil in [">>", "<~", "<|", ">", "<", "?", "!", "#"] {
        if let Some(rest) = line.strip_prefix(sigil) {
            return (sigil, rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    ("?unknown", line)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Verdict;

    fn parse(text: &str) -> Result<Scenario, ParseError> {
        Scenario::parse(Path::new("conformance/redis/x/y_t.scenario"), text)
    }

    #[test]
    fn the_cluster_header_is_read_and_written_back() {
        for (value, rule) in [
            ("only", ClusterRule::Only),
            ("elsewhere", ClusterRule::Elsewhere),
            (
                "no it counts every key",
                ClusterRule::Not("it counts every key".into()),
            ),
        ] {
            let s = parse(&format!("# cluster: {value}\n> PING\n< +PONG\n")).unwrap();
            assert_eq!(s.cluster, rule);
            let written = super::super::write::scenario_text(&s).unwrap();
            assert!(
                written.contains(&format!("# cluster: {value}\n")),
                "{written}"
            );
            assert_eq!(Scenario::parse(&s.path, &written).unwrap().cluster, rule);
        }
        assert!(
            parse("# cluster: no\n> PING\n< +PONG\n").is_err(),
            "a reason is needed"
        );
        assert!(parse("# cluster: maybe\n> PING\n< +PONG\n").is_err());
        // `{{slot}}` is the slot of the scenario's own keys, in `<` lines and error globs.
        let s = parse("> GET {{k}}a\n? error MOVED {{slot}} *\n").unwrap();
        let slot = crate::cluster::key_slot(s.key_prefix().as_bytes());
        let Step::Expect(e) = &s.steps[1] else {
            panic!("{:?}", s.steps)
        };
        assert_eq!(
            e.alternatives,
            vec![Matcher::Error(format!("MOVED {slot} *"))]
        );
    }

    #[test]
    fn versioned_forms_and_since_are_read_and_written_back() {
        let text = "# since: 7.0\n> NOSUCHCMD\n< -ERR unknown command 'NOSUCHCMD'\n\
                    <@<7.0 -ERR unknown command `NOSUCHCMD`\n<@6.2 -ERR old\n";
        let s = parse(text).unwrap();
        assert_eq!(s.since, Some("7.0".parse().unwrap()));
        let Step::Expect(e) = &s.steps[1] else {
            panic!("{:?}", s.steps)
        };
        assert_eq!(
            e.alternatives.len(),
            1,
            "a version's form is no accepted variant"
        );
        let ranges: Vec<String> = e.versioned.iter().map(|(r, _)| r.to_string()).collect();
        assert_eq!(ranges, ["<7.0", "6.2"]);
        let Some((_, Matcher::Exact { bytes, .. })) = e.versioned.first() else {
            panic!("{:?}", e.versioned)
        };
        assert_eq!(bytes, b"-ERR unknown command `NOSUCHCMD`\r\n");
        let written = super::super::write::scenario_text(&s).unwrap();
        assert!(written.contains("# since: 7.0.0\n"), "{written}");
        assert!(
            written.contains("<@<7.0 -ERR unknown command `NOSUCHCMD`"),
            "{written}"
        );
        let back = Scenario::parse(&s.path, &written).unwrap();
        assert_eq!(back.since, s.since);
        assert_eq!(back.steps.len(), s.steps.len());
        assert!(
            parse("<@<7.0 -ERR x\n").is_err(),
            "a form needs a block above it"
        );
        assert!(parse("> PING\n< +PONG\n<@seven +PONG\n").is_err());
    }

    #[test]
    fn a_raw_bulk_generator_counts_the_prefixed_key() {
        let s = parse("# id: t\n>> *2\\r\\n$3\\r\\nGET\\r\\n{{$:{{k}}a\\xff}}\n").unwrap();
        match &s.steps[0] {
            Step::Send { bytes, .. } => {
                let key = [s.key_prefix().as_bytes(), b"a\xff"].concat();
                let mut want = format!("*2\r\n$3\r\nGET\r\n${}\r\n", key.len()).into_bytes();
                want.extend_from_slice(&key);
                want.extend_from_slice(b"\r\n");
                assert_eq!(bytes, &want)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_headers_sends_and_expectations() {
        let s = parse(
            "# id: t\n# needs: get set\n> SET {{k}}a \"x y\"\n< +OK\n> GET {{k}}a\n< $3\n< x y\n",
        )
        .unwrap();
        assert_eq!(s.id, "t");
        assert_eq!(s.needs, vec!["GET", "SET"]);
        assert_eq!(s.verdict, Verdict::Accept);
        assert_eq!(s.steps.len(), 4);
        match &s.steps[0] {
            Step::Send { bytes, .. } => {
                let key = format!("{}a", s.key_prefix());
                let want = format!(
                    "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$3\r\nx y\r\n",
                    key.len()
                );
                assert_eq!(bytes, want.as_bytes())
            }
            other => panic!("{other:?}"),
        }
        match &s.steps[3] {
            Step::Expect(e) => assert_eq!(
                e.alternatives[0],
                Matcher::Exact {
                    frame: Frame::bulk("x y"),
                    bytes: b"$3\r\nx y\r\n".to_vec()
                }
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_block_may_hold_several_replies_and_variants() {
        let s = parse("> PING\n> PING\n< +PONG\n< +PONG\n\n> X\n< :1\n<| :2\n").unwrap();
        let expects: Vec<_> = s
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Expect(_)))
            .collect();
        assert_eq!(expects.len(), 3);
        match expects[2] {
            Step::Expect(e) => assert_eq!(e.alternatives.len(), 2),
            _ => unreachable!(),
        }
    }

    #[test]
    fn repeat_generates_numbered_steps() {
        let s = parse("! repeat 3\n> INCR {{k}}n\n< :{{i}}\n").unwrap();
        let expected: Vec<Vec<u8>> = s
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Expect(e) => match &e.alternatives[0] {
                    Matcher::Exact { bytes, .. } => Some(bytes.clone()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(
            expected,
            vec![b":1\r\n".to_vec(), b":2\r\n".to_vec(), b":3\r\n".to_vec()]
        );
    }

    #[test]
    fn generators_and_raw_bytes() {
        let s = parse(">> *1\\r\\n$3\\r\\n{{x*3}}\\r\\n\n> SET k {{y*5}}\n").unwrap();
        match &s.steps[0] {
            Step::Send { bytes, .. } => assert_eq!(bytes, b"*1\r\n$3\r\nxxx\r\n"),
            other => panic!("{other:?}"),
        }
        match &s.steps[1] {
            Step::Send { bytes, .. } => assert!(bytes.ends_with(b"$5\r\nyyyyy\r\n")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_name_the_line() {
        for bad in [
            "< $3\n< ab\n",
            "> \n",
            "! nonsense\n",
            "<| :1\n",
            "? bogus\n",
            "hello\n",
            "! repeat 0\n",
            ">> \\q\n",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.line >= 1 || bad.contains("repeat"), "{bad}: {e}");
        }
    }
}
