//! Test support shared by the integration tests: real external components on loopback.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (the OS picks it; a tiny race with other processes remains, so
/// callers retry a failed start).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether a required external tool is missing. Under CI (`CI` set) a missing tool is a
/// failure, never a skip: `.ci/run` installs them.
pub fn tool_missing(tool: &str) -> bool {
    let missing = Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_err();
    if missing {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required under CI (.ci/run installs it)"
        );
        eprintln!("skipping: {tool} is not installed (run .ci/run, or apt-get install redis-server redis-tools)");
    }
    missing
}

/// The Python with redis-py and hiredis named by `RESPECT_PYTHON` (default `python3`), or
/// `None` (after saying so) when it lacks them. Under CI that is a failure: `.ci/run` installs
/// them.
pub fn python_with_redis_py() -> Option<String> {
    let python = std::env::var("RESPECT_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import redis, hiredis"])
        .status();
    if probe.is_ok_and(|s| s.success()) {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "redis-py and hiredis are required under CI (.ci/run installs them)"
    );
    eprintln!(
        "skipping: {python} has no redis-py/hiredis (set RESPECT_PYTHON to a venv that has them)"
    );
    None
}

/// The Chromium binary Debian installs (`apt-get install chromium`).
pub const CHROMIUM: &str = "chromium";

/// Longest one headless Chromium run may take before the test fails.
pub const CHROMIUM_DEADLINE: Duration = Duration::from_secs(120);

/// Headless Chromium with the flags that keep it off the network and out of the user's
/// profile (`profile` is its own), stdin and stderr closed; run it with [`output_within`].
pub fn chromium(profile: &Path) -> Command {
    let mut command = Command::new(CHROMIUM);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Runs `command` with its stdout captured, as [`Command::output`] does, but kills it (and
/// fails the test) when it has not exited within `limit`: a hung external tool fails the
/// test instead of hanging it.
pub fn output_within(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"));
    let mut stdout = child.stdout.take().expect("a piped stdout");
    let reader = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stdout.read_to_end(&mut bytes);
        bytes
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: reader.join().unwrap_or_default(),
        stderr: Vec::new(),
    }
}

/// A server process listening on a free loopback port, killed on drop. It runs in a
/// directory of its own (removed on drop), so whatever it writes (a redis-server's
/// `dump.rdb`, or the `appendonlydir` a CONFIG SET appendonly creates) never lands in the
/// checkout.
pub struct ServerProcess {
    /// The process.
    pub child: Child,
    /// Its address.
    pub addr: SocketAddr,
    /// Its working directory.
    dir: PathBuf,
}

impl ServerProcess {
    /// Spawns `program` with the arguments `args(port)` on a free port and waits until it
    /// accepts connections; tries another port if the process exits first (the port was
    /// taken after all). Panics after 5 tries.
    pub fn spawn(program: &OsStr, args: impl Fn(u16) -> Vec<String>) -> ServerProcess {
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir()
                .join(format!("respect-test-server-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {dir:?}: {e}"));
            let child = Command::new(program)
                .args(args(port))
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {program:?}: {e}"));
            let mut server = ServerProcess {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                dir,
            };
            if server.wait_ready(Duration::from_secs(10)) {
                return server;
            }
            // Dropping it kills the process and removes its directory.
            drop(server);
        }
        panic!("{program:?} did not start on a free port after 5 tries");
    }

    fn wait_ready(&mut self, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(self.addr).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real `redis-server` on a free loopback port, without persistence, stopped on drop.
pub struct RedisServer {
    /// The process, stopped on drop.
    pub process: ServerProcess,
    /// Its address.
    pub addr: SocketAddr,
}

impl RedisServer {
    /// Starts one; `None` if `redis-server` is not installed (and not under CI).
    pub fn start() -> Option<RedisServer> {
        RedisServer::start_with(&[])
    }

    /// Starts one with `extra` arguments (`--requirepass x`, ...); `None` as [`Self::start`].
    pub fn start_with(extra: &[&str]) -> Option<RedisServer> {
        if tool_missing("redis-server") {
            return None;
        }
        let process = ServerProcess::spawn(OsStr::new("redis-server"), |port| {
            let port = port.to_string();
            let mut args = [
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                // The DEBUG PROTOCOL scenarios need it, as the embedded server has it.
                "--enable-debug-command",
                "yes",
            ]
            .map(String::from)
            .to_vec();
            args.extend(extra.iter().map(|a| a.to_string()));
            args
        });
        Some(RedisServer {
            addr: process.addr,
            process,
        })
    }
}

/// Our reference server, in-process on a free loopback port, with `config`'s other settings.
pub async fn our_server(config: respect::server::ServerConfig) -> respect::server::ServerHandle {
    respect::server::spawn(respect::server::ServerConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        ..config
    })
    .await
    .expect("start our server")
}

/// A fresh, empty temporary directory for one test (`<prefix>-<pid>-<name>`).
pub fn temp_dir(prefix: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// Our server's settings for a test that saves and loads RDB files in `dir` (DEBUG allowed).
pub fn persistent(dir: &Path) -> respect::server::ServerConfig {
    respect::server::ServerConfig {
        enable_debug_command: true,
        dir: Some(dir.to_path_buf()),
        ..respect::server::ServerConfig::default()
    }
}

/// A redis-server whose RDB file is `dir/dump.rdb`, if redis-server is installed.
pub fn redis_in(dir: &Path) -> Option<RedisServer> {
    let dir = dir.display().to_string();
    RedisServer::start_with(&["--dir", &dir, "--dbfilename", "dump.rdb"])
}
