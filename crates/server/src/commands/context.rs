//! What a command can see and change: the keyspace, its own connection's state, the time.
//!
//! The command layer owns these types; the session (`crate::session`) holds a
//! [`SessionState`] and calls the dispatcher with it, so the dependency runs one way:
//! session -> commands, never back.

use std::sync::Arc;

use bytes::Bytes;

use super::reply_mode::ReplyState;
use super::transaction::Multi;
use super::watch::WatchState;
use crate::blocking::BlockRequest;
use crate::clients::{Client, Hub};
use crate::db::Db;
use crate::replication::Op;
use crate::state::ServerState;
use crate::{Flavor, Stats};
use respect_resp::{Dialect, Frame};

/// What a command may read or change about its own connection.
#[derive(Debug, Clone)]
pub struct SessionState {
    /// The dialect replies are written in: RESP2, RESP3 after `HELLO 3`, or seed.
    pub dialect: Dialect,
    /// Which command set the server speaks.
    pub flavor: Flavor,
    /// `CLIENT ID`.
    pub id: u64,
    /// `CLIENT SETNAME`.
    pub name: Option<Bytes>,
    /// Whether AUTH succeeded, or the default user needed no password when the connection
    /// began (Redis's `c->authenticated`).
    pub authenticated: bool,
    /// The user the connection is authenticated as (the default user until AUTH).
    pub user: Arc<crate::acl::User>,
    /// The seed flavor's password, if any (the Redis flavor's are the users').
    pub requirepass: Option<Arc<[u8]>>,
    /// Set by QUIT: reply, then close.
    pub quit: bool,
    /// Set by SHUTDOWN: close without replying (Redis exits before it writes one).
    pub close_without_reply: bool,
    /// The server's counters.
    pub stats: Arc<Stats>,
    /// The time every command of the current batch sees; `None` reads the clock per command.
    pub batch_time: Option<u64>,
    // --- connections that talk to each other (clients, pub/sub, blocking) ---
    /// The live clients, channels and waits this connection shares with the others.
    pub hub: Arc<Hub>,
    /// This connection as the others see it (outbox, CLIENT LIST fields).
    pub client: Arc<Client>,
    /// Set by a blocking command that must wait (see [`crate::blocking`]); the connection
    /// takes it. Anyone else running commands (EXEC) must take and drop it: the command has
    /// already answered as if it timed out.
    pub block: Option<Box<BlockRequest>>,
    /// Whether the command runs again after a wake-up rather than as a new request (a
    /// blocking command then waits on rather than failing on a key of the wrong type).
    pub retrying: bool,
    /// The selected database (`SELECT`), an index into the server's databases.
    pub db_index: usize,
    /// The transaction being queued (after MULTI), if any.
    pub multi: Option<Multi>,
    /// The keys this session WATCHes.
    pub watch: WatchState,
    /// CLIENT REPLY's state: whether the replies of this and the next command go out.
    pub reply: ReplyState,
    /// Frames to write before the current command's reply (DEBUG PROTOCOL push's push).
    pub before_reply: Vec<Frame>,
    /// Frames to write after the current command's reply (a monitoring client's own line
    /// for the command, which Redis adds once the command has answered).
    pub after_reply: Vec<Frame>,
    // --- the replication stream (only while a replica is attached; see `propagate`) ---
    /// What the running command asked to propagate instead of itself (Redis's
    /// `rewriteClientCommandVector`): SET EX as SET PXAT, a served BLPOP as LPOP...
    pub propagate_as: Option<Vec<Vec<Bytes>>>,
    /// Set with `propagate_as` by [`Ctx::propagate_instead`]: those commands go out whether
    /// or not the command changed anything, and never the command as sent.
    pub propagate_always: bool,
    /// The commands the current top-level call propagates, in order; written to the
    /// replicas when it ends (wrapped in MULTI/EXEC when there are several).
    pub propagated: Vec<Op>,
    /// Set by SYNC: the snapshot to send before this connection turns into a replica.
    pub replica_start: Option<Arc<crate::replication::ReplicaStart>>,
    /// Whether the running command was called by a Lua script (Redis's `CLIENT_SCRIPT`).
    pub in_script: bool,
    /// Whether EXEC is running the queued commands (they must each answer: no MONITOR).
    pub in_exec: bool,
    /// The keys the running script declared (KEYS), while one runs.
    pub script_keys: Vec<Bytes>,
    /// The script just run answered an error that was counted in the error statistics when
    /// a command inside it failed or was refused (Redis's `ERR_REPLY_FLAG_NO_STATS_UPDATE`):
    /// the script's reply is not counted again.
    pub error_already_counted: bool,
}

impl SessionState {
    /// The current time in Unix milliseconds, as commands see it.
    pub fn now(&self) -> u64 {
        self.batch_time.unwrap_or_else(crate::db::now_ms)
    }
}

/// A running command's view: the keyspace, its connection, and now.
pub struct Ctx<'a> {
    /// The selected database's keyspace.
    pub db: &'a Db,
    /// The server's shared state (every database, settings, counters, watches).
    pub server: &'a Arc<ServerState>,
    /// This connection's state (protocol, name, id, auth, quit).
    pub state: &'a mut SessionState,
    /// Now, in Unix milliseconds, read once per command.
    pub now: u64,
}

impl Ctx<'_> {
    /// Whether replies go out as RESP3.
    pub fn resp3(&self) -> bool {
        self.state.dialect == Dialect::Resp3
    }

    /// Whether a replica reads the stream: only then do commands work out how they
    /// propagate (see [`Ctx::propagate_as`]).
    pub fn replicating(&self) -> bool {
        self.server.replication.active()
    }

    /// Propagates the commands `argv` makes instead of the command as sent, when a replica
    /// reads the stream (`argv` is not called otherwise): Redis's `rewriteClientCommandVector`,
    /// for commands whose effect must not depend on the replica's clock or randomness.
    /// They go out only if the command changed something.
    pub fn propagate_as(&mut self, argv: impl FnOnce() -> Vec<Vec<Bytes>>) {
        if self.replicating() {
            self.state.propagate_as = Some(argv());
        }
    }

    /// Propagates the commands `argv` makes, and never the command as sent, whether or not
    /// it counted a change (Redis's `preventCommandPropagation` with `alsoPropagate`):
    /// XREADGROUP, XCLAIM and XAUTOCLAIM go as the XCLAIM ... FORCE JUSTID, XGROUP SETID and
    /// XGROUP CREATECONSUMER that make a replica's group this one's (a blocked XREADGROUP
    /// served later counts no change of its own but still propagates its claims).
    pub fn propagate_instead(&mut self, argv: impl FnOnce() -> Vec<Vec<Bytes>>) {
        if self.replicating() {
            self.state.propagate_as = Some(argv());
            self.state.propagate_always = true;
        }
    }

    /// The null array of the connection's protocol: `*-1` in RESP2, `_` in RESP3.
    pub fn null_array(&self) -> Frame {
        if self.resp3() {
            Frame::Null
        } else {
            Frame::NullArray
        }
    }
}
