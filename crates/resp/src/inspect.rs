//! `respect decode`: print every frame of a captured byte stream, or where it goes wrong.

use std::io::{self, Write};

use bytes::BytesMut;

use crate::{escape_bytes, DecodeError, Decoder, Dialect, ErrorKind, Limits, Role};

/// How a capture ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureEnd {
    /// Every byte belonged to a complete frame.
    Clean {
        /// How many frames were printed.
        frames: usize,
    },
    /// The stream is malformed at the error's offset.
    Malformed {
        /// Frames printed before the error.
        frames: usize,
        /// The fault and its offset.
        error: DecodeError,
    },
}

/// Decodes `input` and writes each frame (its number, offset, size, type and a redis-cli
/// style rendering; with `raw`, also its exact bytes escaped) to `out`.
pub fn inspect(
    input: &[u8],
    dialect: Dialect,
    role: Role,
    limits: Limits,
    raw: bool,
    out: &mut impl Write,
) -> io::Result<CaptureEnd> {
    let mut decoder = Decoder::with_options(dialect, role, limits);
    let mut buf = BytesMut::from(input);
    let mut frames = 0;
    loop {
        let at = decoder.offset();
        match decoder.decode_with_raw(&mut buf) {
            Ok(Some((frame, bytes))) => {
                frames += 1;
                writeln!(
                    out,
                    "#{frames} at {at} ({} bytes) {}",
                    bytes.len(),
                    frame.type_name()
                )?;
                if raw {
                    writeln!(out, "  raw: \"{}\"", escape_bytes(&bytes))?;
                }
                for line in frame.to_string().lines() {
                    writeln!(out, "  {line}")?;
                }
            }
            Ok(None) if buf.is_empty() => return Ok(CaptureEnd::Clean { frames }),
            Ok(None) => {
                let error = DecodeError {
                    offset: decoder.offset(),
                    kind: ErrorKind::Truncated,
                };
                writeln!(out, "error: {error} ({} bytes left)", buf.len())?;
                return Ok(CaptureEnd::Malformed { frames, error });
            }
            Err(error) => {
                writeln!(out, "error: {error}")?;
                return Ok(CaptureEnd::Malformed { frames, error });
            }
        }
    }
}
