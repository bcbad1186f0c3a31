//! Which markers a stream may carry.

use std::fmt;
use std::str::FromStr;

/// A dialect of the protocol: it decides which first bytes (markers) are legal and how a frame
/// that the dialect cannot carry natively is written (see [`crate::resp::encode_into`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// RESP2: `+ - : $ *`, with `$-1` and `*-1` as nulls.
    Resp2,
    /// RESP3: RESP2 plus `_ , # ! = ( % ~ | >` and the streamed forms `$?`, `*?`, `%?`, `~?`, `|?`.
    Resp3,
    /// The dialect of `simpledb` 0.4.3: RESP2 plus `^` (UTF-8 text), `@` (JSON), `&` (set) and
    /// `%` (dict of N pairs); `:` also carries floats and integers of any size.
    Seed,
}

impl Dialect {
    /// Every dialect, in a stable order (for tests and reports).
    pub const ALL: [Dialect; 3] = [Dialect::Resp2, Dialect::Resp3, Dialect::Seed];

    /// Whether `byte` starts a frame in this dialect.
    pub fn is_marker(self, byte: u8) -> bool {
        match byte {
            b'+' | b'-' | b':' | b'$' | b'*' => true,
            b'_' | b',' | b'#' | b'!' | b'=' | b'(' | b'~' | b'|' | b'>' => self == Dialect::Resp3,
            b'%' => self != Dialect::Resp2,
            b'^' | b'@' | b'&' => self == Dialect::Seed,
            _ => false,
        }
    }

    /// The dialect's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Resp2 => "resp2",
            Dialect::Resp3 => "resp3",
            Dialect::Seed => "seed",
        }
    }

    /// Whether this dialect is one of Redis's own (RESP2 or RESP3).
    pub fn is_redis(self) -> bool {
        self != Dialect::Seed
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "resp2" | "2" => Ok(Dialect::Resp2),
            "resp3" | "3" => Ok(Dialect::Resp3),
            "seed" | "simpledb" => Ok(Dialect::Seed),
            other => Err(format!(
                "unknown dialect `{other}` (expected resp2, resp3 or seed)"
            )),
        }
    }
}
