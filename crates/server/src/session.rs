//! A connection's session, and the in-process entry point to the command layer: it holds
//! the connection's [`SessionState`] (a type the command layer owns) and hands each request
//! to the flavor's dispatcher. The dependency runs one way, session -> commands.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use super::blocking::BlockRequest;
use super::clients::Client;
use super::commands::context::SessionState;
use super::commands::{dispatch, seed};
use super::db::Db;
use super::state::ServerState;
use super::{Flavor, Stats};
use respect_resp::{Dialect, Frame};

/// Client ids, as `CLIENT ID` reports them: unique and increasing for the process's life.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// One client's session over the shared keyspace. This is the whole command layer as a
/// library: feed it request frames, get reply frames; no sockets involved.
#[derive(Debug, Clone)]
pub struct Session {
    server: Arc<ServerState>,
    state: SessionState,
}

impl Session {
    /// A session with no password, on a server of its own whose database 0 is `db`.
    pub fn new(db: Db, flavor: Flavor) -> Session {
        Session::with_password(db, flavor, None)
    }

    /// A session on a server that requires `requirepass` (either flavor: AUTH first).
    pub fn with_password(db: Db, flavor: Flavor, requirepass: Option<Arc<[u8]>>) -> Session {
        Session::with_stats(db, flavor, requirepass, Arc::new(Stats::default()))
    }

    /// A session counting into a server's `stats`, on a server of its own whose database 0
    /// is `db`.
    pub fn with_stats(
        db: Db,
        flavor: Flavor,
        requirepass: Option<Arc<[u8]>>,
        stats: Arc<Stats>,
    ) -> Session {
        let server = Arc::new(ServerState::with_db0(db, Arc::clone(&stats)));
        if let (Flavor::Redis, Some(password)) = (flavor, requirepass.as_deref()) {
            server.acl.set_default_password(password);
        }
        Session::attach(server, flavor, requirepass)
    }

    /// A new client id, for a connection's [`Client`] before its session exists.
    pub(crate) fn next_client_id() -> u64 {
        NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed)
    }

    /// A session of a running server (its databases, settings and counters) that no other
    /// client can reach (not in the server's client registry).
    pub(crate) fn attach(
        server: Arc<ServerState>,
        flavor: Flavor,
        requirepass: Option<Arc<[u8]>>,
    ) -> Session {
        let client = Arc::new(Client::new(Session::next_client_id(), None, None, -1));
        Session::attach_as(server, flavor, requirepass, client)
    }

    /// A session of a running server (its databases, settings and counters) for the
    /// connection registered in the server's hub as `client`.
    pub(crate) fn attach_as(
        server: Arc<ServerState>,
        flavor: Flavor,
        requirepass: Option<Arc<[u8]>>,
        client: Arc<Client>,
    ) -> Session {
        let hub = Arc::clone(&server.hub);
        let stats = Arc::clone(&server.stats);
        let dialect = match flavor {
            Flavor::Redis => Dialect::Resp2,
            Flavor::Seed => Dialect::Seed,
        };
        // Redis's `createClient`: authenticated at once when the default user needs no
        // password. The seed flavor keeps simpledb's single password.
        let authenticated = match flavor {
            Flavor::Redis => !server.acl.default_requires_auth(),
            Flavor::Seed => requirepass.is_none(),
        };
        let user = server.acl.default_user();
        Session {
            server,
            state: SessionState {
                dialect,
                flavor,
                id: client.id,
                name: None,
                authenticated,
                user,
                requirepass,
                quit: false,
                close_without_reply: false,
                stats,
                batch_time: None,
                db_index: 0,
                multi: None,
                watch: Default::default(),
                reply: Default::default(),
                before_reply: Vec::new(),
                after_reply: Vec::new(),
                propagate_as: None,
                propagate_always: false,
                propagated: Vec::new(),
                replica_start: None,
                in_script: false,
                in_exec: false,
                script_keys: Vec::new(),
                error_already_counted: false,
                hub,
                client,
                block: None,
                retrying: false,
            },
        }
    }

    /// Fixes the time the commands that follow see, until called again (`None`: the clock,
    /// per command). A connection sets it once per batch of pipelined requests, as Redis
    /// caches its clock per event-loop turn: one clock read per read(), not per command.
    pub fn set_batch_time(&mut self, now: Option<u64>) {
        self.state.batch_time = now;
    }

    /// Runs one request and returns its reply. Redis flavor: an array of bulk strings or an
    /// inline command. Seed flavor: an array of typed values, or an inline command.
    pub fn execute(&mut self, request: Frame) -> Frame {
        match self.state.flavor {
            Flavor::Redis => match request_args(request) {
                Some(argv) => self.execute_args(&argv),
                None => Frame::error("ERR Protocol error: a request is an array of bulk strings"),
            },
            Flavor::Seed => seed::execute(&self.server, &mut self.state, request),
        }
    }

    /// Runs one Redis-flavor command given as its arguments.
    pub fn execute_args(&mut self, argv: &[Bytes]) -> Frame {
        self.state.reply.begin_command();
        // What the previous command left for its caller to write and nobody took (an
        // embedded session never takes them) goes, so it cannot pile up command after command.
        self.state.before_reply.clear();
        self.state.after_reply.clear();
        self.dispatch_args(argv)
    }

    /// Whether the reply of the command just run must not be sent (CLIENT REPLY OFF or
    /// SKIP); the connection asks after each command.
    pub fn reply_suppressed(&self) -> bool {
        self.state.reply.suppressed()
    }

    /// Frames the command just run wants written before its reply (taken: each goes once).
    pub fn take_before_reply(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.state.before_reply)
    }

    /// What the last command wrote to follow its reply (see `SessionState::after_reply`).
    pub fn take_after_reply(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.state.after_reply)
    }

    fn dispatch_args(&mut self, argv: &[Bytes]) -> Frame {
        match self.state.flavor {
            Flavor::Redis => dispatch::execute(&self.server, &mut self.state, argv),
            Flavor::Seed => seed::execute(
                &self.server,
                &mut self.state,
                Frame::Array(argv.iter().cloned().map(Frame::Bulk).collect()),
            ),
        }
    }

    /// The dialect to write this session's replies in.
    pub fn dialect(&self) -> Dialect {
        self.state.dialect
    }

    /// Whether the connection must close after the last reply (QUIT).
    pub fn should_close(&self) -> bool {
        self.state.quit
    }

    /// Whether the connection must close without writing the last reply (SHUTDOWN).
    pub fn closes_without_reply(&self) -> bool {
        self.state.close_without_reply
    }

    /// Until when CLIENT PAUSE holds the command named `name` (`None`: it runs now). Under
    /// WRITE only commands that may write wait (and an EXEC of a transaction that writes).
    pub(crate) fn paused_until(&self, name: Option<&[u8]>) -> Option<std::time::Instant> {
        let pause = &self.state.hub.pause;
        if self.state.flavor != Flavor::Redis || pause.holds(true).is_none() {
            return None;
        }
        let spec = name
            .and_then(crate::commands::dispatch::lookup)
            .map(|c| &c.spec);
        let writes = spec.is_some_and(|spec| {
            spec.flags.contains(crate::commands::Flag::Write)
                || spec.flags.contains(crate::commands::Flag::MayReplicate)
                || (spec.name == "exec" && self.state.multi.as_ref().is_some_and(|m| m.writes))
        });
        pause.holds(writes)
    }

    /// How long to wait before running a command while a script runs but is not yet past
    /// `busy-reply-threshold` (see `scripting::busy_in`).
    pub(crate) fn busy_in(&self) -> Option<std::time::Duration> {
        match self.state.flavor {
            Flavor::Redis => crate::commands::scripting::busy_in(&self.server),
            Flavor::Seed => None,
        }
    }

    /// The snapshot SYNC asked to send, after which the connection is a replica.
    pub(crate) fn take_replica_start(&mut self) -> Option<Arc<crate::replication::ReplicaStart>> {
        self.state.replica_start.take()
    }

    /// This session's client id.
    pub fn id(&self) -> u64 {
        self.state.id
    }

    /// The wait a blocking command asked for, if the last command asked for one.
    pub(crate) fn take_block(&mut self) -> Option<Box<BlockRequest>> {
        self.state.block.take()
    }

    /// Runs a blocked command again after a wake-up: its reply, or `None` while it must
    /// still wait.
    pub(crate) fn retry(&mut self, argv: &[Bytes]) -> Option<Frame> {
        self.state.retrying = true;
        let reply = self.execute_args(argv);
        self.state.retrying = false;
        match self.state.block.take() {
            Some(_) => None,
            None => Some(reply),
        }
    }

    /// The session's state (a blocked client's copy is taken from it).
    pub(crate) fn state(&self) -> &SessionState {
        &self.state
    }

    /// Serves the clients blocked on keys that became ready (see [`crate::blocking`]).
    pub(crate) fn serve_blocked(&self) {
        dispatch::serve_blocked(&self.server);
    }

    /// The server this session runs on.
    pub(crate) fn server(&self) -> &Arc<ServerState> {
        &self.server
    }

    /// This connection as other clients see it.
    pub(crate) fn client(&self) -> &Arc<Client> {
        &self.state.client
    }

    /// The hub this session shares with the server's other connections.
    pub(crate) fn hub(&self) -> &Arc<crate::clients::Hub> {
        &self.state.hub
    }

    /// The keyspace this session works on: its selected database.
    pub fn db(&self) -> &Db {
        self.server
            .db(self.state.db_index)
            .unwrap_or_else(|| self.server.db0())
    }

    /// The idle timeout (CONFIG SET timeout), in seconds; 0 is none.
    pub(crate) fn idle_timeout_secs(&self) -> u64 {
        self.server
            .settings
            .timeout_secs
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The arguments of a Redis request: an array of bulk strings (moved out, no copy), or an
/// inline command.
fn request_args(request: Frame) -> Option<Vec<Bytes>> {
    match request {
        Frame::Array(items) => items
            .into_iter()
            .map(|f| match f {
                Frame::Bulk(b) => Some(b),
                _ => None,
            })
            .collect(),
        Frame::Inline(args) => Some(args),
        _ => None,
    }
}
