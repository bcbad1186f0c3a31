//! The scripted server: a loopback listener that plays Redis 7.0.15 for a client library's
//! handshake and then answers the scenario's request with the scenario's bytes, delivered as
//! the scenario says. It uses the codec, and of `respect-server` only its wording of an
//! unknown command or subcommand.
//!
//! Every connection is served alike (a library that reconnects and retries gets the same
//! reply again). Handshake commands are answered as redis-server 7.0.15 answers them, with
//! bytes recorded from it: `HELLO [2|3] [AUTH u p] [SETNAME n]`, `CLIENT SETINFO` (unknown in
//! 7.0: an error the libraries ignore), `CLIENT SETNAME`, `SELECT`, `PING`, `AUTH` (no
//! password set: user `default` gets in with any password, any other user does not),
//! `READONLY`; any other command is `-ERR unknown command`. The scenario's
//! request wins over all of them when it matches (command name and argument count).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use respect_resp::{encode, Decoder, Dialect, Frame, Limits, Role};
use respect_server::commands::{unknown_command, unknown_subcommand};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::scenario::ClientScenario;

/// redis-server 7.0.15's reply to `HELLO 3` (client id 3), recorded.
pub const HELLO3_REPLY: &[u8] = b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
/// redis-server 7.0.15's reply to `HELLO 2` (client id 3), recorded.
pub const HELLO2_REPLY: &[u8] = b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n";
/// redis-server 7.0.15's reply to `HELLO 4`.
pub const NOPROTO_REPLY: &[u8] = b"-NOPROTO unsupported protocol version\r\n";
/// redis-server 7.0.15's reply to `CLIENT SETINFO ...` (added in 7.2).
pub const SETINFO_REPLY: &[u8] = b"-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n";
/// redis-server 7.0.15's reply to `AUTH u p` and `HELLO 3 AUTH u p` for a user other than
/// `default` (the only user, with no password).
pub const WRONGPASS_REPLY: &[u8] =
    b"-WRONGPASS invalid username-password pair or user is disabled.\r\n";
/// redis-server 7.0.15's reply to `AUTH p` with no password configured.
pub const AUTH_REPLY: &[u8] = b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n";

/// Longest a connection waits for the client's next bytes before it is closed.
pub const READ_DEADLINE: Duration = Duration::from_secs(30);
/// Largest request buffered (the codec's limits, narrowed: a driver's request is small).
pub const MAX_REQUEST: usize = 1024 * 1024;

/// How long the accept loop waits after a failed accept before it tries again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// A running scripted server; dropping it stops the listener and every connection.
pub struct ScriptedServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ScriptedServer {
    /// Starts a server for `scenario` on a free loopback port.
    pub async fn start(scenario: Arc<ClientScenario>) -> std::io::Result<ScriptedServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            connections.spawn(serve(stream, Arc::clone(&scenario)));
                        }
                        // Out of descriptors (a library reconnecting in a loop): accept fails
                        // at once until one closes, so wait instead of spinning.
                        Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
                    },
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        Ok(ScriptedServer { addr, task })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

/// The codec's limits for what a client sends here.
fn request_limits() -> Limits {
    Limits {
        max_bulk_len: MAX_REQUEST,
        ..Limits::default()
    }
}

/// What the handshake responder answers `args` with, as redis-server 7.0.15 would; `proto`
/// is the connection's protocol, changed by HELLO.
fn handshake_reply(args: &[Bytes], proto: &mut u8) -> Vec<u8> {
    let word = |i: usize| {
        args.get(i)
            .map(|a| String::from_utf8_lossy(a).to_ascii_uppercase())
    };
    let name = word(0).unwrap_or_default();
    match name.as_str() {
        "HELLO" => {
            let version = match word(1).as_deref() {
                None => None,
                Some("2") => Some(2),
                Some("3") => Some(3),
                Some(_) => return NOPROTO_REPLY.to_vec(),
            };
            // `AUTH user pass` among the options: only `default` (no password set) gets in.
            let auth_user = (2..args.len())
                .find(|&i| word(i).as_deref() == Some("AUTH"))
                .and_then(|i| args.get(i + 1));
            if auth_user.is_some_and(|user| user.as_ref() != b"default") {
                return WRONGPASS_REPLY.to_vec();
            }
            if let Some(version) = version {
                *proto = version;
            }
            if *proto == 3 {
                HELLO3_REPLY.to_vec()
            } else {
                HELLO2_REPLY.to_vec()
            }
        }
        "CLIENT" => match (word(1).as_deref(), args.get(1)) {
            (Some("SETNAME"), _) if args.len() == 3 => b"+OK\r\n".to_vec(),
            (Some("ID"), _) if args.len() == 2 => b":3\r\n".to_vec(),
            // SETINFO (7.2) and the rest: the subcommand as sent, as 7.0.15 words it.
            (_, Some(sub)) => encode(&unknown_subcommand(sub, "client"), Dialect::Resp2).to_vec(),
            (_, None) => unknown(args),
        },
        "SELECT" if args.len() == 2 => b"+OK\r\n".to_vec(),
        "PING" if args.len() == 1 => b"+PONG\r\n".to_vec(),
        "AUTH" => match args.len() {
            1 => b"-ERR wrong number of arguments for 'auth' command\r\n".to_vec(),
            2 => AUTH_REPLY.to_vec(),
            3 if args.get(1).is_some_and(|user| user.as_ref() == b"default") => b"+OK\r\n".to_vec(),
            3 => WRONGPASS_REPLY.to_vec(),
            _ => b"-ERR syntax error\r\n".to_vec(),
        },
        "READONLY" => b"-ERR This instance has cluster support disabled\r\n".to_vec(),
        _ => unknown(args),
    }
}

/// Redis's reply to a command it does not know, worded by the reference server (at most 128
/// bytes of arguments, the bytes as sent).
fn unknown(args: &[Bytes]) -> Vec<u8> {
    let (name, rest) = args
        .split_first()
        .map_or((&[][..], &[][..]), |(n, r)| (&n[..], r));
    encode(&unknown_command(name, rest), Dialect::Resp2).to_vec()
}

fn request_args(frame: Frame) -> Vec<Bytes> {
    match frame {
        Frame::Array(items) => items
            .into_iter()
            .filter_map(|f| match f {
                Frame::Bulk(b) => Some(b),
                _ => None,
            })
            .collect(),
        Frame::Inline(args) => args,
        _ => Vec::new(),
    }
}

/// Serves one connection until the client closes, the scripted close happens, the read
/// deadline passes, or the client sends what the codec refuses.
async fn serve(mut stream: TcpStream, scenario: Arc<ClientScenario>) {
    let _ = stream.set_nodelay(true);
    let mut decoder = Decoder::with_options(Dialect::Resp2, Role::Request, request_limits());
    let mut buf = BytesMut::with_capacity(4096);
    let mut proto = 2u8;
    loop {
        let frame = loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => break frame,
                Ok(None) => {}
                Err(e) => {
                    let _ = stream
                        .write_all(format!("-ERR {}\r\n", e.redis_reply()).as_bytes())
                        .await;
                    return;
                }
            }
            if buf.len() > MAX_REQUEST {
                return;
            }
            match tokio::time::timeout(READ_DEADLINE, stream.read_buf(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return,
            }
        };
        let args = request_args(frame);
        if args.is_empty() {
            continue;
        }
        if scenario.matches(&args) {
            if !deliver(&mut stream, &scenario).await {
                return;
            }
        } else {
            let reply = handshake_reply(&args, &mut proto);
            if stream.write_all(&reply).await.is_err() {
                return;
            }
        }
    }
}

/// Writes the scripted reply as the scenario says; false when the connection is done (the
/// scripted close, or a write that failed).
async fn deliver(stream: &mut TcpStream, scenario: &ClientScenario) -> bool {
    let d = &scenario.delivery;
    if !d.delay.is_zero() {
        tokio::time::sleep(d.delay).await;
    }
    for (i, piece) in d.pieces(&scenario.reply).enumerate() {
        if i > 0 && !d.gap.is_zero() {
            tokio::time::sleep(d.gap).await;
        }
        if stream.write_all(piece).await.is_err() || stream.flush().await.is_err() {
            return false;
        }
    }
    if d.close_after.is_some() {
        let _ = stream.shutdown().await;
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::scenario::ClientScenario;
    use std::path::Path;

    fn scenario(text: &str) -> Arc<ClientScenario> {
        let root = Path::new("c");
        Arc::new(
            ClientScenario::parse_under(root, &root.join("a/y_t.scenario"), text).expect("parses"),
        )
    }

    async fn exchange(stream: &mut TcpStream, send: &[u8], want: usize) -> Vec<u8> {
        stream.write_all(send).await.expect("write");
        let mut got = Vec::new();
        let read = async {
            while got.len() < want {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("in time");
        got
    }

    #[tokio::test]
    async fn handshake_then_the_scripted_reply_then_the_close() {
        let s = scenario("# request: GET k\n< $3\n< abc\n! deliver bytewise\n! close-after 5\n? error connection\n");
        let server = ScriptedServer::start(s).await.expect("starts");
        let mut c = TcpStream::connect(server.addr()).await.expect("connects");
        let hello = exchange(
            &mut c,
            b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n",
            HELLO3_REPLY.len(),
        )
        .await;
        assert_eq!(hello, HELLO3_REPLY);
        let info = b"*4\r\n$6\r\nCLIENT\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$1\r\nx\r\n";
        assert_eq!(
            exchange(&mut c, info, SETINFO_REPLY.len()).await,
            SETINFO_REPLY
        );
        let lower = b"*4\r\n$6\r\nclient\r\n$7\r\nsetinfo\r\n$8\r\nlib-name\r\n$1\r\nx\r\n";
        let want = b"-ERR unknown subcommand 'setinfo'. Try CLIENT HELP.\r\n";
        assert_eq!(exchange(&mut c, lower, want.len()).await, want);
        assert_eq!(exchange(&mut c, b"PING\r\n", 7).await, b"+PONG\r\n");
        let got = exchange(&mut c, b"*2\r\n$3\r\nget\r\n$1\r\nk\r\n", 100).await;
        assert_eq!(got, b"$3\r\na", "five bytes, then the close");
    }

    #[tokio::test]
    async fn other_commands_are_unknown_and_bad_framing_closes() {
        let s = scenario("# request: GET k\n< +OK\n? value {\"simple\": \"OK\"}\n");
        let server = ScriptedServer::start(s).await.expect("starts");
        let mut c = TcpStream::connect(server.addr()).await.expect("connects");
        let want = b"-ERR unknown command 'SET', with args beginning with: 'k' 'v' \r\n";
        assert_eq!(exchange(&mut c, b"SET k v\r\n", want.len()).await, want);
        // The scripted request is answered on every match, over and over.
        assert_eq!(
            exchange(&mut c, b"GET k\r\nGET k\r\n", 10).await,
            b"+OK\r\n+OK\r\n"
        );
        // As redis-server 7.0.15 words it (measured): at most 128 bytes of arguments, the
        // bytes as sent.
        let want = format!(
            "-ERR unknown command 'FOO', with args beginning with: {}\r\n",
            "'x' ".repeat(32)
        );
        let many = format!("FOO{}\r\n", " x".repeat(60));
        assert_eq!(
            exchange(&mut c, many.as_bytes(), want.len()).await,
            want.as_bytes()
        );
        let want = b"-ERR unknown command 'FOO', with args beginning with: '\xff\xfe' \r\n";
        let raw = b"*2\r\n$3\r\nFOO\r\n$2\r\n\xff\xfe\r\n";
        assert_eq!(exchange(&mut c, raw, want.len()).await, want);
        // AUTH as measured on redis-server 7.0.15 with no password set.
        for (send, want) in [
            (&b"AUTH p\r\n"[..], AUTH_REPLY),
            (b"AUTH default x\r\n", b"+OK\r\n"),
            (b"AUTH u p\r\n", WRONGPASS_REPLY),
            (b"HELLO 3 AUTH u p\r\n", WRONGPASS_REPLY),
            (b"HELLO 2 AUTH default p\r\n", HELLO2_REPLY),
        ] {
            assert_eq!(exchange(&mut c, send, want.len()).await, want);
        }
        let got = exchange(&mut c, b"*1\r\n$x\r\n", 100).await;
        assert_eq!(got, b"-ERR Protocol error: invalid bulk length\r\n");
    }
}
