//! What a scenario is once read: its identity and headers, and its steps (what is sent, what
//! must come back, and how). The text format lives in [`super::parse`] and [`super::write`];
//! these types know nothing of it.

use std::path::PathBuf;
use std::time::Duration;

use respect_resp::{Dialect, Flavor, Frame};

pub use crate::target::{Version, VersionRange};

/// What the file name's prefix says a conforming server does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// `y_`: must accept.
    Accept,
    /// `n_`: must reject (an error reply, or a close).
    Reject,
    /// `i_`: implementation-defined; reported, never failed.
    ImplementationDefined,
}

/// One parsed scenario file.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file.
    pub path: PathBuf,
    /// Its identity, derived from the path under the scenario root (see
    /// [`super::identity::id_from_path`]); a `# id:` header may repeat it and must agree.
    pub id: String,
    /// `# title:`.
    pub title: String,
    /// `# tags:`.
    pub tags: Vec<String>,
    /// `# needs:` commands, upper case.
    pub needs: Vec<String>,
    /// Redis or seed (`# flavor:`, else the top folder): its requests' dialect, and its
    /// replies' until a `! decode` step says otherwise.
    pub flavor: Flavor,
    /// From the file name's prefix.
    pub verdict: Verdict,
    /// `# destructive: yes`: flushes the keyspace, so it runs alone and only on an empty server
    /// or with `--allow-flush`.
    pub destructive: bool,
    /// `# global: yes`: changes state beyond its own keys (CONFIG SET, SELECT of another
    /// database, SCRIPT/FUNCTION FLUSH, CLIENT KILL), so it runs only with `--allow-global`.
    pub global: bool,
    /// `# since: 7.0`: the Redis version that introduced what the scenario checks; on an older
    /// target a FAIL or UNSUPPORTED is graded VERSION.
    pub since: Option<Version>,
    /// `# cluster:`: how the scenario stands towards a Redis Cluster target.
    pub cluster: ClusterRule,
    /// The steps, with templates expanded and `! repeat` unrolled.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// The scenario's own key prefix (`{{k}}`).
    pub fn key_prefix(&self) -> String {
        super::template::run_key_prefix(&self.id)
    }
}

/// How a scenario stands towards a Redis Cluster target (`# cluster:` header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ClusterRule {
    /// No header: runs anywhere; on a cluster, on the master serving its slot, unless the
    /// runner detects that it cannot (see [`crate::runner::skip_reason`]).
    #[default]
    Anywhere,
    /// `# cluster: no <reason>`: SKIPPED on a cluster, with the reason.
    Not(String),
    /// `# cluster: only`: tests the cluster protocol; SKIPPED on anything but a cluster.
    Only,
    /// `# cluster: elsewhere`: like `only`, with its connections opened on a master that does
    /// not serve its slot, so that its own keys answer `-MOVED` (needs two masters).
    Elsewhere,
}

impl ClusterRule {
    /// Whether the scenario needs a cluster target.
    pub fn needs_cluster(&self) -> bool {
        matches!(self, ClusterRule::Only | ClusterRule::Elsewhere)
    }
}

/// The name of the connection a scenario starts on (`! use main` returns to it).
pub const FIRST_CONNECTION: &str = "main";

/// How the bytes of consecutive sends reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Each send is one write (the default).
    Whole,
    /// Every send up to the next expectation goes out in one write.
    Pipelined,
    /// Every byte is its own write.
    Bytewise,
    /// Writes of 1 to 64 bytes, sizes drawn from a PRNG seeded with the value.
    Chunks(u64),
}

/// One accepted form of a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// Exactly these bytes (`<` lines).
    Exact {
        /// The expected frame, decoded from `bytes`.
        frame: Frame,
        /// The expected bytes.
        bytes: Vec<u8>,
    },
    /// The same frame with aggregate items in any order (`<~` lines): for sets and maps.
    Unordered {
        /// The expected frame.
        frame: Frame,
        /// Its bytes as written in the scenario.
        bytes: Vec<u8>,
    },
    /// An error reply whose text matches a Redis glob (`? error ERR unknown command*`).
    Error(String),
    /// A simple string (status) reply whose text matches a Redis glob (`? simple Value at:*`):
    /// for replies with volatile parts, such as DEBUG OBJECT's addresses and clocks.
    Simple(String),
    /// Any reply of a type (`? type integer`).
    Type(String),
    /// Any one reply (`? any`).
    Any,
}

/// One reply the server must send: the strict form first, accepted variants after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// Scenario line where it starts.
    pub line: usize,
    /// Scenario lines it spans (for `respect record`), inclusive.
    pub lines: (usize, usize),
    /// `alternatives[0]` is strict; any other is an accepted variant (NON-STRICT).
    pub alternatives: Vec<Matcher>,
    /// Whether it comes from a `! repeat` (then `respect record` leaves it alone).
    pub repeated: bool,
    /// Forms other versions answer (`<@<7.0` lines): a reply matching one is graded VERSION on
    /// a target in that range (or of unknown version), FAIL on a target outside it.
    pub versioned: Vec<(VersionRange, Matcher)>,
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Bytes to write (a `>` command encoded as a multibulk, or `>>` raw bytes).
    Send {
        /// Scenario line.
        line: usize,
        /// The bytes.
        bytes: Vec<u8>,
        /// The command's name, for UNSUPPORTED detection (`None` for raw bytes).
        command: Option<String>,
    },
    /// A reply to read and match.
    Expect(Expectation),
    /// Change how sends are delivered.
    Deliver(Delivery),
    /// Read replies in this dialect from now on (after `HELLO 3`, say).
    Decode(Dialect),
    /// Open a new connection under a name and use it.
    Open(String),
    /// Switch to an open connection.
    Use(String),
    /// Close the current connection from the client side.
    Disconnect,
    /// The server must close the connection (after any replies already expected).
    ExpectClose {
        /// Scenario line.
        line: usize,
    },
    /// The server must send nothing for this long.
    Silence {
        /// Scenario line.
        line: usize,
        /// How long.
        duration: Duration,
    },
    /// Wait.
    Sleep(Duration),
}
