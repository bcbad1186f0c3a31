//! Syntax validation of the seed dialect's `@` (JSON) payloads, without building a value.
//!
//! simpledb parses an `@` payload with Python's `json.loads`; a payload that is not JSON is an
//! error there, so the decoder rejects it too. What is accepted here is RFC 8259's grammar
//! exactly as `serde_json` accepts it when it skips a value (the crate's earlier validator, kept
//! as the reference in a property test): strings are raw bytes (not checked as UTF-8, as
//! `serde_json::from_slice` does not), control characters below 0x20 are refused inside strings,
//! `\u` escapes must have four hex digits (their code point is not checked), and nesting deeper
//! than [`MAX_JSON_DEPTH`] is refused. Python would also take `NaN` and `Infinity`; neither is
//! JSON and neither is accepted.
//!
//! The check is iterative (no recursion a payload can deepen) and allocates nothing: the open
//! containers are a bit stack.

/// Deepest nesting of arrays and objects in one payload (serde_json's recursion limit).
pub const MAX_JSON_DEPTH: usize = 127;

/// A stack of up to [`MAX_JSON_DEPTH`] container kinds, one bit each (1 = object).
struct Containers {
    bits: [u64; 2],
    len: usize,
}

impl Containers {
    fn push(&mut self, object: bool) -> bool {
        if self.len >= MAX_JSON_DEPTH {
            return false;
        }
        let (word, bit) = (self.len / 64, self.len % 64);
        if let Some(w) = self.bits.get_mut(word) {
            if object {
                *w |= 1 << bit;
            } else {
                *w &= !(1 << bit);
            }
        }
        self.len += 1;
        true
    }

    /// The innermost container: `Some(true)` for an object, `Some(false)` for an array.
    fn top(&self) -> Option<bool> {
        let i = self.len.checked_sub(1)?;
        let word = self.bits.get(i / 64)?;
        Some(word & (1 << (i % 64)) != 0)
    }

    fn pop(&mut self) {
        self.len = self.len.saturating_sub(1);
    }
}

/// Whether `input` is one JSON value, optionally surrounded by whitespace.
pub fn is_valid_json(input: &[u8]) -> bool {
    let mut p = Json { input, pos: 0 };
    let mut stack = Containers {
        bits: [0; 2],
        len: 0,
    };
    // Each turn reads one value; containers push and are closed by the loop below.
    'value: loop {
        p.skip_ws();
        match p.peek() {
            Some(b'{') => {
                p.pos += 1;
                if !stack.push(true) {
                    return false;
                }
                p.skip_ws();
                if p.eat(b'}') {
                    stack.pop();
                } else {
                    if !p.string() || !p.colon() {
                        return false;
                    }
                    continue 'value;
                }
            }
            Some(b'[') => {
                p.pos += 1;
                if !stack.push(false) {
                    return false;
                }
                p.skip_ws();
                if p.eat(b']') {
                    stack.pop();
                } else {
                    continue 'value;
                }
            }
            Some(b'"') => {
                if !p.string() {
                    return false;
                }
            }
            Some(b't') => {
                if !p.literal(b"true") {
                    return false;
                }
            }
            Some(b'f') => {
                if !p.literal(b"false") {
                    return false;
                }
            }
            Some(b'n') => {
                if !p.literal(b"null") {
                    return false;
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                if !p.number() {
                    return false;
                }
            }
            _ => return false,
        }
        // A value ended: close containers, or go on to the next element or member.
        loop {
            p.skip_ws();
            match stack.top() {
                None => return p.pos == p.input.len(),
                Some(object) => {
                    if p.eat(b',') {
                        if object {
                            p.skip_ws();
                            if !p.string() || !p.colon() {
                                return false;
                            }
                        }
                        continue 'value;
                    }
                    let close = if object { b'}' } else { b']' };
                    if !p.eat(close) {
                        return false;
                    }
                    stack.pop();
                }
            }
        }
    }
}

struct Json<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Json<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    fn colon(&mut self) -> bool {
        self.skip_ws();
        self.eat(b':')
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.input.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> bool {
        self.eat(b'-');
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return false;
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return false,
        }
        if self.eat(b'.') && self.digits() == 0 {
            return false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if self.digits() == 0 {
                return false;
            }
        }
        true
    }

    /// A string: `"`, then bytes of 0x20 and above or escapes, then `"`.
    fn string(&mut self) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        loop {
            let rest = self.input.get(self.pos..).unwrap_or_default();
            let Some(i) = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
            else {
                return false;
            };
            self.pos += i;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return true;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            let hex = self.input.get(self.pos..self.pos + 4);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return false;
                            }
                            self.pos += 4;
                        }
                        _ => return false,
                    }
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_json_and_refuses_the_rest() {
        for good in [
            &b"null"[..],
            b" 1 ",
            b"-0.5e+10",
            b"\"a\\u00e9\\n\"",
            b"[1,[2,{\"a\":[]}],{}]",
            b"{\"a\" : {\"b\":true} , \"c\":false}",
            b"\"\xff\"",
        ] {
            assert!(is_valid_json(good), "{:?}", String::from_utf8_lossy(good));
        }
        for bad in [
            &b""[..],
            b"01",
            b"1.",
            b"1e",
            b"-",
            b"[1,]",
            b"{\"a\":1,}",
            b"{1:2}",
            b"[1 2]",
            b"NaN",
            b"\"\x01\"",
            b"\"\\x\"",
            b"\"\\u12\"",
            b"tru",
            b"[]]",
            b"{} {}",
            b"[",
        ] {
            assert!(!is_valid_json(bad), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(is_valid_json(ok.as_bytes()));
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(!is_valid_json(deep.as_bytes()));
    }
}
