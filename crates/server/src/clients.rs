//! Connections that can reach each other: each live client's [`Client`] handle (its identity,
//! what `CLIENT LIST` shows about it, and its outbox: frames other clients push to it), and
//! the server-wide [`Hub`] that holds the registry of live clients next to the pub/sub
//! channels and the clients blocked on keys.
//!
//! The outbox is a queue, not a socket: a publisher never writes to another client's socket
//! or waits for it. It appends a frame and wakes the owner's connection task (a
//! [`tokio::sync::Notify`], no polling), which merges the frames with its own replies and
//! writes them. A subscriber that does not read is bounded as Redis bounds it, by
//! `client-output-buffer-limit pubsub` (see [`OutputLimit`]): past the hard limit, or above
//! the soft limit for longer than its seconds, it is disconnected.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use indexmap::IndexSet;
use respect_resp::Frame;
use tokio::sync::Notify;

use crate::blocking::Blocking;
use crate::encoded_push::EncodedPush;
use crate::notify::Notifications;
use crate::pubsub::PubSub;
use crate::tracking::Tracking;

/// Redis's `client-output-buffer-limit pubsub 32mb 8mb 60`: the default bound on what may
/// wait in a subscriber's outbox.
pub const DEFAULT_PUBSUB_OUTPUT_LIMIT: OutputLimit = OutputLimit {
    hard_bytes: 32 * 1024 * 1024,
    soft_bytes: 8 * 1024 * 1024,
    soft_seconds: 60,
};

/// A `client-output-buffer-limit` class: a client whose pending pushes exceed `hard_bytes`
/// is disconnected at once; one that stays above `soft_bytes` for more than `soft_seconds`
/// is disconnected too. Zero disables a limit, as in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimit {
    /// Disconnect as soon as this many bytes wait (0: no hard limit).
    pub hard_bytes: usize,
    /// Disconnect when this many bytes have waited for `soft_seconds` (0: no soft limit).
    pub soft_bytes: usize,
    /// See `soft_bytes`.
    pub soft_seconds: u64,
}

/// Locks a mutex, taking the data of a poisoned one (every holder leaves it consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a client is subscribed to. Kept in insertion order, so unsubscribing from all
/// answers in the order of subscription.
#[derive(Debug, Default, Clone)]
pub struct Subscriptions {
    /// SUBSCRIBE.
    pub channels: IndexSet<Bytes>,
    /// PSUBSCRIBE.
    pub patterns: IndexSet<Bytes>,
    /// SSUBSCRIBE.
    pub shard_channels: IndexSet<Bytes>,
}

impl Subscriptions {
    /// The count SUBSCRIBE and PSUBSCRIBE confirmations carry (shard channels apart).
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Whether the client is in subscribed mode (RESP2 then refuses other commands).
    pub fn active(&self) -> bool {
        self.count() + self.shard_channels.len() > 0
    }
}

/// What `CLIENT LIST` reports that changes as the client runs commands.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// CLIENT SETNAME.
    pub name: Option<Bytes>,
    /// The selected database.
    pub db: i64,
    /// The last command, as `cmd=` shows it (`client|list`).
    pub last_command: &'static str,
    /// When the last command ran.
    pub last_interaction: Instant,
    /// 2 or 3.
    pub resp: u8,
    /// Blocked on keys (`flags=b`).
    pub blocked: bool,
    /// CLIENT TRACKING redirect target (`redir=`), -1 when none.
    pub redirect: i64,
    /// Tracking on (`flags=t`).
    pub tracking: bool,
    /// The user it authenticated as (`user=`); `None`: the default user.
    pub user: Option<std::sync::Arc<crate::acl::User>>,
    /// In MONITOR mode (`flags=O`).
    pub monitor: bool,
}

impl ClientInfo {
    /// Whether the client is authenticated as `user` (the same user, not a namesake
    /// created after it was deleted).
    pub fn is_user(&self, user: &std::sync::Arc<crate::acl::User>) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| std::sync::Arc::ptr_eq(u, user))
    }

    /// The user's name as `CLIENT LIST` shows it.
    pub fn user_name(&self) -> String {
        self.user.as_ref().map_or_else(
            || crate::acl::DEFAULT_USER.to_string(),
            |u| String::from_utf8_lossy(&u.name).into_owned(),
        )
    }
}

/// One live client as other clients see it.
#[derive(Debug)]
pub struct Client {
    /// CLIENT ID.
    pub id: u64,
    /// The peer's address (`addr=`).
    pub addr: Option<SocketAddr>,
    /// Our side of the socket (`laddr=`).
    pub laddr: Option<SocketAddr>,
    /// The socket's file descriptor (`fd=`), -1 without one.
    pub fd: i64,
    created: Instant,
    /// Name, db, last command...: see [`ClientInfo`].
    pub info: Mutex<ClientInfo>,
    /// Channels and patterns; `None` (no allocation) while the client subscribes to nothing.
    pub subs: Mutex<Option<Box<Subscriptions>>>,
    /// Whether `subs` holds anything: read for every command (RESP2 subscribed mode)
    /// without taking the lock.
    subscribed: AtomicBool,
    outbox: Mutex<Outbox>,
    /// How many frames wait in the outbox: lets the connection skip the lock when none do.
    pending: AtomicUsize,
    /// Wakes the connection task: a push, a ready key, an unblock, a kill.
    wake: Notify,
    /// This client's own invalidations (CLIENT TRACKING), sent after its reply.
    deferred: Mutex<Vec<Frame>>,
    killed: AtomicBool,
}

#[derive(Debug, Default)]
struct Outbox {
    /// Each with its size as counted in `bytes`.
    frames: VecDeque<(Queued, usize)>,
    bytes: usize,
    soft_since: Option<Instant>,
}

/// What waits in an outbox: a frame, or a push already encoded for every client it goes to
/// (pub/sub fan-out, `crate::encoded_push`).
#[derive(Debug)]
pub enum Queued {
    /// Encoded when the connection writes it.
    Frame(Frame),
    /// Encoded once, shared.
    Encoded(EncodedPush),
}

/// About how many bytes `frame` takes on the wire: its payloads plus a header's worth per
/// item. An estimate is enough for a limit counted in megabytes.
pub fn wire_size(frame: &Frame) -> usize {
    const HEADER: usize = 8;
    match frame {
        Frame::Bulk(b) | Frame::Simple(b) | Frame::Error(b) => b.len() + HEADER,
        Frame::Array(items) | Frame::Push(items) | Frame::Set(items) => {
            HEADER + items.iter().map(wire_size).sum::<usize>()
        }
        Frame::Map(pairs) => {
            HEADER
                + pairs
                    .iter()
                    .map(|(k, v)| wire_size(k) + wire_size(v))
                    .sum::<usize>()
        }
        _ => HEADER * 2,
    }
}

impl Client {
    /// A client connected from `addr` to `laddr` on descriptor `fd`.
    pub fn new(id: u64, addr: Option<SocketAddr>, laddr: Option<SocketAddr>, fd: i64) -> Client {
        let now = Instant::now();
        Client {
            id,
            addr,
            laddr,
            fd,
            created: now,
            info: Mutex::new(ClientInfo {
                name: None,
                db: 0,
                last_command: "NULL",
                last_interaction: now,
                resp: 2,
                blocked: false,
                redirect: -1,
                tracking: false,
                user: None,
                monitor: false,
            }),
            subs: Mutex::new(None),
            subscribed: AtomicBool::new(false),
            outbox: Mutex::new(Outbox::default()),
            pending: AtomicUsize::new(0),
            wake: Notify::new(),
            deferred: Mutex::new(Vec::new()),
            killed: AtomicBool::new(false),
        }
    }

    /// Queues `frame` for this client and wakes its connection; disconnects the client
    /// instead when `limit` says it has fallen too far behind. Returns whether it was queued.
    pub fn push(&self, frame: Frame, limit: OutputLimit) -> bool {
        let size = wire_size(&frame);
        self.enqueue(Queued::Frame(frame), size, limit)
    }

    /// [`Client::push`] of a push encoded once for all its receivers (pub/sub fan-out).
    pub fn push_encoded(&self, push: &EncodedPush, limit: OutputLimit) -> bool {
        self.enqueue(Queued::Encoded(push.clone()), push.len(), limit)
    }

    fn enqueue(&self, item: Queued, size: usize, limit: OutputLimit) -> bool {
        if self.is_killed() {
            return false;
        }
        let over = {
            let mut outbox = lock(&self.outbox);
            outbox.bytes += size;
            outbox.frames.push_back((item, size));
            self.pending.fetch_add(1, Ordering::Release);
            let hard = limit.hard_bytes > 0 && outbox.bytes > limit.hard_bytes;
            let soft = if limit.soft_bytes > 0 && outbox.bytes > limit.soft_bytes {
                let since = *outbox.soft_since.get_or_insert_with(Instant::now);
                since.elapsed() > Duration::from_secs(limit.soft_seconds)
            } else {
                outbox.soft_since = None;
                false
            };
            hard || soft
        };
        if over {
            tracing::warn!(
                id = self.id,
                "client scheduled to be closed for reaching the pubsub output buffer limit"
            );
            self.kill();
            return false;
        }
        self.wake.notify_one();
        true
    }

    /// Takes queued frames, oldest first, until about `budget` bytes are taken.
    pub fn drain(&self, budget: usize, mut each: impl FnMut(Queued)) {
        if self.pending.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut outbox = lock(&self.outbox);
        let mut taken = 0;
        while taken < budget {
            let Some((frame, size)) = outbox.frames.pop_front() else {
                break;
            };
            taken += size;
            outbox.bytes = outbox.bytes.saturating_sub(size);
            self.pending.fetch_sub(1, Ordering::Release);
            each(frame);
        }
        if outbox.frames.is_empty() {
            outbox.soft_since = None;
        }
    }

    /// Whether frames wait in the outbox.
    pub fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire) > 0
    }

    /// Bytes waiting in the outbox (`omem=`), and how many frames (`oll=`).
    pub fn outbox_size(&self) -> (usize, usize) {
        let outbox = lock(&self.outbox);
        (outbox.bytes, outbox.frames.len())
    }

    /// Whether the client is subscribed to anything (lock-free; see `subscribed`).
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.load(Ordering::Acquire)
    }

    /// Records whether the client is subscribed to anything, after a change to `subs`.
    pub(crate) fn set_subscribed(&self, subs: &Subscriptions) {
        self.subscribed.store(subs.active(), Ordering::Release);
    }

    /// Holds an invalidation of this client's own change until its reply is out.
    pub fn defer(&self, keys: Frame) {
        lock(&self.deferred).push(keys);
    }

    /// Takes the invalidations held by [`Client::defer`].
    pub fn take_deferred(&self) -> Vec<Frame> {
        std::mem::take(&mut *lock(&self.deferred))
    }

    /// Marks the client for disconnection (CLIENT KILL, output limit) and wakes it.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Wakes the connection again (a wake it consumed while writing, for its main loop).
    pub fn rewake(&self) {
        self.wake.notify_one();
    }

    /// Whether the client must be disconnected.
    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    /// The wait a connection task parks on between events.
    pub fn woken(&self) -> tokio::sync::futures::Notified<'_> {
        self.wake.notified()
    }

    /// Seconds since the connection was accepted.
    pub fn age(&self) -> u64 {
        self.created.elapsed().as_secs()
    }

    /// Copies what CLIENT SETNAME, HELLO or RESET changed into what CLIENT LIST shows.
    pub fn sync_identity(&self, name: Option<Bytes>, dialect: respect_resp::Dialect) {
        let mut info = lock(&self.info);
        info.name = name;
        info.resp = if dialect == respect_resp::Dialect::Resp3 {
            3
        } else {
            2
        };
    }

    /// Records the command about to run (`cmd=`, `idle=`).
    pub fn record_command(&self, name: &'static str) {
        let mut info = lock(&self.info);
        info.last_command = name;
        info.last_interaction = Instant::now();
    }
}

/// Connection classes for `CLIENT KILL TYPE` and `CLIENT LIST TYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientType {
    /// Not subscribed.
    Normal,
    /// Subscribed to something.
    Pubsub,
    /// Replicas; we never have one.
    Replica,
    /// The master; we never have one.
    Master,
}

impl ClientType {
    /// Parses Redis's names (`slave` is `replica`), any case.
    pub fn parse(name: &[u8]) -> Option<ClientType> {
        let lower = name.to_ascii_lowercase();
        match lower.as_slice() {
            b"normal" => Some(ClientType::Normal),
            b"pubsub" => Some(ClientType::Pubsub),
            b"replica" | b"slave" => Some(ClientType::Replica),
            b"master" => Some(ClientType::Master),
            _ => None,
        }
    }
}

impl Client {
    /// Which class the client is in now.
    pub fn client_type(&self) -> ClientType {
        if self.is_subscribed() {
            ClientType::Pubsub
        } else {
            ClientType::Normal
        }
    }

    /// The client's `CLIENT LIST` line (no newline), fields in Redis 7.0's order. Sizes we do
    /// not keep as Redis does (query buffer, argv memory) are honest estimates: an idle
    /// client's qbuf is 0 and its read buffer is not allocated.
    pub fn list_line(&self) -> String {
        let info = lock(&self.info).clone();
        let (sub, psub, ssub) = {
            let s = lock(&self.subs);
            s.as_ref().map_or((0, 0, 0), |s| {
                (s.channels.len(), s.patterns.len(), s.shard_channels.len())
            })
        };
        let mut flags = String::new();
        if info.monitor {
            flags.push('O');
        }
        if info.blocked {
            flags.push('b');
        }
        if sub + psub + ssub > 0 {
            flags.push('P');
        }
        if info.tracking {
            flags.push('t');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let (omem, oll) = self.outbox_size();
        let name = info
            .name
            .as_ref()
            .map_or_else(String::new, |n| String::from_utf8_lossy(n).into_owned());
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} \
             ssub={} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 \
             oll={} omem={} tot-mem={} events=r cmd={} user={} redir={} resp={}",
            self.id,
            show(self.addr),
            show(self.laddr),
            self.fd,
            name,
            self.age(),
            info.last_interaction.elapsed().as_secs(),
            flags,
            info.db,
            sub,
            psub,
            ssub,
            oll,
            omem,
            omem + std::mem::size_of::<Client>(),
            info.last_command,
            info.user_name(),
            info.redirect,
            info.resp,
        )
    }
}

/// An address as CLIENT LIST shows it (empty when unknown).
pub fn show(addr: Option<SocketAddr>) -> String {
    addr.map_or_else(String::new, |a| a.to_string())
}

/// Everything connections share to reach each other: the live clients, the pub/sub
/// channels, the clients blocked on keys, keyspace notification settings. One per server,
/// kept apart from the keyspace and the counters so it can join any server-wide state.
#[derive(Debug)]
pub struct Hub {
    clients: Mutex<BTreeMap<u64, Arc<Client>>>,
    /// Channels, patterns and shard channels.
    pub pubsub: PubSub,
    /// Clients waiting on keys.
    pub blocking: Blocking,
    /// `notify-keyspace-events`.
    pub notifications: Notifications,
    /// CLIENT TRACKING.
    pub tracking: Tracking,
    /// The bound on a subscriber's outbox.
    pub pubsub_limit: OutputLimit,
    /// Clients blocked now (`blocked_clients` in INFO).
    pub blocked_clients: AtomicU64,
    /// CLIENT PAUSE.
    pub pause: Pause,
    /// MONITOR.
    pub monitors: Monitors,
}

/// The clients in MONITOR mode, which receive every command the server runs.
#[derive(Debug, Default)]
pub struct Monitors {
    /// Whether any client monitors: read after every command, so an atomic.
    any: AtomicBool,
    clients: Mutex<Vec<Arc<Client>>>,
}

impl Monitors {
    /// How far a monitor may fall behind before it is disconnected. Redis puts monitors in
    /// its `normal` output class, unlimited by default; here a monitor that does not read
    /// cannot hold more than a replica may (see `crate::replication`).
    pub const OUTPUT_LIMIT: OutputLimit = crate::replication::REPLICA_OUTPUT_LIMIT;

    /// Whether any client monitors.
    pub fn active(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Adds `client`; false if it already monitors.
    pub fn add(&self, client: &Arc<Client>) -> bool {
        let mut clients = lock(&self.clients);
        if clients.iter().any(|c| c.id == client.id) {
            return false;
        }
        clients.push(Arc::clone(client));
        self.any.store(true, Ordering::Relaxed);
        true
    }

    /// Whether `id` monitors.
    pub fn contains(&self, id: u64) -> bool {
        self.active() && lock(&self.clients).iter().any(|c| c.id == id)
    }

    /// Removes the client `id`, if it monitors.
    pub fn remove(&self, id: u64) {
        if !self.active() {
            return;
        }
        let mut clients = lock(&self.clients);
        clients.retain(|c| c.id != id);
        self.any.store(!clients.is_empty(), Ordering::Relaxed);
    }

    /// Sends `line` (a status) to every monitor but `sender`; returns whether `sender`
    /// monitors too (its copy goes after its reply: the caller holds it).
    pub fn feed(&self, line: &Bytes, sender: u64) -> bool {
        let clients = lock(&self.clients).clone();
        let mut sender_monitors = false;
        for client in clients {
            if client.id == sender {
                sender_monitors = true;
            } else {
                client.push(Frame::Simple(line.clone()), Self::OUTPUT_LIMIT);
            }
        }
        sender_monitors
    }
}

/// CLIENT PAUSE: until when commands wait, and whether all of them do (ALL) or only those
/// that may write (WRITE). A paused command is not refused: its connection holds it until
/// the pause ends (CLIENT UNPAUSE, or the time), as Redis postpones it.
#[derive(Debug, Default)]
pub struct Pause {
    /// Whether a pause was set: read before every command, so an atomic.
    set: AtomicBool,
    state: Mutex<Option<(Instant, bool)>>,
    lifted: Notify,
}

impl Pause {
    /// Pauses until `until`; `all` for every command. A pause already set is extended and
    /// made stricter, never shortened or relaxed (Redis's `pauseClients`).
    pub fn pause(&self, until: Instant, all: bool) {
        let mut state = lock(&self.state);
        *state = Some(match *state {
            Some((end, was_all)) => (end.max(until), was_all || all),
            None => (until, all),
        });
        self.set.store(true, Ordering::Release);
    }

    /// CLIENT UNPAUSE: the waiting commands run now.
    pub fn unpause(&self) {
        *lock(&self.state) = None;
        self.set.store(false, Ordering::Release);
        self.lifted.notify_waiters();
    }

    /// Until when a command waits (`writes`: it may write), or `None` when it runs now.
    pub fn holds(&self, writes: bool) -> Option<Instant> {
        if !self.set.load(Ordering::Acquire) {
            return None;
        }
        match *lock(&self.state) {
            Some((until, all)) if until > Instant::now() && (all || writes) => Some(until),
            _ => None,
        }
    }

    /// Completes when the pause is lifted (CLIENT UNPAUSE).
    pub fn lifted(&self) -> tokio::sync::futures::Notified<'_> {
        self.lifted.notified()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new(DEFAULT_PUBSUB_OUTPUT_LIMIT)
    }
}

impl Hub {
    /// An empty hub whose subscribers are bounded by `pubsub_limit`.
    pub fn new(pubsub_limit: OutputLimit) -> Hub {
        Hub {
            clients: Mutex::new(BTreeMap::new()),
            pubsub: PubSub::default(),
            blocking: Blocking::default(),
            notifications: Notifications::default(),
            tracking: Tracking::default(),
            pubsub_limit,
            blocked_clients: AtomicU64::new(0),
            pause: Pause::default(),
            monitors: Monitors::default(),
        }
    }

    /// Adds a live client.
    pub fn register(&self, client: Arc<Client>) {
        lock(&self.clients).insert(client.id, client);
    }

    /// Removes a client that has gone: its subscriptions and its waits with it.
    pub fn unregister(&self, client: &Arc<Client>) {
        lock(&self.clients).remove(&client.id);
        self.pubsub.unsubscribe_everything(client);
        self.blocking.remove(client, self);
        self.tracking.disable(client.id);
        self.monitors.remove(client.id);
    }

    /// The live client with this id.
    pub fn get(&self, id: u64) -> Option<Arc<Client>> {
        lock(&self.clients).get(&id).cloned()
    }

    /// Every live client, by id.
    pub fn all(&self) -> Vec<Arc<Client>> {
        lock(&self.clients).values().cloned().collect()
    }
}
