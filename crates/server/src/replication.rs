//! The replication stream, as a replica attached with `SYNC` sees it: a snapshot of the
//! dataset (an RDB file in a bulk), then every change as the command that makes it, in the
//! order the server applied them.
//!
//! This is not replication (there is no PSYNC continuation, backlog or offset bookkeeping,
//! and a server made a replica with REPLICAOF takes the role, read-only and silent, but
//! never connects to its master): it is the stream an observer of a Redis master reads, which is what Redis's own
//! test suite reads (`attach_to_replication_stream`) to check what a command propagates, and
//! what a tool inspecting a server's effects needs. The commands' rewrites (SET EX as SET
//! PXAT, EXPIRE as PEXPIREAT, a served BLPOP as LPOP...) are decided by the command layer
//! (`commands::propagate`); this module holds the replicas, the database the stream last
//! selected, and writes units of work to every replica, wrapped in MULTI/EXEC when a unit
//! holds more than one command, as Redis's `propagatePendingCommands` does.
//!
//! While any replica is attached every command runs alone under the server's gate (see
//! `dispatch::execute`), so the stream's order is the order of execution; without replicas
//! none of this costs anything but one atomic load per command.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use respect_resp::Frame;

use crate::clients::{lock, Client, OutputLimit};

/// Redis's `client-output-buffer-limit replica 256mb 64mb 60`: a replica whose stream backs
/// up past it is disconnected, as Redis drops a replica that does not keep up.
pub const REPLICA_OUTPUT_LIMIT: OutputLimit = OutputLimit {
    hard_bytes: 256 * 1024 * 1024,
    soft_bytes: 64 * 1024 * 1024,
    soft_seconds: 60,
};

/// One command to propagate: the database it ran in and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The database the command changed.
    pub db: usize,
    /// The command as the replica must run it.
    pub argv: Vec<Bytes>,
}

impl Op {
    /// `argv` in database `db`, from static words and byte strings.
    pub fn new(db: usize, argv: Vec<Bytes>) -> Op {
        Op { db, argv }
    }
}

/// What SYNC leaves for its connection: the dataset as copied at the instant the replica
/// was attached, and what goes before it (PSYNC's `+FULLRESYNC` line). Encoding it as an RDB
/// file is the connection's work, done outside the server's gate: the copy is taken under
/// the gate (it and the attachment must be one instant), the encoding need not hold it.
pub struct ReplicaStart {
    /// Written first (empty for SYNC).
    pub preamble: String,
    /// The keys by database.
    pub databases: Vec<(usize, Vec<crate::rdb::file::Item>)>,
    /// The function libraries' codes (Redis sends them in the file too).
    pub functions: Vec<Bytes>,
    /// The time the copy was taken, for the file's expiry times and `ctime`.
    pub now_ms: u64,
}

impl ReplicaStart {
    /// The bytes a replica reads first: the preamble, then the RDB file as a bulk without a
    /// closing CRLF (`$<len>\r\n<file>`), as Redis sends it.
    pub fn encode(&self) -> Vec<u8> {
        let (file, _) = crate::rdb::file::encode(&self.databases, &self.functions, self.now_ms);
        let header = format!("${}\r\n", file.len());
        let mut out = Vec::with_capacity(self.preamble.len() + header.len() + file.len());
        out.extend_from_slice(self.preamble.as_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(&file);
        out
    }
}

impl std::fmt::Debug for ReplicaStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaStart")
            .field("preamble", &self.preamble)
            .field("databases", &self.databases.len())
            .finish()
    }
}

/// The attached replicas and the stream's state.
#[derive(Debug, Default)]
pub struct Replication {
    /// How many replicas are attached: read by every command, so an atomic.
    count: AtomicUsize,
    /// The replicas and the database the stream last selected (`None`: the next command is
    /// preceded by a SELECT). One lock, so a unit of work goes out whole and in order.
    stream: Mutex<Stream>,
    /// Bytes fed to the stream since start (INFO's `master_repl_offset`).
    offset: AtomicU64,
    /// Keys removed on expiry whose deletion the stream has not had yet: the command that
    /// found them (or the expiry cycle) propagates them (see [`Replication::take_expired`]).
    expired: Mutex<Vec<Op>>,
    /// The master REPLICAOF named, while this server has the replica role.
    master: Mutex<Option<(String, u16)>>,
    /// Whether `master` is set: read by every command, so an atomic.
    replica: std::sync::atomic::AtomicBool,
    /// Snapshots sent to replicas (INFO's `sync_full`).
    full_syncs: AtomicU64,
}

#[derive(Debug, Default)]
struct Stream {
    replicas: Vec<Arc<Client>>,
    selected: Option<usize>,
}

impl Replication {
    /// Whether any replica is attached.
    pub fn active(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// How many replicas are attached (INFO's `connected_slaves`).
    pub fn replicas(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    /// The replicas' peer addresses, in order of attachment (INFO's `slave<n>` lines).
    pub fn replica_addrs(&self) -> Vec<Option<std::net::SocketAddr>> {
        lock(&self.stream).replicas.iter().map(|r| r.addr).collect()
    }

    /// INFO's `sync_full`: how many replicas were sent a snapshot.
    pub fn full_syncs(&self) -> u64 {
        self.full_syncs.load(Ordering::Relaxed)
    }

    /// INFO's `master_repl_offset`.
    pub fn offset(&self) -> u64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// Attaches `client` as a replica: from now on it receives every unit of work. The
    /// stream selects its database again before the next command, as Redis does after a
    /// full resynchronisation (harmless for replicas attached before).
    ///
    /// Call it while holding the server's gate exclusively, together with taking the
    /// snapshot the replica is sent first: no change may fall between the two.
    pub fn attach(&self, client: Arc<Client>) {
        let mut stream = lock(&self.stream);
        stream.replicas.retain(|r| r.id != client.id);
        stream.replicas.push(client);
        self.full_syncs.fetch_add(1, Ordering::Relaxed);
        stream.selected = None;
        self.count.store(stream.replicas.len(), Ordering::Release);
    }

    /// Detaches replica `id` (its connection closed).
    pub fn detach(&self, id: u64) {
        let mut stream = lock(&self.stream);
        stream.replicas.retain(|r| r.id != id);
        self.count.store(stream.replicas.len(), Ordering::Release);
    }

    /// Whether this server has the replica role (REPLICAOF host port): it refuses writes
    /// from clients and propagates nothing of its own.
    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::Acquire)
    }

    /// The master REPLICAOF named, if any.
    pub fn master(&self) -> Option<(String, u16)> {
        lock(&self.master).clone()
    }

    /// REPLICAOF: takes the replica role for `master` (`None`: REPLICAOF NO ONE, the master
    /// role again). Returns whether it already had that master. A replica that becomes a
    /// master disconnects its own replicas, as Redis does (they must learn of the new
    /// history), and the next command selects its database again.
    pub fn set_master(&self, master: Option<(String, u16)>) -> bool {
        let mut current = lock(&self.master);
        let same = match (&*current, &master) {
            (Some((host, port)), Some((new_host, new_port))) => {
                host.eq_ignore_ascii_case(new_host) && port == new_port
            }
            _ => false,
        };
        if current.is_some() && master.is_none() {
            let mut stream = lock(&self.stream);
            for replica in &stream.replicas {
                replica.kill();
            }
            stream.selected = None;
        }
        self.replica.store(master.is_some(), Ordering::Release);
        *current = master;
        same
    }

    /// Notes keys of database `db` removed on expiry: their DELs go out with the unit of
    /// work that found them, first, as Redis propagates a lazy expiry before the command.
    pub fn note_expired(&self, db: usize, keys: &[Bytes]) {
        let mut expired = lock(&self.expired);
        for key in keys {
            expired.push(Op::new(db, vec![Bytes::from_static(b"DEL"), key.clone()]));
        }
    }

    /// The deletions noted since the last call.
    pub fn take_expired(&self) -> Vec<Op> {
        std::mem::take(&mut *lock(&self.expired))
    }

    /// Writes one unit of work to every replica: its commands, in MULTI/EXEC when there are
    /// several and `wrap` allows it (Redis does not wrap the deletions of a command that
    /// touches arbitrary keys, SCAN and RANDOMKEY, nor an expiry cycle's).
    pub fn feed(&self, ops: &[Op], wrap: bool) {
        // A replica's own commands reach no one: its replicas follow its master's stream.
        if ops.is_empty() || !self.active() || self.is_replica() {
            return;
        }
        let mut stream = lock(&self.stream);
        let wrap = wrap && ops.len() > 1;
        let first_db = ops.first().map_or(0, |op| op.db);
        let last_db = ops.last().map_or(0, |op| op.db);
        if wrap {
            self.write(&mut stream, Some(first_db), &[Bytes::from_static(b"MULTI")]);
        }
        for op in ops {
            self.write(&mut stream, Some(op.db), &op.argv);
        }
        if wrap {
            self.write(&mut stream, Some(last_db), &[Bytes::from_static(b"EXEC")]);
        }
    }

    /// Writes `argv` to every replica, preceded by a SELECT when `db` is not the database
    /// the stream last selected (`None`: no database, as the periodic PING).
    fn write(&self, stream: &mut Stream, db: Option<usize>, argv: &[Bytes]) {
        if let Some(db) = db.filter(|db| stream.selected != Some(*db)) {
            let select = [
                Bytes::from_static(b"SELECT"),
                Bytes::from(db.to_string().into_bytes()),
            ];
            Self::send(stream, &self.offset, &select);
            stream.selected = Some(db);
        }
        Self::send(stream, &self.offset, argv);
    }

    fn send(stream: &mut Stream, offset: &AtomicU64, argv: &[Bytes]) {
        let frame = Frame::Array(argv.iter().cloned().map(Frame::Bulk).collect());
        offset.fetch_add(crate::clients::wire_size(&frame) as u64, Ordering::Relaxed);
        // A replica past its output limit is disconnected by `push`; it detaches itself
        // when its connection ends.
        for replica in &stream.replicas {
            replica.push(frame.clone(), REPLICA_OUTPUT_LIMIT);
        }
    }

    /// The periodic PING of `repl-ping-replica-period` (no SELECT before it).
    pub fn ping(&self) {
        if !self.active() {
            return;
        }
        let mut stream = lock(&self.stream);
        self.write(&mut stream, None, &[Bytes::from_static(b"PING")]);
    }
}

/// Sends the replicas a PING every `repl-ping-replica-period` seconds (Redis's
/// `replicationCron`, which counts its one-second runs), until the server is gone or `stop`
/// turns true.
pub(crate) async fn run_pings(
    server: std::sync::Weak<crate::state::ServerState>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut runs: u64 = 0;
    crate::state::every(std::time::Duration::from_secs(1), server, stop, |server| {
        let period = server
            .settings
            .get("repl-ping-replica-period")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p > 0)
            .unwrap_or(10);
        if runs.is_multiple_of(period) {
            server.replication.ping();
        }
        runs = runs.wrapping_add(1);
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::Queued;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words
            .iter()
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    fn received(client: &Client) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        client.drain(usize::MAX, |q| {
            if let Queued::Frame(Frame::Array(items)) = q {
                out.push(
                    items
                        .iter()
                        .map(|f| match f {
                            Frame::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
                            other => format!("{other:?}"),
                        })
                        .collect(),
                );
            }
        });
        out
    }

    #[test]
    fn selects_before_the_first_command_and_on_every_change_of_database() {
        let replication = Replication::default();
        let replica = Arc::new(Client::new(7, None, None, -1));
        assert!(!replication.active());
        replication.attach(replica.clone());
        assert!(replication.active());
        replication.feed(&[Op::new(9, argv(&["set", "a", "1"]))], true);
        replication.feed(&[Op::new(9, argv(&["incr", "a"]))], true);
        replication.feed(
            &[
                Op::new(1, argv(&["set", "b", "1"])),
                Op::new(2, argv(&["set", "c", "1"])),
            ],
            true,
        );
        replication.feed(
            &[
                Op::new(2, argv(&["del", "x"])),
                Op::new(2, argv(&["del", "y"])),
            ],
            false,
        );
        replication.ping();
        let got = received(&replica);
        let want: Vec<Vec<&str>> = vec![
            vec!["SELECT", "9"],
            vec!["set", "a", "1"],
            vec!["incr", "a"],
            vec!["SELECT", "1"],
            vec!["MULTI"],
            vec!["set", "b", "1"],
            vec!["SELECT", "2"],
            vec!["set", "c", "1"],
            vec!["EXEC"],
            vec!["del", "x"],
            vec!["del", "y"],
            vec!["PING"],
        ];
        assert_eq!(got, want);
        replication.detach(7);
        assert!(!replication.active());
        replication.feed(&[Op::new(0, argv(&["set", "a", "1"]))], true);
        assert!(received(&replica).is_empty());
    }
}
