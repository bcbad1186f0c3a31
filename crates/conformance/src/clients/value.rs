//! The canonical value: what a client library surfaced for one reply, as JSON, and how two
//! values compare (strictly, and down the normalisation ladder that makes NON-STRICT).
//!
//! The grammar (`conformance/clients/README.md` is the specification):
//!
//! | JSON | RESP |
//! |---|---|
//! | `{"simple": S}` | `+` |
//! | `{"bulk": S}` | `$`, `$?` streamed (chunks joined) |
//! | `{"verbatim": {"format": "txt", "text": S}}` | `=` |
//! | `{"int": N}` | `:` (an `i64`) |
//! | `{"double": N}`, `{"double": "inf" \| "-inf" \| "nan"}` | `,` |
//! | `{"bool": B}` | `#` |
//! | `{"null": null}` | `_`, `$-1`, `*-1` |
//! | `{"bignum": "digits"}` | `(`; also an integer outside `i64` |
//! | `{"error": S}` | `-`, `!` inside an aggregate |
//! | `{"array": [V...]}`, `{"set": [V...]}`, `{"push": [V...]}` | `*` `*?`, `~` `~?`, `>` |
//! | `{"map": [[K, V]...]}` | `%` `%?` |
//!
//! S, a byte string, is a JSON string when the bytes are UTF-8, else `{"hex": "00ff"}` (two
//! lower- or upper-case hex digits per byte). Sets and maps compare in any order.

use bytes::Bytes;
use respect_resp::Frame;
use serde_json::{json, Value as Json};

/// One value a client surfaced (or a scenario expects).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `+`.
    Simple(Bytes),
    /// `$`.
    Bulk(Bytes),
    /// `=`: the three-letter format and the text.
    Verbatim(String, Bytes),
    /// `:`.
    Int(i64),
    /// `,`.
    Double(f64),
    /// `#`.
    Bool(bool),
    /// Any null.
    Null,
    /// `(`: an optionally signed run of digits.
    BigNum(String),
    /// An error inside an aggregate (`-` or `!`).
    Error(Bytes),
    /// `*`.
    Array(Vec<Value>),
    /// `~`.
    Set(Vec<Value>),
    /// `>`.
    Push(Vec<Value>),
    /// `%`.
    Map(Vec<(Value, Value)>),
}

/// Largest nesting of a value read from JSON (a driver's output is input).
pub const MAX_VALUE_DEPTH: usize = 64;

fn bytes_to_json(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => Json::String(s.to_string()),
        Err(_) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            json!({ "hex": hex })
        }
    }
}

fn bytes_from_json(j: &Json) -> Result<Bytes, String> {
    match j {
        Json::String(s) => Ok(Bytes::copy_from_slice(s.as_bytes())),
        Json::Object(o) if o.len() == 1 => {
            let hex = o
                .get("hex")
                .and_then(Json::as_str)
                .ok_or("a byte string is a JSON string or {\"hex\": \"..\"}")?;
            if hex.len() % 2 != 0 {
                return Err("odd number of hex digits".into());
            }
            let digits: Vec<u8> = hex.bytes().collect();
            digits
                .chunks(2)
                .map(|pair| {
                    std::str::from_utf8(pair)
                        .ok()
                        .and_then(|p| u8::from_str_radix(p, 16).ok())
                        .ok_or_else(|| format!("bad hex `{hex}`"))
                })
                .collect::<Result<Vec<u8>, String>>()
                .map(Bytes::from)
        }
        other => Err(format!("not a byte string: {other}")),
    }
}

fn double_to_json(d: f64) -> Json {
    if d.is_nan() {
        json!("nan")
    } else if d == f64::INFINITY {
        json!("inf")
    } else if d == f64::NEG_INFINITY {
        json!("-inf")
    } else {
        serde_json::Number::from_f64(d).map_or(Json::Null, Json::Number)
    }
}

fn double_from_json(j: &Json) -> Result<f64, String> {
    match j {
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("bad double {n}")),
        Json::String(s) => match s.as_str() {
            "inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            "nan" => Ok(f64::NAN),
            _ => Err(format!("bad double `{s}` (a number, inf, -inf or nan)")),
        },
        other => Err(format!("bad double {other}")),
    }
}

impl Value {
    /// The canonical JSON of this value.
    pub fn to_json(&self) -> Json {
        let list = |items: &[Value]| Json::Array(items.iter().map(Value::to_json).collect());
        match self {
            Value::Simple(b) => json!({ "simple": bytes_to_json(b) }),
            Value::Bulk(b) => json!({ "bulk": bytes_to_json(b) }),
            Value::Verbatim(f, t) => {
                json!({ "verbatim": { "format": f, "text": bytes_to_json(t) } })
            }
            Value::Int(n) => json!({ "int": n }),
            Value::Double(d) => json!({ "double": double_to_json(*d) }),
            Value::Bool(b) => json!({ "bool": b }),
            Value::Null => json!({ "null": null }),
            Value::BigNum(s) => json!({ "bignum": s }),
            Value::Error(b) => json!({ "error": bytes_to_json(b) }),
            Value::Array(v) => json!({ "array": list(v) }),
            Value::Set(v) => json!({ "set": list(v) }),
            Value::Push(v) => json!({ "push": list(v) }),
            Value::Map(pairs) => json!({
                "map": pairs
                    .iter()
                    .map(|(k, v)| json!([k.to_json(), v.to_json()]))
                    .collect::<Vec<_>>()
            }),
        }
    }

    /// Reads canonical JSON (see the module doc); anything else is an error naming it.
    pub fn from_json(j: &Json) -> Result<Value, String> {
        Value::from_json_at(j, 0)
    }

    fn from_json_at(j: &Json, depth: usize) -> Result<Value, String> {
        if depth > MAX_VALUE_DEPTH {
            return Err(format!("nested deeper than {MAX_VALUE_DEPTH}"));
        }
        let Some((tag, body)) = j
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(format!("a value is an object with one key, not {j}"));
        };
        let list = |b: &Json| -> Result<Vec<Value>, String> {
            b.as_array()
                .ok_or_else(|| format!("`{tag}` holds a list"))?
                .iter()
                .map(|x| Value::from_json_at(x, depth + 1))
                .collect()
        };
        Ok(match tag.as_str() {
            "simple" => Value::Simple(bytes_from_json(body)?),
            "bulk" => Value::Bulk(bytes_from_json(body)?),
            "verbatim" => {
                let format = body
                    .get("format")
                    .and_then(Json::as_str)
                    .ok_or("verbatim needs a format")?;
                let text = bytes_from_json(body.get("text").ok_or("verbatim needs a text")?)?;
                Value::Verbatim(format.to_string(), text)
            }
            "int" => match body.as_i64() {
                Some(n) => Value::Int(n),
                None => return Err(format!("`int` holds an i64, not {body}")),
            },
            "double" => Value::Double(double_from_json(body)?),
            "bool" => Value::Bool(body.as_bool().ok_or("`bool` holds true or false")?),
            "null" => Value::Null,
            "bignum" => {
                let s = body.as_str().ok_or("`bignum` holds a string of digits")?;
                let digits = s.strip_prefix('-').unwrap_or(s);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!("bad bignum `{s}`"));
                }
                Value::BigNum(s.to_string())
            }
            "error" => Value::Error(bytes_from_json(body)?),
            "array" => Value::Array(list(body)?),
            "set" => Value::Set(list(body)?),
            "push" => Value::Push(list(body)?),
            "map" => Value::Map(
                body.as_array()
                    .ok_or("`map` holds a list of pairs")?
                    .iter()
                    .map(|pair| match pair.as_array().map(Vec::as_slice) {
                        Some([k, v]) => Ok((
                            Value::from_json_at(k, depth + 1)?,
                            Value::from_json_at(v, depth + 1)?,
                        )),
                        _ => Err(format!("a map entry is [key, value], not {pair}")),
                    })
                    .collect::<Result<_, String>>()?,
            ),
            other => return Err(format!("unknown value type `{other}`")),
        })
    }

    /// What a fully conforming client surfaces for `frame`: attributes are not part of the
    /// reply, a streamed form is its counted form, a top-level error is not a value (`None`).
    pub fn of_reply(frame: &Frame) -> Option<Value> {
        match frame {
            Frame::Error(_) | Frame::BlobError(_) => None,
            Frame::Attributed { frame, .. } => Value::of_reply(frame),
            other => Some(Value::of_frame(other)),
        }
    }

    /// The value of a frame anywhere in a reply.
    pub fn of_frame(frame: &Frame) -> Value {
        let list = |items: &[Frame]| items.iter().map(Value::of_frame).collect();
        let pairs = |items: &[(Frame, Frame)]| {
            items
                .iter()
                .map(|(k, v)| (Value::of_frame(k), Value::of_frame(v)))
                .collect()
        };
        match frame {
            Frame::Simple(b) => Value::Simple(b.clone()),
            Frame::Error(b) | Frame::BlobError(b) => Value::Error(b.clone()),
            Frame::Integer(n) => Value::Int(*n),
            Frame::Bulk(b) | Frame::Text(b) | Frame::Json(b) => Value::Bulk(b.clone()),
            Frame::NullBulk | Frame::NullArray | Frame::Null => Value::Null,
            Frame::Array(v) | Frame::StreamedArray(v) => Value::Array(list(v)),
            Frame::Double(d) => Value::Double(*d),
            Frame::DoubleText(text) => Value::Double(
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(f64::NAN),
            ),
            Frame::Boolean(b) => Value::Bool(*b),
            Frame::Verbatim { format, text } => {
                Value::Verbatim(String::from_utf8_lossy(format).into_owned(), text.clone())
            }
            Frame::BigNumber(b) => Value::BigNum(String::from_utf8_lossy(b).into_owned()),
            Frame::Map(p) | Frame::StreamedMap(p) => Value::Map(pairs(p)),
            Frame::Set(v) | Frame::StreamedSet(v) => Value::Set(list(v)),
            Frame::Push(v) => Value::Push(list(v)),
            Frame::Attributed { frame, .. } => Value::of_frame(frame),
            Frame::StreamedString(chunks) => Value::Bulk(chunks.concat().into()),
            // Requests only; a reply never holds one.
            Frame::Inline(args) => {
                Value::Array(args.iter().map(|a| Value::Bulk(a.clone())).collect())
            }
        }
    }

    /// Strict equality: every type kept; sets and maps in any order; NaN equals NaN; an error's
    /// text with or without its code (see [`error_text_matches`]).
    pub fn strict_eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Simple(a), Simple(b)) | (Bulk(a), Bulk(b)) => a == b,
            // As for a top-level error reply: the code may be left out of the text.
            (Error(a), Error(b)) => error_text_matches(a, b) || error_text_matches(b, a),
            (Verbatim(f, a), Verbatim(g, b)) => f == g && a == b,
            (Int(a), Int(b)) => a == b,
            (Double(a), Double(b)) => same_double(*a, *b),
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            (BigNum(a), BigNum(b)) => a == b,
            (Array(a), Array(b)) | (Push(a), Push(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.strict_eq(y))
            }
            (Set(a), Set(b)) => any_order(a, b, Value::strict_eq),
            (Map(a), Map(b)) => any_order(a, b, |(k, v), (l, w)| k.strict_eq(l) && v.strict_eq(w)),
            _ => false,
        }
    }

    /// Whether `self` (what a client surfaced) equals `expected` once both are brought down the
    /// normalisation ladder ([`Loose`]): the value is there, some distinction is lost.
    pub fn loose_eq(&self, expected: &Value) -> bool {
        Loose::of(self).matches(&Loose::of(expected))
    }
}

fn same_double(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

/// Whether `a` and `b` hold the same items in any order (each item of `b` used once).
fn any_order<T>(a: &[T], b: &[T], eq: impl Fn(&T, &T) -> bool) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b
            .iter()
            .enumerate()
            .find(|(i, y)| !used.get(*i).copied().unwrap_or(true) && eq(x, y));
        match found {
            Some((i, _)) => {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                true
            }
            None => false,
        }
    })
}

/// A value with the distinctions a client may lose and still be NON-STRICT taken away. The
/// ladder, rung by rung:
///
/// 1. simple string, bulk string, verbatim string (format dropped) → text;
/// 2. double → its number, equal to a text that reads as the same number (`"3.141"`, `"inf"`);
/// 3. big number → its digits, equal to an integer or a text with the same digits;
/// 4. boolean → the integer 1 or 0;
/// 5. set → list in any order; push → list;
/// 6. map → list of `[key, value]` pairs in any order, equal too to the flat list
///    `k1 v1 k2 v2` (the RESP2 shape).
///
/// Null and errors keep their kind: a null surfaced as an empty string, or an error as a
/// string, is a FAIL.
#[derive(Debug, Clone)]
pub enum Loose {
    /// A string of any kind, an integer's or big number's digits.
    Text(Bytes),
    /// A double.
    Number(f64),
    /// Null.
    Null,
    /// An error.
    Error(Bytes),
    /// A list; `ordered: false` for sets and maps.
    List(Vec<Loose>, bool),
    /// A map's pairs.
    Pairs(Vec<(Loose, Loose)>),
}

impl Loose {
    /// The value on the bottom rung of the ladder.
    pub fn of(v: &Value) -> Loose {
        match v {
            Value::Simple(b) | Value::Bulk(b) | Value::Verbatim(_, b) => Loose::Text(b.clone()),
            Value::Int(n) => Loose::Text(n.to_string().into()),
            Value::BigNum(s) => Loose::Text(s.clone().into()),
            Value::Bool(b) => Loose::Text(if *b { "1" } else { "0" }.into()),
            Value::Double(d) => Loose::Number(*d),
            Value::Null => Loose::Null,
            Value::Error(e) => Loose::Error(e.clone()),
            Value::Array(v) | Value::Push(v) => {
                Loose::List(v.iter().map(Loose::of).collect(), true)
            }
            Value::Set(v) => Loose::List(v.iter().map(Loose::of).collect(), false),
            Value::Map(p) => Loose::Pairs(
                p.iter()
                    .map(|(k, v)| (Loose::of(k), Loose::of(v)))
                    .collect(),
            ),
        }
    }

    /// Whether two loose values are the same (see the ladder on [`Loose`]).
    pub fn matches(&self, other: &Loose) -> bool {
        use Loose::*;
        match (self, other) {
            (Text(a), Text(b)) => a == b,
            (Number(a), Number(b)) => same_double(*a, *b),
            (Number(d), Text(t)) | (Text(t), Number(d)) => {
                text_number(t).is_some_and(|x| same_double(x, *d))
            }
            (Null, Null) => true,
            (Error(a), Error(b)) => error_text_matches(a, b) || error_text_matches(b, a),
            (List(a, oa), List(b, ob)) => {
                if *oa && *ob {
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.matches(y))
                } else {
                    any_order(a, b, Loose::matches)
                }
            }
            (Pairs(a), Pairs(b)) => any_order(a, b, |(k, v), (l, w)| k.matches(l) && v.matches(w)),
            (Pairs(p), List(items, _)) | (List(items, _), Pairs(p)) => {
                let as_pairs: Vec<Loose> = p
                    .iter()
                    .map(|(k, v)| List(vec![k.clone(), v.clone()], true))
                    .collect();
                let flat: Vec<Loose> = p.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect();
                any_order(&as_pairs, items, Loose::matches)
                    || (flat.len() == items.len()
                        && flat.iter().zip(items).all(|(x, y)| x.matches(y)))
            }
            _ => false,
        }
    }
}

fn text_number(t: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(t).ok()?.trim();
    match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Whether the error text a client surfaced, `got`, is the expected text `want`, or `want`
/// without its first word (the error code, which libraries such as redis-py turn into an
/// exception class and strip from the message).
pub fn error_text_matches(got: &[u8], want: &[u8]) -> bool {
    if got == want {
        return true;
    }
    // No space: the whole text is the code, and what is left without it is nothing.
    let rest = match want.iter().position(|b| *b == b' ') {
        Some(i) => want.get(i + 1..).unwrap_or_default(),
        None => &[],
    };
    rest == got
}

/// Reads one line of canonical JSON as a value.
pub fn parse_value(text: &str) -> Result<Value, String> {
    let j: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    Value::from_json(&j)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        parse_value(text).expect("valid value")
    }

    #[test]
    fn every_form_reads_and_writes_back() {
        for text in [
            r#"{"simple":"OK"}"#,
            r#"{"bulk":{"hex":"00ff"}}"#,
            r#"{"verbatim":{"format":"txt","text":"a\nb"}}"#,
            r#"{"int":-5}"#,
            r#"{"double":"inf"}"#,
            r#"{"double":1.5}"#,
            r#"{"bool":true}"#,
            r#"{"null":null}"#,
            r#"{"bignum":"-123456789012345678901234567890"}"#,
            r#"{"error":"ERR boom"}"#,
            r#"{"map":[[{"int":1},{"bulk":"a"}]]}"#,
            r#"{"set":[{"int":1}]}"#,
            r#"{"push":[]}"#,
        ] {
            let value = v(text);
            assert_eq!(
                value.to_json(),
                serde_json::from_str::<Json>(text).expect("json"),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        for text in [
            "1",
            r#"{"int":"1"}"#,
            r#"{"bulk":{"hex":"0"}}"#,
            r#"{"bulk":{"hex":"zz"}}"#,
            r#"{"map":[[1]]}"#,
            r#"{"bignum":"12a"}"#,
            r#"{"double":"big"}"#,
            r#"{"a":1,"b":2}"#,
        ] {
            assert!(parse_value(text).is_err(), "{text}");
        }
        let deep = format!(
            "{}{{\"null\":null}}{}",
            "{\"array\":[".repeat(100),
            "]}".repeat(100)
        );
        assert!(parse_value(&deep).is_err());
    }

    #[test]
    fn strict_keeps_types_and_ignores_set_and_map_order() {
        assert!(
            v(r#"{"set":[{"int":1},{"int":2}]}"#).strict_eq(&v(r#"{"set":[{"int":2},{"int":1}]}"#))
        );
        assert!(v(r#"{"double":"nan"}"#).strict_eq(&v(r#"{"double":"nan"}"#)));
        assert!(!v(r#"{"simple":"a"}"#).strict_eq(&v(r#"{"bulk":"a"}"#)));
        assert!(!v(r#"{"array":[{"int":1},{"int":2}]}"#)
            .strict_eq(&v(r#"{"array":[{"int":2},{"int":1}]}"#)));
    }

    #[test]
    fn the_ladder_accepts_lost_distinctions_only() {
        let loose = |got: &str, want: &str| v(got).loose_eq(&v(want));
        assert!(loose(
            r#"{"bulk":"a b"}"#,
            r#"{"verbatim":{"format":"txt","text":"a b"}}"#
        ));
        assert!(loose(
            r#"{"array":[{"int":2},{"int":1}]}"#,
            r#"{"set":[{"int":1},{"int":2}]}"#
        ));
        assert!(loose(r#"{"bulk":"3.141"}"#, r#"{"double":3.141}"#));
        assert!(loose(r#"{"bulk":"inf"}"#, r#"{"double":"inf"}"#));
        assert!(loose(r#"{"int":7}"#, r#"{"bignum":"7"}"#));
        assert!(loose(r#"{"int":1}"#, r#"{"bool":true}"#));
        assert!(loose(
            r#"{"array":[[{"int":1},{"bulk":"a"}]]}"#.replace("[[", "[{\"array\":[").replace("]]", "]}]").as_str(),
            r#"{"map":[[{"int":1},{"bulk":"a"}]]}"#
        ));
        assert!(loose(
            r#"{"array":[{"bulk":"k"},{"bulk":"v"}]}"#,
            r#"{"map":[[{"bulk":"k"},{"bulk":"v"}]]}"#
        ));
        assert!(loose(r#"{"error":"boom"}"#, r#"{"error":"ERR boom"}"#));
        assert!(error_text_matches(b"", b"ERR"));
        assert!(!error_text_matches(b"", b"ERR boom"));
        assert!(!loose(r#"{"bulk":""}"#, r#"{"null":null}"#));
        assert!(!loose(r#"{"bulk":"ERR boom"}"#, r#"{"error":"ERR boom"}"#));
        assert!(!loose(r#"{"double":3.14}"#, r#"{"double":3.141}"#));
    }

    #[test]
    fn a_reply_frame_gives_the_value_a_client_must_surface() {
        let frames = respect_resp::decode_all(
            b"|1\r\n+a\r\n:1\r\n%1\r\n:1\r\n$?\r\n;2\r\nab\r\n;0\r\n",
            respect_resp::Dialect::Resp3,
        )
        .expect("decodes");
        let got = frames.first().and_then(Value::of_reply).expect("a value");
        assert!(got.strict_eq(&v(r#"{"map":[[{"int":1},{"bulk":"ab"}]]}"#)));
    }
}
