//! Redis Cluster targets: which node holds a scenario's keys, and how the harness's own traffic
//! follows the cluster when it points elsewhere.
//!
//! A cluster splits the keyspace into [`SLOTS`] hash slots, each served by one master. A key's
//! slot is CRC16 (the XMODEM variant) of the key, or of its hash tag (the text between the first
//! `{` and the next `}`, when not empty), modulo [`SLOTS`]. Every scenario key under `{{k}}`
//! carries the tag `{<run>:<id>}`, so all of a scenario's own keys live in one slot: the runner
//! opens the scenario's connections on that slot's master and the scenario never sees a
//! redirect it did not ask for.
//!
//! The node map comes from `CLUSTER SHARDS` (Redis 7), falling back to `CLUSTER SLOTS`. The
//! harness's own commands (key hygiene) go through a [`Link`], which follows `-MOVED slot
//! host:port` (the slot moved for good: refresh the map, retry on the named node) and `-ASK slot
//! host:port` (the slot is migrating: `ASKING`, then the command once on the named node), at
//! most [`MAX_REDIRECTS`] times, and only to a node the map names (or the seed): a reply does
//! not get to send the harness to an address outside the cluster. Scenario traffic is never redirected: a scenario that tests
//! redirects sees them byte for byte.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;

use respect_resp::{Dialect, Frame};

use super::runner::{connect, RunOptions};

/// Hash slots in a Redis Cluster.
pub const SLOTS: u16 = 16384;

/// Most redirects one harness command follows before the cleanup is an ERROR: a cluster whose
/// map changes faster than that is not one a run can be trusted on.
pub const MAX_REDIRECTS: usize = 5;

/// CRC16-CCITT in the XMODEM variant (polynomial 0x1021, initial value 0, no reflection), the
/// checksum Redis Cluster hashes keys with.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The part of `key` that is hashed: the text between the first `{` and the next `}` when it is
/// not empty, else the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    let Some(open) = key.iter().position(|&b| b == b'{') else {
        return key;
    };
    let after = key.get(open + 1..).unwrap_or_default();
    match after.iter().position(|&b| b == b'}') {
        Some(close) if close > 0 => after.get(..close).unwrap_or(key),
        _ => key,
    }
}

/// The hash slot of `key`.
pub fn key_slot(key: &[u8]) -> u16 {
    crc16(hash_tag(key)) % SLOTS
}

/// One range of slots and the master serving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRange {
    /// First slot.
    pub start: u16,
    /// Last slot, inclusive.
    pub end: u16,
    /// The master serving them.
    pub master: SocketAddr,
}

/// Which master serves which slots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotMap {
    ranges: Vec<SlotRange>,
}

impl SlotMap {
    /// A map of these ranges.
    pub fn new(ranges: Vec<SlotRange>) -> SlotMap {
        SlotMap { ranges }
    }

    /// Every slot on one node: what a test uses to route scenarios to a wrong node on purpose.
    pub fn all_on(master: SocketAddr) -> SlotMap {
        SlotMap::new(vec![SlotRange {
            start: 0,
            end: SLOTS - 1,
            master,
        }])
    }

    /// The master serving `slot`, if any.
    pub fn master_of(&self, slot: u16) -> Option<SocketAddr> {
        self.ranges
            .iter()
            .find(|r| r.start <= slot && slot <= r.end)
            .map(|r| r.master)
    }

    /// Every master, each once, in the order the map names them.
    pub fn masters(&self) -> Vec<SocketAddr> {
        let mut out: Vec<SocketAddr> = Vec::new();
        for r in &self.ranges {
            if !out.contains(&r.master) {
                out.push(r.master);
            }
        }
        out
    }

    /// Its ranges.
    pub fn ranges(&self) -> &[SlotRange] {
        &self.ranges
    }
}

/// A node address as a reply spells it (`host`, `port`); an empty or `?` host is the node that
/// answered (Redis's convention for an unknown endpoint). Only IP literals are taken: a name
/// would need a DNS lookup, and a server's reply does not get to make the harness resolve
/// names (Redis announces IPs unless configured with `cluster-preferred-endpoint-type`).
fn node_addr(host: &[u8], port: i64, answering: SocketAddr) -> Option<SocketAddr> {
    let port = u16::try_from(port).ok()?;
    let host = std::str::from_utf8(host).ok()?;
    if host.is_empty() || host == "?" {
        return Some(SocketAddr::new(answering.ip(), port));
    }
    Some(SocketAddr::new(host.parse::<IpAddr>().ok()?, port))
}

/// An integer of a reply, whether an integer frame or digits in a string.
fn integer(frame: &Frame) -> Option<i64> {
    match frame {
        Frame::Integer(n) => Some(*n),
        other => std::str::from_utf8(other.as_bytes()?).ok()?.parse().ok(),
    }
}

/// A field of a RESP2 map (a flat array of name, value pairs).
fn field<'a>(pairs: &'a [Frame], name: &str) -> Option<&'a Frame> {
    pairs
        .chunks(2)
        .find(|p| p.first().and_then(Frame::as_bytes).map(|b| &b[..]) == Some(name.as_bytes()))
        .and_then(|p| p.get(1))
}

/// A slot number from a reply, if it is one.
fn slot(frame: &Frame) -> Option<u16> {
    u16::try_from(integer(frame)?).ok().filter(|&s| s < SLOTS)
}

/// The map `CLUSTER SHARDS` describes (RESP2): per shard, `slots` as start, end pairs and
/// `nodes`, of which the master (`role master`) serves them.
pub fn parse_shards(reply: &Frame, answering: SocketAddr) -> Option<SlotMap> {
    let Frame::Array(shards) = reply else {
        return None;
    };
    let mut ranges = Vec::new();
    for shard in shards {
        let Frame::Array(shard) = shard else {
            return None;
        };
        let (Some(Frame::Array(slots)), Some(Frame::Array(nodes))) =
            (field(shard, "slots"), field(shard, "nodes"))
        else {
            return None;
        };
        let master = nodes.iter().find_map(|node| {
            let Frame::Array(node) = node else {
                return None;
            };
            if field(node, "role")?.as_bytes()?.as_ref() != b"master" {
                return None;
            }
            let host = field(node, "ip")
                .or_else(|| field(node, "endpoint"))?
                .as_bytes()?;
            node_addr(host, integer(field(node, "port")?)?, answering)
        });
        let Some(master) = master else {
            // A shard without a reachable master serves nothing.
            continue;
        };
        for pair in slots.chunks(2) {
            let (Some(start), Some(end)) =
                (pair.first().and_then(slot), pair.get(1).and_then(slot))
            else {
                return None;
            };
            ranges.push(SlotRange { start, end, master });
        }
    }
    Some(SlotMap::new(ranges))
}

/// The map `CLUSTER SLOTS` describes: per range, start, end, then the master as host, port,
/// id (then its replicas).
pub fn parse_slots(reply: &Frame, answering: SocketAddr) -> Option<SlotMap> {
    let Frame::Array(entries) = reply else {
        return None;
    };
    let mut ranges = Vec::new();
    for entry in entries {
        let Frame::Array(entry) = entry else {
            return None;
        };
        let (Some(start), Some(end), Some(Frame::Array(master))) = (
            entry.first().and_then(slot),
            entry.get(1).and_then(slot),
            entry.get(2),
        ) else {
            return None;
        };
        let host = master.first()?.as_bytes()?;
        let master = node_addr(host, integer(master.get(1)?)?, answering)?;
        ranges.push(SlotRange { start, end, master });
    }
    Some(SlotMap::new(ranges))
}

/// Reads the slot map from the node at `addr`: `CLUSTER SHARDS`, else `CLUSTER SLOTS`, on a
/// connection made as the runner makes its own (deadlines, reply budget, `AUTH`).
pub async fn discover(addr: SocketAddr, options: &RunOptions) -> Result<SlotMap, String> {
    let mut client = connect(addr, Dialect::Resp2, options).await?;
    let shards = client
        .call(&["CLUSTER", "SHARDS"])
        .await
        .map_err(|e| format!("{addr}: CLUSTER SHARDS: {e}"))?;
    if let Some(map) = parse_shards(&shards, addr).filter(|m| !m.ranges.is_empty()) {
        return Ok(map);
    }
    let slots = client
        .call(&["CLUSTER", "SLOTS"])
        .await
        .map_err(|e| format!("{addr}: CLUSTER SLOTS: {e}"))?;
    match parse_slots(&slots, addr) {
        Some(map) if !map.ranges.is_empty() => Ok(map),
        _ => Err(format!(
            "{addr} is not a Redis Cluster node with slots (CLUSTER SHARDS answered {shards}, \
             CLUSTER SLOTS answered {slots})"
        )),
    }
}

/// Where a redirect error sends a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirect {
    /// `-MOVED slot host:port`: the slot is served there from now on.
    Moved(u16, SocketAddr),
    /// `-ASK slot host:port`: this one command goes there, after `ASKING`.
    Ask(u16, SocketAddr),
}

/// The redirect `reply` is, if it is one; `answering` stands for an empty host.
pub fn redirect_of(reply: &Frame, answering: SocketAddr) -> Option<Redirect> {
    if !reply.is_error() {
        return None;
    }
    let text = std::str::from_utf8(reply.as_bytes()?).ok()?;
    let mut words = text.split(' ');
    let (kind, slot, node) = (words.next()?, words.next()?, words.next()?);
    let slot: u16 = slot.parse().ok().filter(|&s| s < SLOTS)?;
    let (host, port) = node.rsplit_once(':')?;
    let addr = node_addr(host.as_bytes(), port.parse().ok()?, answering)?;
    match kind {
        "MOVED" => Some(Redirect::Moved(slot, addr)),
        "ASK" => Some(Redirect::Ask(slot, addr)),
        _ => None,
    }
}

/// A cluster under test: its seed node, and the slot map as last read.
#[derive(Debug)]
pub struct Cluster {
    seed: SocketAddr,
    options: RunOptions,
    map: RwLock<SlotMap>,
    refreshes: AtomicUsize,
}

impl Cluster {
    /// Discovers the cluster through `seed`.
    pub async fn discover(seed: SocketAddr, options: &RunOptions) -> Result<Cluster, String> {
        let map = discover(seed, options).await?;
        Ok(Cluster::with_map(seed, options, map))
    }

    /// A cluster known through `seed` with `map` as its (maybe wrong) current map; `options`
    /// are how the harness connects to its nodes (their `cluster` is not used).
    pub fn with_map(seed: SocketAddr, options: &RunOptions, map: SlotMap) -> Cluster {
        Cluster {
            seed,
            options: RunOptions {
                cluster: None,
                ..options.clone()
            },
            map: RwLock::new(map),
            refreshes: AtomicUsize::new(0),
        }
    }

    /// The map as last read.
    pub fn map(&self) -> SlotMap {
        self.map.read().map(|m| m.clone()).unwrap_or_default()
    }

    /// The master serving `slot`, by the current map (the seed when no range names it).
    pub fn master_of(&self, slot: u16) -> SocketAddr {
        self.map().master_of(slot).unwrap_or(self.seed)
    }

    /// Every master by the current map.
    pub fn masters(&self) -> Vec<SocketAddr> {
        self.map().masters()
    }

    /// How many times the map was read again after a `-MOVED`.
    pub fn refreshes(&self) -> usize {
        self.refreshes.load(Ordering::Relaxed)
    }

    /// Whether `addr` is the seed or a master of the current map: the only nodes a redirect
    /// may send the harness to.
    pub fn knows(&self, addr: SocketAddr) -> bool {
        addr == self.seed || self.masters().contains(&addr)
    }

    /// Reads the map again, from the seed, then the masters already known (never from a node
    /// only a redirect named).
    pub async fn refresh(&self) -> Result<(), String> {
        let mut nodes = vec![self.seed];
        nodes.extend(self.masters().into_iter().filter(|&m| m != self.seed));
        let mut last = String::new();
        for node in nodes {
            match discover(node, &self.options).await {
                Ok(map) => {
                    if let Ok(mut current) = self.map.write() {
                        *current = map;
                    }
                    self.refreshes.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(format!("cannot read the cluster's slot map again: {last}"))
    }
}

/// A connection for the harness's own commands. On a cluster it follows `-MOVED` (refreshing
/// the map, then staying on the new node) and `-ASK` (`ASKING` and the command on the named
/// node), to nodes of the cluster only; elsewhere a redirect is just a reply.
pub struct Link<'a> {
    addr: SocketAddr,
    client: respect_client::Client,
    cluster: Option<&'a Cluster>,
    options: &'a RunOptions,
}

impl<'a> Link<'a> {
    /// A link to `addr`.
    pub async fn open(
        addr: SocketAddr,
        cluster: Option<&'a Cluster>,
        options: &'a RunOptions,
    ) -> Result<Link<'a>, String> {
        let client = connect(addr, Dialect::Resp2, options).await?;
        Ok(Link {
            addr,
            client,
            cluster,
            options,
        })
    }

    /// The node it talks to now.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends a command and reads its reply, following redirects on a cluster.
    pub async fn call(&mut self, args: &[&[u8]]) -> Result<Frame, String> {
        for _ in 0..=MAX_REDIRECTS {
            let reply = self.client.call(args).await.map_err(|e| e.to_string())?;
            let Some(cluster) = self.cluster else {
                return Ok(reply);
            };
            match redirect_of(&reply, self.addr) {
                None => return Ok(reply),
                Some(Redirect::Moved(_, node)) => {
                    cluster.refresh().await?;
                    check_member(cluster, node)?;
                    self.client = connect(node, Dialect::Resp2, self.options).await?;
                    self.addr = node;
                }
                Some(Redirect::Ask(_, node)) => {
                    if !cluster.knows(node) {
                        cluster.refresh().await?;
                    }
                    check_member(cluster, node)?;
                    let mut there = connect(node, Dialect::Resp2, self.options).await?;
                    let asking = there.call(&["ASKING"]).await.map_err(|e| e.to_string())?;
                    if asking.is_error() {
                        return Err(format!("{node} refused ASKING: {asking}"));
                    }
                    let reply = there.call(args).await.map_err(|e| e.to_string())?;
                    if redirect_of(&reply, node).is_none() {
                        return Ok(reply);
                    }
                }
            }
        }
        Err(format!(
            "still redirected after {MAX_REDIRECTS} redirects: the cluster's map keeps changing"
        ))
    }
}

/// `Err` unless `node`, named by a redirect, is a node of `cluster`.
fn check_member(cluster: &Cluster, node: SocketAddr) -> Result<(), String> {
    match cluster.knows(node) {
        true => Ok(()),
        false => Err(format!(
            "redirected to {node}, which the cluster's slot map does not name: not followed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_is_xmodem_as_the_cluster_spec_gives_it() {
        // The cluster specification's test vector.
        assert_eq!(crc16(b"123456789"), 0x31C3);
        assert_eq!(crc16(b""), 0);
    }

    #[test]
    fn slots_follow_hash_tags() {
        // Values from redis-server 7.0.15's CLUSTER KEYSLOT.
        assert_eq!(key_slot(b"123456789"), 12739);
        assert_eq!(key_slot(b"a"), 15495);
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % SLOTS);
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        assert_eq!(hash_tag(b"respect:{1a2b3c4d:x/y}:k"), b"1a2b3c4d:x/y");
        assert_eq!(hash_tag(b"{"), b"{");
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn bulk(s: &str) -> Frame {
        Frame::Bulk(bytes::Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn shards_and_slots_replies_give_the_same_map() {
        let node = |port: i64, role: &str| {
            Frame::Array(vec![
                bulk("id"),
                bulk("abc"),
                bulk("port"),
                Frame::Integer(port),
                bulk("endpoint"),
                bulk("127.0.0.1"),
                bulk("role"),
                bulk(role),
            ])
        };
        let shards = Frame::Array(vec![
            Frame::Array(vec![
                bulk("slots"),
                Frame::Array(vec![Frame::Integer(0), Frame::Integer(5460)]),
                bulk("nodes"),
                Frame::Array(vec![node(7002, "replica"), node(7001, "master")]),
            ]),
            Frame::Array(vec![
                bulk("slots"),
                Frame::Array(vec![Frame::Integer(5461), Frame::Integer(16383)]),
                bulk("nodes"),
                Frame::Array(vec![node(7003, "master")]),
            ]),
        ]);
        let map = parse_shards(&shards, addr(1)).expect("shards");
        assert_eq!(map.master_of(0), Some(addr(7001)));
        assert_eq!(map.master_of(5461), Some(addr(7003)));
        assert_eq!(map.masters(), vec![addr(7001), addr(7003)]);
        let slots = Frame::Array(vec![
            Frame::Array(vec![
                Frame::Integer(0),
                Frame::Integer(5460),
                Frame::Array(vec![bulk("127.0.0.1"), Frame::Integer(7001), bulk("abc")]),
            ]),
            Frame::Array(vec![
                Frame::Integer(5461),
                Frame::Integer(16383),
                Frame::Array(vec![bulk(""), Frame::Integer(7003), bulk("def")]),
            ]),
        ]);
        assert_eq!(parse_slots(&slots, addr(1)), Some(map));
        assert_eq!(parse_slots(&Frame::Error("ERR x".into()), addr(1)), None);
    }

    /// A one-master "cluster" on loopback: CLUSTER SHARDS is empty, CLUSTER SLOTS puts every
    /// slot on itself, and every other command is answered with `redirect`.
    async fn fake_node(redirect: &'static str) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let me = listener.local_addr().expect("address");
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = socket.read(&mut buf).await {
                        let request = &buf[..n];
                        let has = |w: &[u8]| request.windows(w.len()).any(|x| x == w);
                        let reply = if has(b"SHARDS") {
                            "*0\r\n".to_string()
                        } else if has(b"SLOTS") {
                            format!(
                                "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$9\r\n127.0.0.1\r\n:{}\r\n",
                                me.port()
                            )
                        } else {
                            format!("-{redirect}\r\n")
                        };
                        if socket.write_all(reply.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        me
    }

    #[tokio::test]
    async fn a_redirect_outside_the_cluster_is_not_followed() {
        for redirect in ["MOVED 1 127.0.0.9:1", "ASK 1 127.0.0.9:1"] {
            let node = fake_node(redirect).await;
            let options = RunOptions::default();
            let cluster = Cluster::discover(node, &options).await.expect("the map");
            assert_eq!(cluster.masters(), vec![node]);
            let mut link = Link::open(node, Some(&cluster), &options)
                .await
                .expect("a link");
            let err = link.call(&[b"GET", b"k"]).await.expect_err(redirect);
            assert!(
                err.contains("127.0.0.9:1") && err.contains("not followed"),
                "{err}"
            );
            assert_eq!(link.addr(), node);
        }
    }

    #[test]
    fn redirects_are_read_from_their_errors() {
        let moved = Frame::Error("MOVED 3999 127.0.0.1:6381".into());
        assert_eq!(
            redirect_of(&moved, addr(1)),
            Some(Redirect::Moved(3999, addr(6381)))
        );
        let ask = Frame::Error("ASK 3999 :6382".into());
        assert_eq!(
            redirect_of(&ask, addr(1)),
            Some(Redirect::Ask(3999, addr(6382)))
        );
        assert_eq!(
            redirect_of(&Frame::Error("MOVED 99999 a:1".into()), addr(1)),
            None
        );
        assert_eq!(redirect_of(&bulk("MOVED 1 127.0.0.1:1"), addr(1)), None);
        // A name is not resolved: the reply stays a reply.
        let named = Frame::Error("MOVED 1 redis.example:6379".into());
        assert_eq!(redirect_of(&named, addr(1)), None);
    }
}
