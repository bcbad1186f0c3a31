//! A codec for the Redis serialization protocol: RESP2, RESP3 and the seed dialect of
//! `simpledb`, exact to the byte and impossible to crash with its input.
//!
//! It turns bytes into [`Frame`]s ([`Decoder`]: incremental, zero-copy, iterative, bounded by
//! [`Limits`]) and frames into bytes ([`encode_into`], with Redis's RESP3-to-RESP2 downgrade
//! rules), for each wire [`Dialect`]. A [`Flavor`] names the protocol world a server speaks
//! (Redis or the seed) and knows its dialects. The crate knows nothing of sockets, tasks or
//! commands; the `codec` feature adds a `tokio_util` codec ([`RespCodec`]) and `arbitrary`
//! adds `Arbitrary` for [`Frame`].
//!
//! ```
//! use bytes::BytesMut;
//! use respect_resp::{encode, Decoder, Dialect, Frame};
//!
//! let mut decoder = Decoder::new(Dialect::Resp3);
//! let mut buf = BytesMut::from(&b"%1\r\n+key\r\n:42\r\n*1\r\n$3\r\nab"[..]);
//! let map = decoder.decode(&mut buf)?.expect("a complete map");
//! assert_eq!(map, Frame::Map(vec![(Frame::simple("key"), Frame::Integer(42))]));
//! assert_eq!(decoder.decode(&mut buf)?, None); // the array is still arriving
//! buf.extend_from_slice(b"c\r\n");
//! assert_eq!(encode(&decoder.decode(&mut buf)?.expect("done"), Dialect::Resp2), &b"*1\r\n$3\r\nabc\r\n"[..]);
//! # Ok::<(), respect_resp::DecodeError>(())
//! ```
#![deny(missing_docs)]

#[cfg(feature = "arbitrary")]
mod arbitrary;
#[cfg(feature = "codec")]
mod codec;
mod decode;
mod dialect;
mod display;
mod encode;
mod error;
mod frame;
mod inline;
pub mod inspect;
mod json;
mod limits;
mod request;

#[cfg(feature = "arbitrary")]
pub use arbitrary::{MAX_ARBITRARY_DEPTH, MAX_ARBITRARY_ITEMS};
#[cfg(feature = "codec")]
pub use codec::{CodecError, RespCodec};
pub use decode::{decode_all, Decoder, Role};
pub use dialect::{Dialect, Flavor};
pub use display::{escape_bytes, unescape_bytes, Escaped};
pub use encode::{
    encode, encode_into, format_double, format_g17, format_shortest, write_array_header,
    write_bulk, write_error, write_integer, write_map_header, write_null, write_set_header,
    write_simple,
};
pub use error::{DecodeError, ErrorKind};
pub use frame::Frame;
pub use inline::{quote_arg, split_inline};
pub use json::MAX_JSON_DEPTH;
pub use limits::{
    Limits, DEFAULT_MAX_AGGREGATE_LEN, DEFAULT_MAX_BULK_LEN, DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_INTEGER_DIGITS, DEFAULT_MAX_LINE_LEN,
};
pub use request::{Args, Request, INLINE_ARGS};
