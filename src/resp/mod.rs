//! The codec: bytes and frames only.
//!
//! This module knows nothing of sockets, tasks or commands. It turns bytes into [`Frame`]s
//! ([`Decoder`], incremental and bounded by [`Limits`]) and frames into bytes ([`encode_into`]),
//! for each [`Dialect`]: RESP2, RESP3 and the seed dialect of `simpledb`.

mod arbitrary;
mod decode;
mod dialect;
mod display;
mod encode;
mod error;
mod frame;
mod inline;
mod limits;
mod request;

pub use arbitrary::{MAX_ARBITRARY_DEPTH, MAX_ARBITRARY_ITEMS};
pub use decode::{decode_all, Decoder, Role};
pub use dialect::Dialect;
pub use display::{escape_bytes, unescape_bytes, Escaped};
pub use encode::{
    encode, encode_into, format_double, write_array_header, write_bulk, write_error, write_integer,
    write_map_header, write_null, write_set_header, write_simple,
};
pub use error::{DecodeError, ErrorKind};
pub use frame::Frame;
pub use inline::{quote_arg, split_inline};
pub use limits::{
    Limits, DEFAULT_MAX_AGGREGATE_LEN, DEFAULT_MAX_BULK_LEN, DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_INTEGER_DIGITS, DEFAULT_MAX_LINE_LEN,
};
pub use request::{Args, Request, INLINE_ARGS};
