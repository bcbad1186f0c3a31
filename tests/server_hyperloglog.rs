//! HyperLogLog against a real redis-server 7.0.15: the same seeded sequences of PFADD,
//! PFCOUNT, PFMERGE, PFDEBUG and GET on both servers, every reply compared byte for byte, so
//! a sketch's stored bytes (sparse and dense, promotions, the cached cardinality) and every
//! estimate are Redis's. Then sketches corrupted as a client could SET them (bytes changed,
//! cut, extended; the header changed) under the same commands. Skipped with a message when
//! redis-server is not installed (a failure under CI).

mod support;

use respect::client::Client;
use respect::resp::{escape_bytes, Dialect, Frame};
use respect::server::ServerConfig;

/// A small deterministic PRNG (xorshift64*), so both servers get the same script.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Each command with its raw reply.
async fn run(addr: std::net::SocketAddr, script: &[Vec<Vec<u8>>]) -> Vec<bytes::Bytes> {
    let mut client = Client::connect(addr, Dialect::Resp2)
        .await
        .expect("connect");
    let mut out = Vec::with_capacity(script.len());
    for args in script {
        client
            .send(&Frame::command(args.iter().map(|a| a.as_slice())))
            .await
            .expect("send");
        out.push(client.read_reply().await.expect("reply").raw);
    }
    out
}

fn cmd(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

fn elements(rng: &mut Rng, n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| rng.below(1 << 40).to_string().into_bytes())
        .collect()
}

/// Sketches grown a few elements at a time, each step looked at every way.
fn growth_script(rng: &mut Rng, prefix: &str) -> Vec<Vec<Vec<u8>>> {
    let mut script = Vec::new();
    let sizes = [1u64, 5, 40, 300, 1200, 4000];
    for (i, &size) in sizes.iter().enumerate() {
        let key = format!("{prefix}:g{i}").into_bytes();
        let mut added = 0;
        while added < size {
            let step = 1 + rng.below(9);
            let mut args = cmd(&[b"PFADD", &key]);
            args.extend(elements(rng, step));
            script.push(args);
            added += step;
            if rng.below(4) == 0 {
                script.push(cmd(&[b"PFCOUNT", &key]));
            }
        }
        script.push(cmd(&[b"GET", &key]));
        script.push(cmd(&[b"PFCOUNT", &key]));
        script.push(cmd(&[b"GET", &key]));
        script.push(cmd(&[b"PFDEBUG", b"ENCODING", &key]));
        script.push(cmd(&[b"PFDEBUG", b"DECODE", &key]));
    }
    let g = |i: usize| format!("{prefix}:g{i}").into_bytes();
    let dest = format!("{prefix}:m").into_bytes();
    script.push(cmd(&[b"PFCOUNT", &g(1), &g(2), &g(5)]));
    script.push(cmd(&[b"PFMERGE", &dest, &g(0), &g(1), &g(2)]));
    script.push(cmd(&[b"GET", &dest]));
    script.push(cmd(&[b"PFMERGE", &dest, &g(4)]));
    script.push(cmd(&[b"GET", &dest]));
    script.push(cmd(&[b"PFCOUNT", &dest]));
    script.push(cmd(&[b"PFDEBUG", b"GETREG", &g(3)]));
    script.push(cmd(&[b"GET", &g(3)]));
    script
}

/// `value` with a few random corruptions; None when it would end in an XZERO cut short
/// (that opcode reads the byte after the string, which Redis may have left non-zero in an
/// earlier command: not reproduced, see the README).
fn corrupt(rng: &mut Rng, value: &[u8]) -> Option<Vec<u8>> {
    let mut v = value.to_vec();
    for _ in 0..1 + rng.below(3) {
        match rng.below(10) {
            0..=5 if v.len() > 16 => {
                let at = 16 + rng.below(v.len() as u64 - 16) as usize;
                v[at] = rng.below(256) as u8;
            }
            6 => {
                let keep = 16 + rng.below(v.len() as u64 - 15) as usize;
                v.truncate(keep);
            }
            7 => v.push(rng.below(256) as u8),
            8 => v[15] ^= 0x80,
            _ => {
                let at = rng.below(16) as usize;
                v[at] = rng.below(256) as u8;
            }
        }
    }
    // Walk the opcodes: an XZERO whose second byte is missing is left out.
    if v.get(4) == Some(&1) {
        let mut p = 16;
        while p < v.len() {
            let b = v[p];
            p += if b & 0xc0 == 0x40 { 2 } else { 1 };
        }
        if p > v.len() {
            return None;
        }
    }
    Some(v)
}

#[tokio::test]
async fn sketches_are_redis_s_bytes_and_estimates() {
    let Some(redis) = support::RedisServer::start() else {
        return;
    };
    let ours = support::our_server(ServerConfig::default()).await;
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut script = growth_script(&mut rng, "hll");

    // Corrupted sketches: the sparse source values are taken from Redis's own replies.
    let sources = run(redis.addr, &script).await;
    let mut values: Vec<Vec<u8>> = Vec::new();
    for (args, reply) in script.iter().zip(&sources) {
        if args[0] == b"GET" && reply.first() == Some(&b'$') {
            if let Some(start) = reply.iter().position(|&b| b == b'\n') {
                let body = &reply[start + 1..reply.len().saturating_sub(2)];
                if body.len() < 3000 {
                    values.push(body.to_vec());
                }
            }
        }
    }
    assert!(values.len() >= 6, "{} sparse values", values.len());
    for round in 0..300 {
        let source = &values[rng.below(values.len() as u64) as usize];
        let Some(value) = corrupt(&mut rng, source) else {
            continue;
        };
        let key = format!("hll:c{round}").into_bytes();
        script.push(cmd(&[b"SET", &key, &value]));
        for _ in 0..3 {
            match rng.below(6) {
                0 | 1 => {
                    let mut args = cmd(&[b"PFADD", &key]);
                    let n = 1 + rng.below(30);
                    args.extend(elements(&mut rng, n));
                    script.push(args);
                }
                2 => script.push(cmd(&[b"PFCOUNT", &key])),
                3 => script.push(cmd(&[b"PFCOUNT", &key, b"hll:g1"])),
                4 => script.push(cmd(&[b"PFMERGE", b"hll:cm", &key])),
                _ => script.push(cmd(&[b"PFDEBUG", b"TODENSE", &key])),
            }
            script.push(cmd(&[b"GET", &key]));
        }
        // Only one command per key touches a corrupt sketch's tail: start afresh.
        script.push(cmd(&[b"DEL", &key]));
    }
    script.push(cmd(&[b"GET", b"hll:cm"]));

    redis_flush(&redis).await;
    let theirs = run(redis.addr, &script).await;
    let mine = run(ours.addr(), &script).await;
    let mut diffs = Vec::new();
    for ((args, t), o) in script.iter().zip(&theirs).zip(&mine) {
        if t != o && diffs.len() < 5 {
            let shown: Vec<String> = args
                .iter()
                .map(|a| escape_bytes(a).chars().take(60).collect())
                .collect();
            diffs.push(format!(
                "{}\n  redis:   \"{}\"\n  respect: \"{}\"",
                shown.join(" "),
                escape_bytes(t).chars().take(300).collect::<String>(),
                escape_bytes(o).chars().take(300).collect::<String>()
            ));
        }
    }
    assert!(
        diffs.is_empty(),
        "replies differ from redis-server ({} commands):\n{}",
        script.len(),
        diffs.join("\n")
    );
    ours.shutdown().await;
}

async fn redis_flush(redis: &support::RedisServer) {
    let mut client = Client::connect(redis.addr, Dialect::Resp2)
        .await
        .expect("connect");
    client.call(&["FLUSHALL"]).await.expect("FLUSHALL");
}
