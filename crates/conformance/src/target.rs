//! Which server a run talks to, and which version: so that a reply explained by the version
//! (Redis 6.2's backticks, `Unknown subcommand`, EXPIRE without NX/XX/GT/LT) is graded VERSION,
//! informational, rather than FAIL.
//!
//! The target is detected with `HELLO` (RESP2 map of server name and version; Redis 6+, Valkey),
//! falling back to `INFO server` (`redis_version`, `server_name`, `valkey_version`), or given
//! with `--target-version`. Scenario versions are Redis versions, so a Valkey target is graded
//! by the Redis version it reports being compatible with (`redis_version` in INFO: 7.2.4 for
//! Valkey 9.1.2).

use std::net::SocketAddr;

use respect_client::{Client, ClientOptions};
use respect_resp::{Dialect, Frame};

/// A dotted version, missing parts zero: `6.2.14`, `7.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Version(pub u32, pub u32, pub u32);

impl std::str::FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Version, String> {
        let bad = || format!("bad version `{text}` (like 6.2 or 7.0.15)");
        let mut parts = text.trim().split('.');
        let mut next = |required: bool| -> Result<u32, String> {
            match parts.next() {
                Some(p) => p.parse().map_err(|_| bad()),
                None if required => Err(bad()),
                None => Ok(0),
            }
        };
        let version = Version(next(true)?, next(false)?, next(false)?);
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Which versions a form of a reply belongs to: `<7.0`, `>=7.0`, or `6.2` (every 6.2.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRange {
    /// Versions before this one.
    Before(Version),
    /// This version and later.
    Since(Version),
    /// Every version with this major and minor.
    Minor(u32, u32),
}

impl VersionRange {
    /// Whether `v` is in the range.
    pub fn contains(&self, v: Version) -> bool {
        match *self {
            VersionRange::Before(x) => v < x,
            VersionRange::Since(x) => v >= x,
            VersionRange::Minor(major, minor) => v.0 == major && v.1 == minor,
        }
    }
}

impl std::str::FromStr for VersionRange {
    type Err = String;

    fn from_str(text: &str) -> Result<VersionRange, String> {
        let text = text.trim();
        if let Some(v) = text.strip_prefix(">=") {
            Ok(VersionRange::Since(v.parse()?))
        } else if let Some(v) = text.strip_prefix('<') {
            Ok(VersionRange::Before(v.parse()?))
        } else {
            let v: Version = text.parse()?;
            Ok(VersionRange::Minor(v.0, v.1))
        }
    }
}

impl std::fmt::Display for VersionRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VersionRange::Before(v) => write!(f, "<{}.{}", v.0, v.1),
            VersionRange::Since(v) => write!(f, ">={}.{}", v.0, v.1),
            VersionRange::Minor(a, b) => write!(f, "{a}.{b}"),
        }
    }
}

/// The server product, as far as it tells.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Product {
    /// Redis.
    Redis,
    /// Valkey.
    Valkey,
    /// Something else, by the name it gave (or none).
    Unknown(String),
}

/// What a run talks to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    /// The product.
    pub product: Product,
    /// Its own version (Valkey 9.1.2), if known.
    pub version: Option<Version>,
    /// The Redis version scenarios are graded against (Valkey 9.1.2 reports 7.2.4), if known.
    pub redis_version: Option<Version>,
}

impl Target {
    /// A target known only by the version the user gave.
    pub fn given(version: Version) -> Target {
        Target {
            product: Product::Unknown("given with --target-version".into()),
            version: Some(version),
            redis_version: Some(version),
        }
    }

    /// Nothing known.
    pub fn unknown() -> Target {
        Target {
            product: Product::Unknown(String::new()),
            version: None,
            redis_version: None,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match &self.product {
            Product::Redis => "redis",
            Product::Valkey => "valkey",
            Product::Unknown(n) if n.is_empty() => "unknown server",
            Product::Unknown(n) => n.as_str(),
        };
        write!(f, "{name}")?;
        if let Some(v) = self.version {
            write!(f, " {v}")?;
        }
        if self.redis_version.is_some() && self.redis_version != self.version {
            if let Some(r) = self.redis_version {
                write!(f, ", redis {r} compatible")?;
            }
        }
        Ok(())
    }
}

/// A field of `INFO`'s text.
fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
}

/// Detects the target at `addr`: `INFO server` first (it carries the Redis-compatible version
/// that Valkey's `HELLO` omits), then `HELLO`; unknown when neither answers usefully. The whole
/// detection shares one `options.io_timeout`; `Err` when the server answered nothing in that
/// time (or could not be reached): a server that will not answer INFO will not answer a
/// scenario either, and the run should say so once, not once per scenario.
pub async fn detect(addr: SocketAddr, options: ClientOptions) -> Result<Target, String> {
    let limit = options.io_timeout;
    tokio::time::timeout(limit, detect_unbounded(addr, options))
        .await
        .map_err(|_| {
            format!("{addr} accepted the connection but did not answer INFO within {limit:?}")
        })?
}

async fn detect_unbounded(addr: SocketAddr, options: ClientOptions) -> Result<Target, String> {
    let mut client = Client::connect_with(addr, Dialect::Resp2, options)
        .await
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    Ok(detect_on(&mut client).await)
}

async fn detect_on(client: &mut Client) -> Target {
    if let Ok(Frame::Bulk(info)) = client.call(&["INFO", "server"]).await {
        let info = String::from_utf8_lossy(&info);
        let redis_version = info_field(&info, "redis_version").and_then(|v| v.parse().ok());
        if let Some(valkey) = info_field(&info, "valkey_version") {
            return Target {
                product: Product::Valkey,
                version: valkey.parse().ok(),
                redis_version,
            };
        }
        if redis_version.is_some() {
            let product = match info_field(&info, "server_name") {
                Some(name) if !name.eq_ignore_ascii_case("redis") => {
                    Product::Unknown(name.to_string())
                }
                _ => Product::Redis,
            };
            return Target {
                product,
                version: redis_version,
                redis_version,
            };
        }
    }
    if let Ok(Frame::Array(fields)) = client.call(&["HELLO"]).await {
        let field = |name: &[u8]| {
            fields
                .chunks(2)
                .find(|pair| pair.first().and_then(Frame::as_bytes).map(|b| &b[..]) == Some(name))
                .and_then(|pair| pair.get(1))
                .and_then(Frame::as_bytes)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        let version = field(b"version").and_then(|v| v.parse().ok());
        let product = match field(b"server").as_deref() {
            Some("redis") => Product::Redis,
            Some("valkey") => Product::Valkey,
            Some(other) => Product::Unknown(other.to_string()),
            None => Product::Unknown(String::new()),
        };
        let redis_version = (product == Product::Redis).then_some(version).flatten();
        return Target {
            product,
            version,
            redis_version,
        };
    }
    Target::unknown()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_ranges_read_and_compare() {
        let v: Version = "6.2.14".parse().expect("version");
        assert_eq!(v, Version(6, 2, 14));
        assert!("<7.0".parse::<VersionRange>().expect("range").contains(v));
        assert!(!">=7.0".parse::<VersionRange>().expect("range").contains(v));
        assert!("6.2".parse::<VersionRange>().expect("range").contains(v));
        assert!("7.x".parse::<Version>().is_err());
        assert_eq!(
            info_field("# Server\r\nredis_version:7.0.15\r\n", "redis_version"),
            Some("7.0.15")
        );
    }
}
