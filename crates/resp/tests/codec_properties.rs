//! Properties of the codec, checked by proptest over the shared `Arbitrary` frame generator.

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use proptest::prelude::*;
use respect_resp::{decode_all, encode, DecodeError, Decoder, Dialect, Frame, Limits, Role};

/// Frames from the one generator the fuzz targets use too.
fn frames() -> impl Strategy<Value = Frame> {
    prop::collection::vec(any::<u8>(), 0..1024)
        .prop_map(|data| Frame::arbitrary(&mut Unstructured::new(&data)).unwrap_or(Frame::Null))
}

fn dialects() -> impl Strategy<Value = Dialect> {
    prop::sample::select(Dialect::ALL.to_vec())
}

fn roles() -> impl Strategy<Value = Role> {
    prop::sample::select(vec![Role::Request, Role::Reply, Role::Any])
}

/// Everything a decoder yields from `chunks` fed in order: the frames, then the error or the
/// count of bytes left over.
fn feed(
    chunks: &[&[u8]],
    dialect: Dialect,
    role: Role,
) -> (Vec<Frame>, Result<usize, DecodeError>) {
    let mut decoder = Decoder::with_options(dialect, role, Limits::default());
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Err(e)),
            }
        }
    }
    (frames, Ok(buf.len()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// A frame native to a dialect encodes and decodes back to itself.
    #[test]
    fn native_frames_round_trip(frame in frames()) {
        for dialect in Dialect::ALL {
            if frame.native_in(dialect) {
                let bytes = encode(&frame, dialect);
                prop_assert_eq!(decode_all(&bytes, dialect), Ok(vec![frame.clone()]), "{} {:?}", dialect, bytes);
            }
        }
    }

    /// Whatever the frame, its encoding in any dialect is one valid frame of that dialect, and
    /// encoding is idempotent through a decode: converted frames settle at once.
    #[test]
    fn every_encoding_decodes(frame in frames()) {
        for dialect in Dialect::ALL {
            let bytes = encode(&frame, dialect);
            let decoded = decode_all(&bytes, dialect);
            prop_assert!(matches!(&decoded, Ok(v) if v.len() == 1), "{} {:?} -> {:?}", dialect, bytes, decoded);
            if let Ok(v) = decoded {
                prop_assert_eq!(encode(&v[0], dialect), bytes);
            }
        }
    }

    /// Feeding a stream in two pieces, split anywhere, gives what feeding it whole gives.
    #[test]
    fn split_anywhere_equals_whole(
        first in frames(), second in frames(), dialect in dialects(), role in roles()
    ) {
        let mut stream = encode(&first, dialect).to_vec();
        stream.extend_from_slice(&encode(&second, dialect));
        let whole = feed(&[&stream], dialect, role);
        for at in 0..=stream.len() {
            let (a, b) = stream.split_at(at);
            prop_assert_eq!(&feed(&[a, b], dialect, role), &whole, "split at {}", at);
        }
    }

    /// One byte at a time, too.
    #[test]
    fn byte_at_a_time_equals_whole(frame in frames(), dialect in dialects(), role in roles()) {
        let stream = encode(&frame, dialect);
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        prop_assert_eq!(feed(&bytes, dialect, role), feed(&[&stream], dialect, role));
    }

    /// Arbitrary bytes never panic, in any dialect and role, and split feeding agrees.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        cut in any::<prop::sample::Index>(),
        dialect in dialects(),
        role in roles(),
    ) {
        let whole = feed(&[&bytes], dialect, role);
        let at = cut.index(bytes.len() + 1);
        let (a, b) = bytes.split_at(at);
        prop_assert_eq!(feed(&[a, b], dialect, role), whole);
    }

    /// `decode_request` is `decode` with a cheaper representation: same frames, same errors,
    /// whatever the input and however it is split.
    #[test]
    fn decode_request_agrees_with_decode(
        frames in prop::collection::vec(frames(), 0..4),
        junk in prop::collection::vec(any::<u8>(), 0..16),
        cut in any::<prop::sample::Index>(),
        dialect in dialects(),
        role in roles(),
    ) {
        let mut stream: Vec<u8> = frames.iter().flat_map(|f| encode(f, dialect).to_vec()).collect();
        stream.extend_from_slice(&junk);
        let at = cut.index(stream.len() + 1);
        let (a, b) = stream.split_at(at);
        let mut decoder = Decoder::with_options(dialect, role, Limits::default());
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut end = Ok(0);
        'feed: for chunk in [a, b] {
            buf.extend_from_slice(chunk);
            loop {
                match decoder.decode_request(&mut buf) {
                    Ok(Some(request)) => got.push(request.into_frame()),
                    Ok(None) => break,
                    Err(e) => {
                        end = Err(e);
                        break 'feed;
                    }
                }
            }
        }
        if end.is_ok() {
            end = Ok(buf.len());
        }
        prop_assert_eq!((got, end), feed(&[&stream], dialect, role));
    }

    /// Bytes that look like RESP (markers, digits, CRLF) reach deeper into the decoder.
    #[test]
    fn resp_like_bytes_never_panic(
        tokens in prop::collection::vec(prop::sample::select(vec![
            &b"*"[..], b"$", b"%", b"~", b"&", b"|", b">", b"^", b"@", b"=", b"!", b";", b".",
            b"+", b"-", b":", b",", b"#", b"(", b"_", b"?", b"\r\n", b"\r", b"\n", b"0", b"1",
            b"2", b"-1", b"3", b"99999999999999999999", b"t", b"txt:", b"\"", b"'", b"\\x4", b" ",
        ]), 0..64),
        dialect in dialects(),
        role in roles(),
    ) {
        let bytes = tokens.concat();
        let whole = feed(&[&bytes], dialect, role);
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(feed(&singles, dialect, role), whole);
    }
}

proptest! {
    /// The seed dialect's `@` payloads are checked by the crate's own JSON validator; it must
    /// accept exactly what `serde_json` accepts when skipping a value (the validator it
    /// replaced), on near-JSON text as well as on random bytes.
    #[test]
    fn json_validation_agrees_with_serde_json(
        text in "[ \\[\\]{}:,\"\\\\0-9.eE+\\-a-z\\t\\n]{0,24}",
        bytes in proptest::collection::vec(any::<u8>(), 0..16),
    ) {
        for input in [text.as_bytes(), &bytes[..]] {
            let ours = respect_resp::decode_all(&seed_json(input), Dialect::Seed).is_ok();
            let serde = serde_json::from_slice::<serde::de::IgnoredAny>(input).is_ok();
            prop_assert_eq!(ours, serde, "{:?}", String::from_utf8_lossy(input));
        }
    }
}

/// `input` framed as a seed `@` payload.
fn seed_json(input: &[u8]) -> Vec<u8> {
    let mut frame = format!("@{}\r\n", input.len()).into_bytes();
    frame.extend_from_slice(input);
    frame.extend_from_slice(b"\r\n");
    frame
}
