//! The seed flavor's SAVE, RESTORE and MERGE: the keyspace (every typed value, expiries)
//! and the schedule survive a round trip through a file; MERGE keeps live keys; a file that
//! is not ours (a pickle, as simpledb writes, or garbage) is refused with the live data
//! untouched; a file name is only a name in the server's data directory.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use respect::client::Client;
use respect::resp::{escape_bytes, Dialect};
use respect::server::{Flavor, ServerConfig};

fn temp_dir(name: &str) -> PathBuf {
    support::temp_dir("respect-seed", name)
}

async fn seed_server(dir: Option<PathBuf>) -> respect::server::ServerHandle {
    support::our_server(ServerConfig {
        flavor: Flavor::Seed,
        dir,
        ..Default::default()
    })
    .await
}

/// Sends raw request bytes, reads one reply, returns its bytes escaped.
async fn ask(client: &mut Client, request: &[u8]) -> String {
    client.send_raw(request).await.expect("send");
    let reply = client
        .read_reply_timeout(Duration::from_secs(5))
        .await
        .expect("a reply");
    escape_bytes(&reply.raw).to_string()
}

/// A request of bulk-string arguments.
fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n{a}\r\n", a.len()).bytes());
    }
    out
}

/// The values a round trip must keep: (key, SET request, GET reply).
const VALUES: &[(&str, &[u8], &str)] = &[
    (
        "text",
        b"*3\r\n$3\r\nSET\r\n$4\r\ntext\r\n^6\r\nh\xc3\xa9llo\r\n",
        "^6\\r\\nh\\xc3\\xa9llo\\r\\n",
    ),
    (
        "bin",
        b"*3\r\n$3\r\nSET\r\n$3\r\nbin\r\n$3\r\n\xff\x00\r\r\n",
        "$3\\r\\n\\xff\\x00\\r\\r\\n",
    ),
    (
        "dict",
        b"*3\r\n$3\r\nSET\r\n$4\r\ndict\r\n%1\r\n$1\r\nx\r\n%1\r\n$1\r\ny\r\n*2\r\n:1\r\n:1.5\r\n",
        "%1\\r\\n$1\\r\\nx\\r\\n%1\\r\\n$1\\r\\ny\\r\\n*2\\r\\n:1\\r\\n:1.5\\r\\n",
    ),
    (
        "set",
        b"*3\r\n$3\r\nSET\r\n$3\r\nset\r\n&2\r\n$1\r\na\r\n$1\r\nb\r\n",
        "&2\\r\\n$1\\r\\na\\r\\n$1\\r\\nb\\r\\n",
    ),
    (
        "list",
        b"*3\r\n$3\r\nSET\r\n$4\r\nlist\r\n*3\r\n$1\r\na\r\n:-2\r\n$-1\r\n",
        "*3\\r\\n$1\\r\\na\\r\\n:-2\\r\\n$-1\\r\\n",
    ),
];

#[tokio::test]
async fn the_keyspace_and_the_schedule_survive_a_round_trip() {
    let dir = temp_dir("round-trip");
    let server = seed_server(Some(dir.clone())).await;
    let mut c = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    for (_, set, _) in VALUES {
        assert_eq!(ask(&mut c, set).await, ":1\\r\\n");
    }
    assert_eq!(
        ask(
            &mut c,
            b"*4\r\n$5\r\nSETEX\r\n$3\r\nttl\r\n$1\r\nv\r\n:1000\r\n"
        )
        .await,
        ":1\\r\\n"
    );
    assert_eq!(
        ask(&mut c, &cmd(&["SETEX", "gone", "v", "0.05"])).await,
        ":1\\r\\n"
    );
    assert_eq!(
        ask(&mut c, &cmd(&["ADD", "1999-01-01 00:00:01.5", "due"])).await,
        ":1\\r\\n"
    );
    assert_eq!(ask(&mut c, &cmd(&["SAVE", "state.snap"])).await, ":1\\r\\n");
    assert_eq!(ask(&mut c, &cmd(&["FLUSHALL"])).await, ":1\\r\\n");
    assert_eq!(ask(&mut c, &cmd(&["LEN"])).await, ":0\\r\\n");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        ask(&mut c, &cmd(&["RESTORE", "state.snap"])).await,
        ":1\\r\\n"
    );
    for (key, _, get) in VALUES {
        assert_eq!(ask(&mut c, &cmd(&["GET", key])).await, *get, "{key}");
    }
    assert_eq!(ask(&mut c, &cmd(&["GET", "ttl"])).await, "$1\\r\\nv\\r\\n");
    // The expiry went into the file too: the key that expired meanwhile stays gone.
    assert_eq!(ask(&mut c, &cmd(&["EXISTS", "gone"])).await, ":0\\r\\n");
    assert_eq!(
        ask(&mut c, &cmd(&["READ", "1999-01-01 00:00:02"])).await,
        "*1\\r\\n$3\\r\\ndue\\r\\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn merge_adds_the_file_keys_and_keeps_live_ones() {
    let dir = temp_dir("merge");
    let server = seed_server(Some(dir.clone())).await;
    let mut c = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    ask(&mut c, &cmd(&["SET", "shared", "old"])).await;
    ask(&mut c, &cmd(&["SET", "only-in-file", "f"])).await;
    assert_eq!(ask(&mut c, &cmd(&["SAVE", "m"])).await, ":1\\r\\n");
    ask(&mut c, &cmd(&["FLUSH"])).await;
    ask(&mut c, &cmd(&["SET", "shared", "live"])).await;
    ask(&mut c, &cmd(&["SET", "only-live", "l"])).await;
    assert_eq!(ask(&mut c, &cmd(&["MERGE", "m"])).await, ":1\\r\\n");
    assert_eq!(
        ask(&mut c, &cmd(&["GET", "shared"])).await,
        "$4\\r\\nlive\\r\\n"
    );
    assert_eq!(
        ask(&mut c, &cmd(&["GET", "only-in-file"])).await,
        "$1\\r\\nf\\r\\n"
    );
    assert_eq!(
        ask(&mut c, &cmd(&["GET", "only-live"])).await,
        "$1\\r\\nl\\r\\n"
    );
    assert_eq!(
        ask(&mut c, &cmd(&["RESTORE", "no-such-file"])).await,
        ":0\\r\\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn hostile_files_are_refused_and_the_live_data_stays() {
    let dir = temp_dir("hostile");
    // A pickle that would run a shell command if it were unpickled, as simpledb does.
    let pickle = b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c\x07touch x\x94\x85\x94R\x94.";
    std::fs::write(dir.join("evil.pickle"), pickle).expect("write");
    std::fs::write(
        dir.join("cut.snap"),
        b"respect-seed-snapshot 1\r\n%2\r\n^2\r\nkv\r\n*5\r\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("deep.snap"),
        [
            &b"respect-seed-snapshot 1\r\n"[..],
            &b"*1\r\n".repeat(50_000),
        ]
        .concat(),
    )
    .expect("write");
    let server = seed_server(Some(dir.clone())).await;
    let mut c = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    ask(&mut c, &cmd(&["SET", "live", "v"])).await;
    for name in ["evil.pickle", "cut.snap", "deep.snap"] {
        for verb in ["RESTORE", "MERGE"] {
            let reply = ask(&mut c, &cmd(&[verb, name])).await;
            assert!(
                reply.starts_with("-Bad snapshot file"),
                "{verb} {name}: {reply}"
            );
        }
    }
    assert_eq!(ask(&mut c, &cmd(&["GET", "live"])).await, "$1\\r\\nv\\r\\n");
    assert!(!dir.join("x").exists(), "nothing in the file ran");
    for name in ["../escape", "/etc/passwd", "..", "a/b", ""] {
        for verb in ["SAVE", "RESTORE", "MERGE"] {
            let reply = ask(&mut c, &cmd(&[verb, name])).await;
            assert!(
                reply.starts_with("-Invalid file name"),
                "{verb} {name:?}: {reply}"
            );
        }
    }
    assert!(!dir
        .parent()
        .map(|p| p.join("escape"))
        .is_some_and(|p| p.exists()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_a_data_directory_nothing_is_written() {
    let server = seed_server(None).await;
    let mut c = Client::connect(server.addr(), Dialect::Seed)
        .await
        .expect("connect");
    for verb in ["SAVE", "RESTORE", "MERGE"] {
        let reply = ask(&mut c, &cmd(&[verb, "file"])).await;
        assert!(reply.starts_with("-No data directory"), "{verb}: {reply}");
    }
}
