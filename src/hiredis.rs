//! hiredis's reply parser (the C library every Redis client in C, and many bindings, read
//! replies with) behind a safe wrapper, for the `diff_hiredis` fuzz target (feature `fuzzing`).
//!
//! Linked statically from Debian's `libhiredis-dev` (`libhiredis.a`, version 0.14.1), so a
//! fuzz binary runs where the package is absent (a ClusterFuzzLite runner). The declarations
//! below are the few functions and the two structs of `hiredis/read.h` and `hiredis/hiredis.h`
//! of that version, checked field by field: `redisReply` is
//! `{ int type; long long integer; size_t len; char *str; size_t elements; redisReply **element; }`
//! and `redisReader` starts `{ int err; char errstr[128]; char *buf; size_t pos; size_t len; ... }`
//! (only the leading fields are declared: the reader is always handled through a pointer that
//! hiredis allocated). hiredis 0.14 speaks RESP2 only (its reader knows `+ - : $ *`) and
//! nests at most 7 aggregates deep (`rstack[9]`).

use std::ffi::{c_char, c_int, c_longlong, c_void};

const REDIS_OK: c_int = 0;
const REDIS_REPLY_STRING: c_int = 1;
const REDIS_REPLY_ARRAY: c_int = 2;
const REDIS_REPLY_INTEGER: c_int = 3;
const REDIS_REPLY_STATUS: c_int = 5;
const REDIS_REPLY_ERROR: c_int = 6;

/// hiredis's `redisReply` (0.14.1 layout).
#[repr(C)]
struct RedisReply {
    kind: c_int,
    integer: c_longlong,
    len: usize,
    str_: *mut c_char,
    elements: usize,
    element: *mut *mut RedisReply,
}

/// The leading fields of hiredis's `redisReader` (0.14.1 layout); the rest is never touched.
#[repr(C)]
struct RedisReader {
    err: c_int,
    errstr: [c_char; 128],
    buf: *mut c_char,
    pos: usize,
    len: usize,
}

#[link(name = "hiredis", kind = "static")]
extern "C" {
    fn redisReaderCreate() -> *mut RedisReader;
    fn redisReaderFree(r: *mut RedisReader);
    fn redisReaderFeed(r: *mut RedisReader, buf: *const c_char, len: usize) -> c_int;
    fn redisReaderGetReply(r: *mut RedisReader, reply: *mut *mut c_void) -> c_int;
    fn freeReplyObject(reply: *mut c_void);
}

/// A reply as hiredis's default reply functions build it: its six types, nothing more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `REDIS_REPLY_STATUS` (`+`).
    Status(Vec<u8>),
    /// `REDIS_REPLY_ERROR` (`-`).
    Error(Vec<u8>),
    /// `REDIS_REPLY_INTEGER` (`:`).
    Integer(i64),
    /// `REDIS_REPLY_STRING` (`$`).
    String(Vec<u8>),
    /// `REDIS_REPLY_NIL` (`$-1` and `*-1` alike).
    Nil,
    /// `REDIS_REPLY_ARRAY` (`*`).
    Array(Vec<Reply>),
}

/// What one call of `redisReaderGetReply` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// A complete reply, and how many bytes of the fed input hiredis has consumed in total.
    Reply(Reply, usize),
    /// Not enough bytes yet.
    Incomplete,
    /// A protocol error, with hiredis's `errstr` (the reader is unusable afterwards).
    Error(String),
}

/// One hiredis reader fed one input, read reply by reply.
pub struct Reader {
    raw: *mut RedisReader,
    fed: usize,
}

impl Reader {
    /// A reader with hiredis's default reply functions, fed `input` once.
    pub fn new(input: &[u8]) -> Option<Reader> {
        // SAFETY: redisReaderCreate has no preconditions; it returns NULL on OOM.
        let raw = unsafe { redisReaderCreate() };
        if raw.is_null() {
            return None;
        }
        // Owned from here: dropped (and freed) on every path.
        let mut reader = Reader { raw, fed: 0 };
        // SAFETY: raw is a live reader; the pointer and length describe `input`, which
        // hiredis copies into its own buffer before returning.
        let fed = unsafe { redisReaderFeed(raw, input.as_ptr().cast(), input.len()) };
        reader.fed = input.len();
        (fed == REDIS_OK).then_some(reader)
    }

    /// The next reply.
    pub fn next_reply(&mut self) -> Read {
        let mut reply: *mut c_void = std::ptr::null_mut();
        // SAFETY: self.raw is a live reader, `reply` a valid out-pointer.
        let status = unsafe { redisReaderGetReply(self.raw, &mut reply) };
        if status != REDIS_OK {
            // SAFETY: errstr is a NUL-terminated array inside the live reader.
            let text = unsafe { std::ffi::CStr::from_ptr((*self.raw).errstr.as_ptr()) };
            return Read::Error(text.to_string_lossy().into_owned());
        }
        if reply.is_null() {
            return Read::Incomplete;
        }
        // SAFETY: a non-NULL reply from the default functions is a redisReply tree that we
        // own until freeReplyObject; it is walked, then freed exactly once.
        let value = unsafe { walk(reply.cast::<RedisReply>()) };
        // SAFETY: `reply` is the tree just walked (nothing borrowed from it survives: `walk`
        // copies), freed here once and not used after.
        unsafe { freeReplyObject(reply) };
        // pos and len move together when hiredis discards consumed bytes, so the unread
        // bytes are len - pos.
        // SAFETY: self.raw is a live reader.
        let unread = unsafe { (*self.raw).len.saturating_sub((*self.raw).pos) };
        Read::Reply(value, self.fed.saturating_sub(unread))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        // SAFETY: raw came from redisReaderCreate and is freed once, here.
        unsafe { redisReaderFree(self.raw) };
    }
}

/// Copies a redisReply tree into a [`Reply`]. Recursive, but hiredis itself refuses nesting
/// deeper than 7 aggregates, so the depth is bounded by hiredis, not by the input.
///
/// # Safety
/// `reply` is a live tree built by hiredis's default reply functions.
unsafe fn walk(reply: *const RedisReply) -> Reply {
    // SAFETY (for the whole body): hiredis's default functions build every node with a
    // non-NULL `str` of `len` bytes for strings, statuses and errors (`createStringObject`
    // copies them), and an `element` array of `elements` non-NULL children for an array that
    // `redisReaderGetReply` returned (a reply is only handed out once every child is in). The
    // bytes are copied out before the caller frees the tree.
    let r = &*reply;
    let bytes = || {
        if r.str_.is_null() {
            Vec::new()
        } else {
            std::slice::from_raw_parts(r.str_.cast::<u8>(), r.len).to_vec()
        }
    };
    match r.kind {
        REDIS_REPLY_STATUS => Reply::Status(bytes()),
        REDIS_REPLY_ERROR => Reply::Error(bytes()),
        REDIS_REPLY_INTEGER => Reply::Integer(r.integer),
        REDIS_REPLY_STRING => Reply::String(bytes()),
        REDIS_REPLY_ARRAY => {
            let mut items = Vec::new();
            if !r.element.is_null() {
                for i in 0..r.elements {
                    items.push(walk(*r.element.add(i)));
                }
            }
            Reply::Array(items)
        }
        // REDIS_REPLY_NIL (4), the only other type of 0.14.
        _ => Reply::Nil,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_resp2_type_and_counts_bytes() {
        let input = b"+OK\r\n-ERR x\r\n:-7\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n*-1\r\n:1\r\n$5\r\nab";
        let mut r = Reader::new(input).expect("reader");
        assert_eq!(
            r.next_reply(),
            Read::Reply(Reply::Status(b"OK".to_vec()), 5)
        );
        assert_eq!(
            r.next_reply(),
            Read::Reply(Reply::Error(b"ERR x".to_vec()), 13)
        );
        assert_eq!(r.next_reply(), Read::Reply(Reply::Integer(-7), 18));
        assert_eq!(
            r.next_reply(),
            Read::Reply(Reply::String(b"a\0b".to_vec()), 27)
        );
        assert_eq!(r.next_reply(), Read::Reply(Reply::Nil, 32));
        assert_eq!(
            r.next_reply(),
            Read::Reply(Reply::Array(vec![Reply::Nil, Reply::Integer(1)]), 45)
        );
        assert_eq!(r.next_reply(), Read::Incomplete);
    }

    #[test]
    fn a_protocol_error_carries_hiredis_text() {
        let mut r = Reader::new(b"?x\r\n").expect("reader");
        assert!(matches!(r.next_reply(), Read::Error(e) if e.contains("Protocol error")));
    }
}
