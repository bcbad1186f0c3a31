//! A push of bulk strings encoded once and shared by every client it goes to: pub/sub
//! fan-out's message (`message`, channel, payload), built once per PUBLISH instead of once per
//! subscriber.
//!
//! Measured (issue 11, `benches/server_vs_redis.sh`, perf on the server during 50-subscriber
//! fan-out): building a `Frame::Push` per subscriber, sizing it twice and encoding it once
//! per subscriber took about a fifth of the server's CPU, more than Redis spends per message.
//! An `EncodedPush` costs each subscriber one reference count and one copy into its output.
//!
//! A push of bulk strings is the same bytes in every dialect but for its first byte: `>` in
//! RESP3, `*` (an array) in RESP2 and the seed dialect, as [`respect_resp::encode_into`]
//! writes it. Which one a client gets is decided when its connection writes it, in the
//! dialect it speaks then, as for any other queued frame.

use bytes::{BufMut, Bytes, BytesMut};
use respect_resp::{encode_into, Dialect, Frame};

/// A push frame of bulk strings, encoded in RESP3 (`>` first).
#[derive(Debug, Clone)]
pub struct EncodedPush(Bytes);

impl EncodedPush {
    /// Encodes the push of `parts`, each a bulk string.
    pub fn of_bulks(parts: &[&Bytes]) -> EncodedPush {
        let frame = Frame::Push(parts.iter().map(|&p| Frame::Bulk(p.clone())).collect());
        let mut out = BytesMut::new();
        encode_into(&frame, Dialect::Resp3, &mut out);
        EncodedPush(out.freeze())
    }

    /// Its size on the wire (the same in every dialect).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it is empty (never: a push has at least its header).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Appends it to `out` as `dialect` writes a push.
    pub fn write(&self, dialect: Dialect, out: &mut BytesMut) {
        if dialect == Dialect::Resp3 {
            out.put_slice(&self.0);
        } else {
            out.put_u8(b'*');
            out.put_slice(self.0.get(1..).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared encoding is byte for byte what the encoder writes for the same frame, in
    /// every dialect, for empty, binary and long parts.
    #[test]
    fn writes_what_the_encoder_writes_in_every_dialect() {
        let parts = [
            Bytes::from_static(b"message"),
            Bytes::from_static(b""),
            Bytes::from(vec![0u8, b'\r', b'\n', 255]),
            Bytes::from(vec![b'x'; 100_000]),
        ];
        let refs: Vec<&Bytes> = parts.iter().collect();
        let encoded = EncodedPush::of_bulks(&refs);
        let frame = Frame::Push(parts.iter().cloned().map(Frame::Bulk).collect());
        for dialect in Dialect::ALL {
            let mut expected = BytesMut::new();
            encode_into(&frame, dialect, &mut expected);
            let mut got = BytesMut::new();
            encoded.write(dialect, &mut got);
            assert_eq!(got, expected, "{dialect:?}");
            assert_eq!(encoded.len(), expected.len());
        }
    }
}
