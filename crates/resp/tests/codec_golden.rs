//! Golden byte-level snapshots of the codec, stored under `golden/`.
//!
//! - `golden/decode/`: one snapshot per line of `tests/data/decode_cases.txt` — what
//!   `respect decode --raw` prints for that input (frames, or the error and its offset).
//! - `golden/encode/`: one snapshot per frame kind — its bytes in RESP2, RESP3 and seed,
//!   which pins the conversion (downgrade) rules too.
//!
//! Review a changed snapshot with `cargo insta review` (or read the `.snap.new` file beside it).

use bytes::Bytes;
use respect_resp::inspect::inspect;
use respect_resp::{encode, escape_bytes, unescape_bytes, Dialect, Frame, Limits, Role};

fn parse_case(line: &str) -> (String, Dialect, Role, Vec<u8>) {
    let mut words = line.split_whitespace();
    let name = words.next().expect("name").to_string();
    let dialect = words
        .next()
        .expect("dialect")
        .parse()
        .expect("dialect name");
    let role = match words.next().expect("role") {
        "request" => Role::Request,
        "reply" => Role::Reply,
        "any" => Role::Any,
        other => panic!("unknown role {other}"),
    };
    let quoted = line[line.find('"').expect("opening quote")..].trim();
    let inner = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .expect("input in double quotes");
    let input = unescape_bytes(inner).unwrap_or_else(|e| panic!("{name}: {e}"));
    (name, dialect, role, input)
}

#[test]
fn decode_cases() {
    let table = std::fs::read_to_string("tests/data/decode_cases.txt").expect("case table");
    let mut names = std::collections::HashSet::new();
    for line in table
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let (name, dialect, role, input) = parse_case(line);
        assert!(names.insert(name.clone()), "duplicate case {name}");
        let mut out = Vec::new();
        let outcome = inspect(&input, dialect, role, Limits::default(), true, &mut out)
            .expect("write to a Vec");
        let text = format!(
            "input ({dialect}, {role:?}): \"{}\"\n{}outcome: {outcome:?}\n",
            escape_bytes(&input),
            String::from_utf8_lossy(&out)
        );
        // A malformed case must really be rejected; a valid one must decode cleanly.
        let clean = matches!(outcome, respect_resp::inspect::CaptureEnd::Clean { .. });
        assert_eq!(clean, !name.starts_with("n_"), "{name}: {text}");
        insta::with_settings!({snapshot_path => "../golden/decode", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name, text);
        });
    }
    assert!(names.len() >= 60, "the table shrank to {}", names.len());
}

/// Limits that a one-line table cannot express: long lines and deep nesting.
#[test]
fn decode_limit_cases() {
    let cases: Vec<(&str, Dialect, Role, Vec<u8>)> = vec![
        (
            "n_inline_over_64k",
            Dialect::Resp2,
            Role::Request,
            vec![b'a'; 64 * 1024 + 1],
        ),
        // Redis's rule: the inline limit refuses a buffer with no newline yet, never a line
        // whose newline has arrived, however long.
        (
            "y_inline_over_64k_with_newline",
            Dialect::Resp2,
            Role::Request,
            [vec![b'a'; 70_000], b"\r\n".to_vec()].concat(),
        ),
        // Redis searches an inline line for its newline with `strchr`, which stops at a NUL:
        // the request never completes (it waits), and past the limit it is too big.
        (
            "i_inline_nul_hides_the_newline",
            Dialect::Resp2,
            Role::Request,
            b"ECHO a\x00b\r\nPING\r\n".to_vec(),
        ),
        (
            "n_inline_nul_then_over_64k",
            Dialect::Resp2,
            Role::Request,
            [&b"a\x00"[..], &vec![b'a'; 70_000], b"\r\n"].concat(),
        ),
        (
            "n_simple_string_over_64k",
            Dialect::Resp2,
            Role::Reply,
            [&b"+"[..], &vec![b'a'; 64 * 1024 + 1]].concat(),
        ),
        (
            "n_nesting_129_levels",
            Dialect::Resp2,
            Role::Reply,
            b"*1\r\n".repeat(129),
        ),
        (
            "y_nesting_128_levels",
            Dialect::Resp2,
            Role::Reply,
            [b"*1\r\n".repeat(127), b"*0\r\n".to_vec()].concat(),
        ),
    ];
    for (name, dialect, role, input) in cases {
        let mut out = Vec::new();
        let outcome = inspect(&input, dialect, role, Limits::default(), false, &mut out)
            .expect("write to a Vec");
        let text = format!("{outcome:?}");
        insta::with_settings!({snapshot_path => "../golden/decode", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name, text);
        });
    }
}

fn b(s: &'static [u8]) -> Bytes {
    Bytes::from_static(s)
}

#[test]
fn encode_every_kind_in_every_dialect() {
    let cases: Vec<(&str, Frame)> = vec![
        ("simple", Frame::simple("OK")),
        ("simple_with_crlf", Frame::Simple(b(b"a\r\nb"))),
        ("error", Frame::error("ERR unknown command")),
        ("integer", Frame::Integer(-42)),
        (
            "integer_extremes",
            Frame::Array(vec![Frame::Integer(i64::MIN), Frame::Integer(i64::MAX)]),
        ),
        ("bulk", Frame::Bulk(b(b"\x00\r\n\xff"))),
        ("bulk_empty", Frame::Bulk(Bytes::new())),
        ("null_bulk", Frame::NullBulk),
        ("null_array", Frame::NullArray),
        ("array", Frame::command(["SET", "k", "v"])),
        ("array_empty", Frame::Array(vec![])),
        ("null", Frame::Null),
        (
            "double",
            Frame::Array(vec![
                Frame::Double(1.5),
                Frame::Double(1.0),
                Frame::Double(1e21),
                Frame::Double(-1.5e-7),
            ]),
        ),
        (
            "double_special",
            Frame::Array(vec![
                Frame::Double(f64::INFINITY),
                Frame::Double(f64::NEG_INFINITY),
                Frame::Double(f64::NAN),
            ]),
        ),
        (
            "boolean",
            Frame::Array(vec![Frame::Boolean(true), Frame::Boolean(false)]),
        ),
        (
            "blob_error",
            Frame::BlobError(b(b"SYNTAX invalid\r\nsyntax")),
        ),
        (
            "verbatim",
            Frame::Verbatim {
                format: *b"txt",
                text: b(b"Some string"),
            },
        ),
        (
            "big_number",
            Frame::BigNumber(b(b"3492890328409238509324850943850943825024385")),
        ),
        (
            "map",
            Frame::Map(vec![
                (Frame::simple("first"), Frame::Integer(1)),
                (Frame::bulk("second"), Frame::Null),
            ]),
        ),
        ("set", Frame::Set(vec![Frame::bulk("a"), Frame::bulk("b")])),
        (
            "push",
            Frame::Push(vec![
                Frame::bulk("message"),
                Frame::bulk("ch"),
                Frame::bulk("hi"),
            ]),
        ),
        (
            "attributed",
            Frame::Attributed {
                attributes: vec![(Frame::simple("ttl"), Frame::Integer(3))],
                streamed: false,
                frame: Box::new(Frame::simple("OK")),
            },
        ),
        (
            "attributed_streamed",
            Frame::Attributed {
                attributes: vec![(Frame::simple("ttl"), Frame::Integer(3))],
                streamed: true,
                frame: Box::new(Frame::Integer(1)),
            },
        ),
        (
            "streamed_string",
            Frame::StreamedString(vec![b(b"Hell"), b(b"o")]),
        ),
        (
            "streamed_array",
            Frame::StreamedArray(vec![Frame::Integer(1), Frame::Integer(2)]),
        ),
        (
            "streamed_map",
            Frame::StreamedMap(vec![(Frame::simple("a"), Frame::Integer(1))]),
        ),
        ("streamed_set", Frame::StreamedSet(vec![Frame::simple("x")])),
        ("text", Frame::Text(Bytes::from("héllo"))),
        ("json", Frame::Json(b(br#"{"a": [1, 2]}"#))),
        (
            "inline",
            Frame::Inline(vec![b(b"SET"), b(b"a key"), b(b"\x00\"\\"), Bytes::new()]),
        ),
        (
            "nested_seed_dict",
            Frame::Map(vec![(
                Frame::bulk("x"),
                Frame::Map(vec![(
                    Frame::bulk("y"),
                    Frame::Array(vec![Frame::Integer(1)]),
                )]),
            )]),
        ),
    ];
    for (name, frame) in cases {
        let mut text = format!("{frame:?}\n");
        for dialect in Dialect::ALL {
            text.push_str(&format!(
                "{:<5} \"{}\"\n",
                dialect.name(),
                escape_bytes(&encode(&frame, dialect))
            ));
        }
        insta::with_settings!({snapshot_path => "../golden/encode", prepend_module_to_snapshot => false, omit_expression => true}, {
            insta::assert_snapshot!(name, text);
        });
    }
}
