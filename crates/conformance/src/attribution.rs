//! Which request a reply answers. A server answers requests in order on a connection, so each
//! connection keeps the requests sent on it, in order, as the server will read them: the sent
//! bytes are decoded as requests (so a request split over several sends, or several requests
//! in one raw send, count as the server counts them), and each reply takes the oldest request
//! not yet answered. This is what names the command in an UNSUPPORTED or FAIL detail under
//! `! deliver pipelined` or fragmented delivery, where the last command *sent* is usually not
//! the one a reply answers.

use std::collections::VecDeque;

use bytes::BytesMut;
use respect_resp::{Decoder, Dialect, Frame, Limits, Role};

/// A request as the server will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The scenario line of the send that completed it.
    pub line: usize,
    /// Its command name, upper case and escaped (`\x01` for a control byte), or a
    /// description of bytes that are not a request.
    pub name: String,
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (sent at line {})", self.name, self.line)
    }
}

/// The requests sent on one connection and not yet answered.
#[derive(Debug)]
pub struct RequestLog {
    decoder: Decoder,
    buf: BytesMut,
    waiting: VecDeque<Request>,
    /// The request the last reply answered: a request answered by several replies
    /// (SUBSCRIBE to several channels) keeps its name for the replies after the first.
    last: Option<Request>,
}

impl RequestLog {
    /// An empty log for requests in `dialect`.
    pub fn new(dialect: Dialect) -> RequestLog {
        RequestLog {
            decoder: Decoder::with_options(dialect, Role::Request, Limits::default()),
            buf: BytesMut::new(),
            waiting: VecDeque::new(),
            last: None,
        }
    }

    /// Records bytes written at scenario `line`.
    pub fn sent(&mut self, line: usize, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => self.waiting.push_back(Request {
                    line,
                    name: command_name(&frame),
                }),
                Ok(None) => return,
                Err(e) => {
                    // The server rejects these bytes (with an error reply, then usually a
                    // close); whatever answers next answers them.
                    self.waiting.push_back(Request {
                        line,
                        name: format!("malformed bytes ({})", e.kind),
                    });
                    self.buf.clear();
                    self.decoder.reset();
                    return;
                }
            }
        }
    }

    /// The request the next reply answers: the oldest unanswered one, or, when every request
    /// has had a reply, the one answered last.
    pub fn answer(&mut self) -> Option<Request> {
        if let Some(next) = self.waiting.pop_front() {
            self.last = Some(next);
        }
        self.last.clone()
    }
}

/// A request's command name, upper case.
fn command_name(frame: &Frame) -> String {
    let first = match frame {
        Frame::Array(items) => items.first().and_then(Frame::as_bytes).map(|b| &b[..]),
        Frame::Inline(args) => args.first().map(|b| &b[..]),
        _ => None,
    };
    match first {
        // Escaped, so control bytes in a garbage "command" stay visible.
        Some(name) => respect_resp::escape_bytes(&name.to_ascii_uppercase()),
        None => format!("a {}", frame.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_replies_answer_requests_in_order() {
        let mut log = RequestLog::new(Dialect::Resp2);
        log.sent(3, b"*1\r\n$4\r\nPING\r\n");
        log.sent(4, b"*2\r\n$3\r\nget\r\n$1\r\nk\r\n");
        assert_eq!(log.answer().map(|r| r.name), Some("PING".into()));
        let get = log.answer().expect("GET");
        assert_eq!((get.name.as_str(), get.line), ("GET", 4));
    }

    #[test]
    fn a_request_split_over_sends_is_one_request_of_the_line_that_completed_it() {
        let mut log = RequestLog::new(Dialect::Resp2);
        log.sent(1, b"*2\r\n$3\r\nDEL");
        log.sent(2, b"\r\n$1\r\nk\r\nPING\r\n");
        assert_eq!(
            log.answer(),
            Some(Request {
                line: 2,
                name: "DEL".into()
            })
        );
        assert_eq!(log.answer().map(|r| r.name), Some("PING".into()));
        // More replies than requests: they belong to the last request answered.
        assert_eq!(log.answer().map(|r| r.name), Some("PING".into()));
    }

    #[test]
    fn malformed_bytes_are_named_as_such() {
        let mut log = RequestLog::new(Dialect::Resp2);
        log.sent(7, b"*1\r\n:1\r\n");
        let answered = log.answer().expect("an entry");
        assert!(answered.name.starts_with("malformed bytes"), "{answered}");
    }
}
