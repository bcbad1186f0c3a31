//! The conformance harness: scenario files replayed against any server, with a byte-exact
//! verdict per scenario.
//!
//! [`scenario`] reads the files into steps (and writes them back), [`runner`] replays them through the client
//! (connections, delivery modes, timeouts, parallelism), [`matcher`] decides what matches,
//! [`report`] writes the outcome for people and machines, [`record`] rewrites expectations
//! from a trusted server and compares two servers. The runner never looks inside our server:
//! with no address it starts one through the same public `respect_server::spawn` a user calls.

pub mod attribution;
pub mod clients;
pub mod cluster;
pub mod diff;
pub mod hygiene;
pub mod keys;
pub mod matcher;
pub mod matrix;
pub mod record;
pub mod report;
pub mod rng;
pub mod runner;
pub mod scenario;
pub mod target;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

pub use report::Report;
pub use respect_resp::Flavor;
pub use runner::{run_scenarios, CaseResult, Outcome, RunOptions};
pub use scenario::{load_dir, Scenario};

/// Which scenarios to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Only scenarios whose id or path contains this.
    pub filter: Option<String>,
    /// Only scenarios with at least one of these tags.
    pub tags: Vec<String>,
    /// Only scenarios for RESP2 (no `resp3` tag) or RESP3 (the tag).
    pub resp: Option<u8>,
}

impl Selection {
    /// Whether `s` is selected.
    pub fn admits(&self, s: &Scenario) -> bool {
        let filter_ok = self.filter.as_ref().is_none_or(|f| {
            s.id.contains(f.as_str()) || s.path.to_string_lossy().contains(f.as_str())
        });
        let tags_ok = self.tags.is_empty() || s.tags.iter().any(|t| self.tags.contains(t));
        let resp3 = s.tags.iter().any(|t| t == "resp3");
        let resp_ok = match self.resp {
            Some(3) => resp3,
            Some(_) => !resp3,
            None => true,
        };
        filter_ok && tags_ok && resp_ok
    }
}

/// Starts the embedded reference server of a flavor, on a free loopback port, through the
/// public server API.
pub async fn start_embedded(flavor: Flavor) -> std::io::Result<respect_server::ServerHandle> {
    respect_server::spawn(respect_server::ServerConfig {
        flavor,
        // The DEBUG PROTOCOL scenarios are what a client library tests its parser against.
        enable_debug_command: true,
        ..respect_server::ServerConfig::loopback()
    })
    .await
}

/// Runs the selected scenarios of `dir`: of `flavor` against `addr` (a node of
/// `options.cluster`, when set: see [`cluster::Cluster::discover`]), or, with no address, every
/// flavor's against its own embedded server. `Err` when the run cannot happen at all: an
/// unreadable folder, an unreachable target (one line, not an ERROR per scenario).
pub async fn run_suite(
    dir: &Path,
    addr: Option<SocketAddr>,
    flavor: Flavor,
    selection: &Selection,
    options: &RunOptions,
    progress: &(dyn Fn(&CaseResult) + Sync),
) -> Result<Report, String> {
    let started = Instant::now();
    let scenarios: Vec<Scenario> = load_dir(dir)
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|s| selection.admits(s))
        .collect();
    let mut results = Vec::new();
    let target = match addr {
        Some(addr) => {
            runner::check_reachable(addr, options).await?;
            let mut options = options.clone();
            // Scenario versions are Redis versions: the seed world has none to detect.
            if options.target.is_none() && flavor == Flavor::Redis {
                options.target = Some(target::detect(addr, options.client_options()).await?);
            }
            options.cleanup = hygiene::detect(addr, flavor, &options).await;
            let chosen = scenarios
                .into_iter()
                .filter(|s| s.flavor == flavor)
                .collect();
            results.extend(run_scenarios(addr, chosen, &options, progress).await);
            let mut about: Vec<String> = options.target.iter().map(|t| t.to_string()).collect();
            if let Some(cluster) = &options.cluster {
                about.push(format!("a cluster of {} masters", cluster.masters().len()));
            }
            about.push(options.cleanup.to_string());
            format!("{addr} ({})", about.join("; "))
        }
        None => {
            for flavor in Flavor::ALL {
                let chosen: Vec<Scenario> = scenarios
                    .iter()
                    .filter(|s| s.flavor == flavor)
                    .cloned()
                    .collect();
                if chosen.is_empty() {
                    continue;
                }
                let server = start_embedded(flavor)
                    .await
                    .map_err(|e| format!("cannot start the embedded server: {e}"))?;
                // Our own fresh server: nobody's keys or settings to protect.
                let own = RunOptions {
                    allow_flush: true,
                    allow_global: true,
                    ..options.clone()
                };
                results.extend(run_scenarios(server.addr(), chosen, &own, progress).await);
                server.shutdown().await;
            }
            "the embedded reference server".to_string()
        }
    };
    Ok(Report::new(target, results, started.elapsed()))
}
