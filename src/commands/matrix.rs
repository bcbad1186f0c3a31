//! `respect matrix`: the suite against several servers at once, as one self-contained HTML page
//! (`DIR/index.html`) and its data (`DIR/matrix.json`).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use respect::conformance::matrix::{
    build_matrix, ClientMatrix, MatrixOptions, MatrixTarget, DEFAULT_MAX_LOGGED_BYTES,
};
use respect::conformance::report::write_html_with_clients;
use respect::conformance::CaseResult;

use super::clients::{chosen_scenarios, driver_names, progress_line, run_drivers};
use super::shared::{block_on, Scenarios, Span, EXIT_OK, EXIT_USAGE};

/// Run the suite against several servers and write a compatibility matrix.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A server: `NAME=HOST:PORT` (Redis flavor), `NAME=seed@HOST:PORT` (the seed dialect) or
    /// `NAME=cluster@HOST:PORT` (a node of a Redis Cluster, run as `run --cluster` does).
    /// Repeat for each column; each is detected (INFO/HELLO) and graded on its own.
    #[arg(long = "target", required = true)]
    targets: Vec<MatrixTarget>,
    /// Where `index.html` and `matrix.json` go.
    #[arg(long, default_value = "matrix")]
    out: PathBuf,
    /// The page's title.
    #[arg(long, default_value = "respect compatibility matrix")]
    title: String,
    /// Most bytes of one sent/expected/actual field kept in a wire log.
    #[arg(long, default_value_t = DEFAULT_MAX_LOGGED_BYTES)]
    max_logged_bytes: usize,
    /// Also grade this client driver (a folder under --drivers) over the client scenarios,
    /// as `respect clients --client` does: the page gets a client table. Repeat for several.
    #[arg(long = "client")]
    clients: Vec<String>,
    /// Also grade every driver under --drivers (as `respect clients --all`).
    #[arg(long)]
    clients_all: bool,
    /// Only client scenarios whose id or path contains this (`respect clients --filter`).
    #[arg(long)]
    client_filter: Option<String>,
    /// Per-case client timeout (`respect clients --timeout`).
    #[arg(long, default_value_t = Span(std::time::Duration::from_secs(5)))]
    client_timeout: Span,
    /// Client scenario folder.
    #[arg(long, default_value = "conformance/clients")]
    client_dir: PathBuf,
    /// Client driver folder: one `<name>/run` executable per client.
    #[arg(long, default_value = "clients")]
    drivers: PathBuf,
    /// Only the scenarios of this flavor's suite are run on a target; `--flavor` here is
    /// ignored (each target names its own).
    #[command(flatten)]
    scenarios: Scenarios,
}

impl Args {
    /// Builds the matrix: exit 0 once it is written (FAIL cells are its content, not a failure
    /// of the command), 2 when a target cannot be reached, a client driver cannot start, or
    /// the files cannot be written.
    pub fn run(self) -> ExitCode {
        block_on(self.execute())
    }

    async fn execute(self) -> u8 {
        if let Err(e) = self
            .scenarios
            .refuse_cluster("matrix (name a cluster target NAME=cluster@HOST:PORT)")
        {
            eprintln!("respect matrix: {e}");
            return EXIT_USAGE;
        }
        // The client half is checked before any server is run: a misspelt driver is a usage
        // error, not a page without it.
        let client_plan = if self.clients.is_empty() && !self.clients_all {
            None
        } else {
            let planned =
                driver_names(&self.drivers, &self.clients, self.clients_all).and_then(|names| {
                    chosen_scenarios(&self.client_dir, self.client_filter.as_deref())
                        .map(|s| (names, s))
                });
            match planned {
                Ok(p) => Some(p),
                Err(e) => {
                    eprintln!("respect matrix: {e}");
                    return EXIT_USAGE;
                }
            }
        };
        let options = MatrixOptions {
            run: self.scenarios.options(),
            max_logged_bytes: self.max_logged_bytes,
        };
        let tty = std::io::stderr().is_terminal();
        let progress = |name: &str, r: &CaseResult| {
            if tty {
                eprint!("\r\x1b[K{name}: {}", r.id);
            }
        };
        let matrix = match build_matrix(
            &self.scenarios.dir,
            &self.targets,
            &self.scenarios.selection(),
            &options,
            &progress,
        )
        .await
        {
            Ok(m) => m,
            Err(e) => {
                eprintln!("respect matrix: {e}");
                return EXIT_USAGE;
            }
        };
        let clients = match client_plan {
            None => None,
            Some((names, chosen)) => {
                let progress = progress_line(tty);
                let runs = run_drivers(
                    &self.drivers,
                    &names,
                    &chosen,
                    self.client_timeout.0,
                    &progress,
                )
                .await;
                Some(ClientMatrix::new(
                    &self.client_dir,
                    &chosen,
                    runs,
                    self.max_logged_bytes,
                ))
            }
        };
        if tty {
            eprint!("\r\x1b[K");
        }
        let mut page = Vec::new();
        let mut json = Vec::new();
        let written = write_html_with_clients(&matrix, clients.as_ref(), &self.title, &mut page)
            .and_then(|()| match &clients {
                None => matrix.write_json(&mut json),
                Some(c) => matrix.write_json_with_clients(c, &mut json),
            })
            .and_then(|()| std::fs::create_dir_all(&self.out))
            .and_then(|()| std::fs::write(self.out.join("index.html"), &page))
            .and_then(|()| std::fs::write(self.out.join("matrix.json"), &json));
        if let Err(e) = written {
            eprintln!("respect matrix: cannot write {}: {e}", self.out.display());
            return EXIT_USAGE;
        }
        for c in &matrix.columns {
            match &c.error {
                Some(e) => eprintln!("{}: not run: {e}", c.name),
                None => {
                    let k = c.counts;
                    eprintln!(
                        "{}: {} — {} PASS, {} NON-STRICT, {} UNSUPPORTED, {} VERSION, {} SKIPPED, {} FAIL, {} ERROR in {:.1}s",
                        c.name,
                        c.server,
                        k.pass,
                        k.non_strict,
                        k.unsupported,
                        k.version,
                        k.skipped,
                        k.fail,
                        k.error,
                        c.millis as f64 / 1000.0
                    );
                }
            }
        }
        for r in clients.iter().flat_map(|c| &c.runs) {
            if r.started {
                eprintln!("{}: {} — {}", r.client, r.library, r.summary());
            } else {
                eprintln!("{}: not run: {}", r.client, r.library);
            }
        }
        eprintln!("wrote {}", self.out.join("index.html").display());
        if matrix.all_reached() && clients.as_ref().is_none_or(ClientMatrix::all_started) {
            EXIT_OK
        } else {
            EXIT_USAGE
        }
    }
}
