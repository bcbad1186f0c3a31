//! `respect decode`: print every frame of a captured byte stream, or where it is malformed.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use respect::resp::inspect::{inspect, CaptureEnd};
use respect::resp::{Limits, Role};

use super::shared::{DialectArg, EXIT_FAILED, EXIT_USAGE};

/// Which side wrote a capture.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    /// Requests: Redis's request rules (arrays of bulk strings, inline commands).
    Request,
    /// Replies: any frame of the dialect.
    Reply,
    /// Frames, and inline commands for lines without a marker.
    Any,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Request => Role::Request,
            RoleArg::Reply => Role::Reply,
            RoleArg::Any => Role::Any,
        }
    }
}

/// Print every frame of a captured byte stream (a file, or stdin), or where it is malformed.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The wire dialect of the stream.
    #[arg(long, value_enum, default_value_t = DialectArg::Resp2)]
    dialect: DialectArg,
    /// Which side wrote the stream.
    #[arg(long, value_enum, default_value_t = RoleArg::Any)]
    role: RoleArg,
    /// Also print each frame's exact bytes, escaped.
    #[arg(long)]
    raw: bool,
    /// Deepest nesting accepted.
    #[arg(long, default_value_t = Limits::default().max_depth)]
    max_depth: usize,
    /// Largest bulk payload accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_bulk_len)]
    max_bulk_len: usize,
    /// The capture to read; stdin when absent or `-`.
    file: Option<PathBuf>,
}

impl Args {
    /// Prints the frames; exit 1 on malformed input, 2 when the input cannot be read.
    pub fn run(self) -> ExitCode {
        let input = match read_input(self.file.as_ref()) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("respect decode: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
        let limits = Limits {
            max_depth: self.max_depth,
            max_bulk_len: self.max_bulk_len,
            ..Limits::default()
        };
        let mut stdout = std::io::stdout().lock();
        let dialect = self.dialect.into();
        match inspect(
            &input,
            dialect,
            self.role.into(),
            limits,
            self.raw,
            &mut stdout,
        ) {
            Ok(CaptureEnd::Clean { .. }) => ExitCode::SUCCESS,
            Ok(CaptureEnd::Malformed { .. }) => ExitCode::from(EXIT_FAILED),
            Err(e) => {
                eprintln!("respect decode: {e}");
                ExitCode::from(EXIT_USAGE)
            }
        }
    }
}

fn read_input(file: Option<&PathBuf>) -> std::io::Result<Vec<u8>> {
    let mut input = Vec::new();
    match file {
        Some(path) if path.as_os_str() != "-" => input = std::fs::read(path)?,
        _ => {
            std::io::stdin().read_to_end(&mut input)?;
        }
    }
    Ok(input)
}
