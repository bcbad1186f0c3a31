//! Version-aware grading: a reply a scenario gives for other versions (`<@<7.0`) is VERSION on a
//! target of such a version (or of unknown version), FAIL on a newer one; a scenario `since:` a
//! version newer than the target is VERSION when it fails.

use std::net::SocketAddr;
use std::path::Path;

use bytes::BytesMut;
use respect::conformance::target::{Target, Version};
use respect::conformance::{run_scenarios, Outcome, RunOptions, Scenario};
use respect::resp::{Decoder, Dialect, Frame, Limits, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A server that answers as Redis 6.2 does: backticks in the unknown-command error, no EXPIRE
/// options; an empty keyspace for SCAN.
async fn redis_62_like() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut decoder =
                    Decoder::with_options(Dialect::Resp2, Role::Request, Limits::default());
                let mut buf = BytesMut::new();
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stream.read(&mut chunk).await {
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Ok(Some(Frame::Array(args))) = decoder.decode(&mut buf) {
                        let name = args
                            .first()
                            .and_then(Frame::as_bytes)
                            .map(|b| b.to_ascii_uppercase());
                        let reply: &[u8] = match name.as_deref() {
                            Some(b"SCAN") => b"*2\r\n$1\r\n0\r\n*0\r\n",
                            Some(b"NOSUCHCMD") => {
                                b"-ERR unknown command `NOSUCHCMD`, with args beginning with: \r\n"
                            }
                            Some(b"EXPIRE") => {
                                b"-ERR wrong number of arguments for 'expire' command\r\n"
                            }
                            _ => b"+OK\r\n",
                        };
                        if stream.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn scenarios() -> Vec<Scenario> {
    let unknown = "> NOSUCHCMD\n< -ERR unknown command 'NOSUCHCMD', with args beginning with: \n\
                   <@<7.0 -ERR unknown command `NOSUCHCMD`, with args beginning with: \n";
    let since = "# since: 7.0\n> EXPIRE {{k}}a 100 NX\n< :0\n";
    vec![
        Scenario::parse(Path::new("conformance/redis/v/n_unknown.scenario"), unknown)
            .expect("parses"),
        Scenario::parse(Path::new("conformance/redis/v/y_since.scenario"), since).expect("parses"),
    ]
}

async fn outcomes(addr: SocketAddr, target: Option<Target>) -> Vec<Outcome> {
    let options = RunOptions {
        target,
        ..RunOptions::default()
    };
    let mut results = run_scenarios(addr, scenarios(), &options, &|_| {}).await;
    results.sort_by(|a, b| a.path.cmp(&b.path));
    results.iter().map(|r| r.outcome).collect()
}

#[tokio::test]
async fn a_version_explains_a_difference_only_on_that_version() {
    let addr = redis_62_like().await;
    let v62: Version = "6.2.14".parse().expect("version");
    let v70: Version = "7.0.15".parse().expect("version");
    assert_eq!(
        outcomes(addr, Some(Target::given(v62))).await,
        [Outcome::Version, Outcome::Version]
    );
    assert_eq!(
        outcomes(addr, Some(Target::given(v70))).await,
        [Outcome::Fail, Outcome::Fail]
    );
    // Unknown version: the `<@` form explains the reply; `since:` cannot be judged.
    assert_eq!(
        outcomes(addr, None).await,
        [Outcome::Version, Outcome::Fail]
    );
}
