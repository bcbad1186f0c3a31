//! `respect cli`: a redis-cli-like client. Sends one command given as arguments, or each line
//! read from stdin (split by redis-cli's quoting rules), and prints replies in redis-cli style.

use std::io::{self, BufRead, Write};
use std::time::Duration;

use bytes::Bytes;

use crate::client::{Client, ClientError, ClientOptions, ReplyBudget};
use crate::resp::{split_inline, Dialect, Frame};

/// What the session needs to know.
#[derive(Debug, Clone)]
pub struct CliOptions {
    /// `HOST:PORT` of the server.
    pub addr: String,
    /// The dialect to speak: RESP2 (switch with `HELLO 3`), RESP3 (sends `HELLO 3` first) or seed.
    pub dialect: Dialect,
    /// How long to wait for each reply.
    pub timeout: Duration,
    /// Print the reply's exact bytes, escaped, instead of the redis-cli rendering.
    pub raw: bool,
    /// What one reply may cost before the session ends with an error.
    pub budget: ReplyBudget,
}

/// Why a session ended early.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The server could not be reached at all (a usage or environment problem: exit 2).
    #[error("cannot connect to {addr}: {why}")]
    Unreachable {
        /// The address given.
        addr: String,
        /// Why, in a few words.
        why: String,
    },
    /// An exchange failed: timeout, reply over budget, close, malformed reply.
    #[error(transparent)]
    Exchange(#[from] ClientError),
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> CliError {
        CliError::Exchange(ClientError::Io(e))
    }
}

/// Runs one command (when `command` is non-empty) or a line-by-line session on `input`,
/// writing replies to `out`. Returns whether any reply was an error.
pub async fn run_cli(
    options: &CliOptions,
    command: &[String],
    input: impl BufRead,
    out: &mut impl Write,
) -> Result<bool, CliError> {
    let wire = if options.dialect == Dialect::Resp3 {
        Dialect::Resp2
    } else {
        options.dialect
    };
    let client_options = ClientOptions {
        io_timeout: options.timeout,
        budget: options.budget,
    };
    let mut client = Client::connect_with(options.addr.as_str(), wire, client_options)
        .await
        .map_err(|e| CliError::Unreachable {
            addr: options.addr.clone(),
            why: match e.kind() {
                io::ErrorKind::ConnectionRefused => "connection refused".into(),
                io::ErrorKind::TimedOut => "timed out".into(),
                _ => e.to_string(),
            },
        })?;
    if options.dialect == Dialect::Resp3 {
        let reply = exchange(
            &mut client,
            vec![Bytes::from_static(b"HELLO"), Bytes::from_static(b"3")],
            options,
        )
        .await?;
        if reply.frame.is_error() {
            writeln!(out, "{}", reply.frame)?;
            return Ok(true);
        }
    }
    let mut failed = false;
    if !command.is_empty() {
        let args = command
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_bytes()))
            .collect();
        failed |= show(&mut client, args, options, out).await?;
        return Ok(failed);
    }
    for line in input.lines() {
        let line = line?;
        let args = match split_inline(line.as_bytes()) {
            Ok(args) if args.is_empty() => continue,
            Ok(args) => args,
            Err(e) => {
                writeln!(out, "(error) {e}")?;
                failed = true;
                continue;
            }
        };
        failed |= show(&mut client, args, options, out).await?;
    }
    Ok(failed)
}

/// Sends one command and reads its reply. The reply to a `HELLO 3` is already RESP3, so the
/// client switches before reading it, and back if the server refuses.
async fn exchange(
    client: &mut Client,
    args: Vec<Bytes>,
    options: &CliOptions,
) -> Result<crate::client::Reply, ClientError> {
    let hello3 = args
        .first()
        .is_some_and(|a| a.eq_ignore_ascii_case(b"HELLO"))
        && args.get(1).is_some_and(|a| a.as_ref() == b"3")
        && client.dialect() == Dialect::Resp2;
    client
        .send(&Frame::Array(args.into_iter().map(Frame::Bulk).collect()))
        .await?;
    if hello3 {
        client.set_dialect(Dialect::Resp3);
    }
    let reply = client.read_reply_timeout(options.timeout).await?;
    if hello3 && reply.frame.is_error() {
        client.set_dialect(Dialect::Resp2);
    }
    Ok(reply)
}

/// Sends one command and prints its reply.
async fn show(
    client: &mut Client,
    args: Vec<Bytes>,
    options: &CliOptions,
    out: &mut impl Write,
) -> Result<bool, ClientError> {
    let reply = exchange(client, args, options).await?;
    if options.raw {
        writeln!(out, "\"{}\"", crate::resp::escape_bytes(&reply.raw))?;
    } else {
        writeln!(out, "{}", reply.frame)?;
    }
    Ok(reply.frame.is_error())
}

/// `run_cli` on the process's stdin and stdout.
pub async fn run_cli_stdio(options: &CliOptions, command: &[String]) -> Result<bool, CliError> {
    let stdin = io::stdin();
    let mut stdout = io::stdout();
    run_cli(options, command, stdin.lock(), &mut stdout).await
}
