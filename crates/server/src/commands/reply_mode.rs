//! CLIENT REPLY ON|OFF|SKIP (whether replies are sent) and CLIENT NO-EVICT.
//!
//! As in Redis, OFF silences every reply from the OFF itself on, SKIP silences its own and
//! the next command's, ON answers `+OK` and restores replies.

use bytes::Bytes;
use respect_resp::Frame;

use super::args::is_keyword;
use super::context::Ctx;
use super::reply::{ok, syntax_error};

/// Whether replies go out; see the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplyState {
    /// CLIENT REPLY OFF is in force.
    off: bool,
    /// The reply of the command now running is dropped.
    skip_this: bool,
    /// The reply of the command after this one is dropped (set by SKIP).
    skip_next: bool,
}

impl ReplyState {
    /// Whether the reply of the command just run is dropped.
    pub fn suppressed(&self) -> bool {
        self.off || self.skip_this
    }

    /// Drops the reply of the command now running: for a command Redis answers with
    /// nothing at all (MONITOR sent again).
    pub fn skip_this(&mut self) {
        self.skip_this = true;
    }

    /// Called before each command runs: a SKIP before it reaches this command now.
    pub fn begin_command(&mut self) {
        self.skip_this = std::mem::take(&mut self.skip_next);
    }
}

/// `CLIENT REPLY ON|OFF|SKIP`.
pub fn client_reply(ctx: &mut Ctx<'_>, mode: &Bytes) -> Frame {
    let state = &mut ctx.state.reply;
    if is_keyword(mode, "ON") {
        *state = ReplyState::default();
        ok()
    } else if is_keyword(mode, "OFF") {
        state.off = true;
        Frame::Null
    } else if is_keyword(mode, "SKIP") {
        if !state.off {
            state.skip_this = true;
            state.skip_next = true;
        }
        Frame::Null
    } else {
        syntax_error()
    }
}

/// `CLIENT NO-EVICT ON|OFF`: accepted (this server never evicts clients).
pub fn client_no_evict(mode: &Bytes) -> Frame {
    if is_keyword(mode, "ON") || is_keyword(mode, "OFF") {
        ok()
    } else {
        syntax_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_drops_its_own_reply_and_the_next_one_only() {
        // What CLIENT REPLY SKIP leaves behind while it runs.
        let mut state = ReplyState {
            skip_this: true,
            skip_next: true,
            off: false,
        };
        assert!(state.suppressed()); // the SKIP itself
        state.begin_command();
        assert!(state.suppressed()); // the command after it
        state.begin_command();
        assert!(!state.suppressed());
    }
}
