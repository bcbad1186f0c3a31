//! FUNCTION, FCALL, FCALL_RO (Redis's `functions.c`, `function_lua.c`).

use bytes::Bytes;
use respect_resp::Frame;

use crate::commands::args::is_keyword;
use crate::commands::context::Ctx;
use crate::commands::reply::{ok, unknown_subcommand};

/// The loaded libraries.
#[derive(Default)]
pub struct Libraries {}

/// FCALL and FCALL_RO.
pub fn fcall(_ctx: &mut Ctx<'_>, _argv: &[Bytes], _ro: bool) -> Frame {
    Frame::error("ERR Function not found")
}

/// FUNCTION's subcommands.
pub fn function(_ctx: &mut Ctx<'_>, argv: &[Bytes]) -> Frame {
    let sub = argv.get(1).map_or(&[][..], |s| s.as_ref());
    if is_keyword(sub, "FLUSH") {
        return match argv.get(2..).unwrap_or_default() {
            [] => ok(),
            [mode] if is_keyword(mode, "ASYNC") || is_keyword(mode, "SYNC") => ok(),
            [_] => Frame::error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
            _ => crate::commands::reply::unknown_subcommand_or_arity(sub, "function"),
        };
    }
    unknown_subcommand(sub, "function")
}
