//! Which protocol world a connection lives in ([`Flavor`]) and which markers a stream may carry
//! ([`Dialect`]).
//!
//! The two are different questions. A *flavor* is what a server speaks and what a conformance
//! suite is written for: Redis (requests in RESP2 syntax, replies in RESP2 or, after `HELLO 3`,
//! RESP3) or the seed (simpledb's dialect both ways). A *dialect* is the codec-level choice of
//! which markers one byte stream may carry. Everything above the codec names a flavor and asks
//! it for the dialect it needs.

use std::fmt;
use std::str::FromStr;

/// A dialect of the protocol: it decides which first bytes (markers) are legal and how a frame
/// that the dialect cannot carry natively is written (see [`crate::encode_into`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

/// Which protocol world a server speaks and a suite is written for. It knows the wire dialect
/// of each direction, so nothing above the codec maps one onto the other by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flavor {
    /// Redis 7: requests in RESP2 syntax (or inline), replies in RESP2 until `HELLO 3`.
    Redis,
    /// simpledb 0.4.3: the seed dialect both ways.
    Seed,
}

impl Flavor {
    /// Every flavor, in a stable order.
    pub const ALL: [Flavor; 2] = [Flavor::Redis, Flavor::Seed];

    /// The dialect requests are written in.
    pub fn request_dialect(self) -> Dialect {
        match self {
            Flavor::Redis => Dialect::Resp2,
            Flavor::Seed => Dialect::Seed,
        }
    }

    /// The dialect replies are written in on a new connection (before any `HELLO`).
    pub fn reply_dialect(self) -> Dialect {
        self.request_dialect()
    }

    /// The reply dialect for a negotiated protocol version (`HELLO 2` / `HELLO 3`); the seed
    /// has one dialect whatever is asked.
    pub fn reply_dialect_for(self, protover: u8) -> Dialect {
        match (self, protover) {
            (Flavor::Redis, 3) => Dialect::Resp3,
            (Flavor::Redis, _) => Dialect::Resp2,
            (Flavor::Seed, _) => Dialect::Seed,
        }
    }

    /// The flavor whose requests are written in `dialect`.
    pub fn of_dialect(dialect: Dialect) -> Flavor {
        match dialect {
            Dialect::Resp2 | Dialect::Resp3 => Flavor::Redis,
            Dialect::Seed => Flavor::Seed,
        }
    }

    /// The flavor's name as the command line and scenario headers spell it.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Redis => "redis",
            Flavor::Seed => "seed",
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Flavor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "redis" => Ok(Flavor::Redis),
            "seed" | "simpledb" => Ok(Flavor::Seed),
            other => Err(format!("unknown flavor `{other}` (expected redis or seed)")),
        }
    }
}
