//! Function libraries in RDB form (Redis 7.0's `rdbSaveFunctions` and `rdbFunctionLoad`):
//! the records SAVE writes before the databases, and FUNCTION DUMP's payload.
//!
//! A library is the opcode FUNCTION2 (0xF5) and its code as an RDB string (so a code of more
//! than 20 bytes is LZF-compressed when that saves more than 4 bytes, as Redis's
//! `rdbSaveRawString` does with `rdbcompression yes`, its default). Files from Redis 7.0 rc1
//! and rc2 may hold the older FUNCTION (0xF6) record instead: the library's name, its
//! engine, an optional description and the code without its `#!` line, which the reader
//! turns back into a `#!<engine> name=<name>` code as Redis's loader does.
//!
//! A FUNCTION DUMP payload is the libraries' records, then the RDB version (u16 LE) and the
//! CRC-64 of everything before it (u64 LE), as a key's DUMP payload ends.

use bytes::Bytes;

use super::read::Reader;
use super::{crc64, write, RDB_VERSION};

/// `RDB_OPCODE_FUNCTION2`: a library as its code (Redis 7.0 GA and later).
pub const OP_FUNCTION2: u8 = 0xf5;
/// `RDB_OPCODE_FUNCTION`: a library as name, engine, description and code (7.0 rc1, rc2).
pub const OP_FUNCTION: u8 = 0xf6;

/// Appends one library's record.
pub fn write_library(out: &mut Vec<u8>, code: &[u8]) {
    out.push(OP_FUNCTION2);
    write::string(out, code);
}

/// FUNCTION DUMP's payload for libraries with these codes, in the order given.
pub fn dump<'a>(codes: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        write_library(&mut out, code);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The code of the library record whose opcode (`op`, FUNCTION or FUNCTION2) was just read.
/// `Err` is Redis's text for what could not be read.
pub fn read_library(reader: &mut Reader<'_>, op: u8) -> Result<Bytes, &'static str> {
    if op == OP_FUNCTION2 {
        return reader
            .string()
            .map_err(|_| "Failed loading library payload");
    }
    let name = reader.string().map_err(|_| "Failed loading library name")?;
    let engine = reader.string().map_err(|_| "Failed loading engine name")?;
    let has_description = reader
        .len()
        .map_err(|_| "Failed loading library description indicator")?;
    if has_description != 0 {
        reader
            .string()
            .map_err(|_| "Failed loading library description")?;
    }
    let blob = reader.string().map_err(|_| "Failed loading library blob")?;
    // Redis joins them with `sdscatfmt("#!%s name=%s\n%s")`: each part ends at a NUL byte.
    let c_string =
        |s: &[u8]| -> Vec<u8> { s.split(|&b| b == 0).next().unwrap_or_default().to_vec() };
    let mut code = Vec::with_capacity(name.len() + engine.len() + blob.len() + 9);
    code.extend_from_slice(b"#!");
    code.extend_from_slice(&c_string(&engine));
    code.extend_from_slice(b" name=");
    code.extend_from_slice(&c_string(&name));
    code.push(b'\n');
    code.extend_from_slice(&c_string(&blob));
    Ok(Bytes::from(code))
}

/// Why a FUNCTION RESTORE payload was refused (Redis's texts, without `ERR `).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// The footer's version or CRC is wrong (`verifyDumpPayload`).
    Payload,
    /// A record could not be read, or is not a library: the reply's text.
    Item(&'static str),
    /// The library in a record did not load: the loader's text.
    Load(String),
}

/// Reads a FUNCTION RESTORE payload, after checking its version and CRC, handing each
/// library's code to `load` as it is read (Redis loads each record before reading the next,
/// so a library that fails is reported before a damaged record after it). As Redis, records
/// are read until 10 bytes (the footer) are left; a record may run into the footer's bytes
/// (they are part of what the reader sees). `max_string` caps a compressed code's unpacked
/// length.
pub fn restore(
    payload: &[u8],
    max_string: usize,
    mut load: impl FnMut(Bytes) -> Result<(), String>,
) -> Result<(), RestoreError> {
    if !super::verify(payload) {
        return Err(RestoreError::Payload);
    }
    let mut reader = Reader::new(payload).max_string(max_string);
    while payload.len().saturating_sub(reader.position()) > 10 {
        let op = reader
            .byte()
            .map_err(|_| RestoreError::Item("can not read data type"))?;
        if op != OP_FUNCTION && op != OP_FUNCTION2 {
            return Err(RestoreError::Item("given type is not a function"));
        }
        let code = read_library(&mut reader, op).map_err(RestoreError::Item)?;
        load(code).map_err(RestoreError::Load)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes of a payload's libraries, in its order (see [`restore`]).
    fn codes(payload: &[u8], max_string: usize) -> Result<Vec<Bytes>, RestoreError> {
        let mut codes = Vec::new();
        restore(payload, max_string, |code| {
            codes.push(code);
            Ok(())
        })?;
        Ok(codes)
    }

    const CODE: &[u8] = b"#!lua name=mylib\n-- aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nredis.register_function('f', function() return 1 end)";

    #[test]
    fn a_dump_reads_back_and_damage_is_refused_not_a_panic() {
        let given: Vec<&[u8]> = vec![CODE, b"#!lua name=b\nx"];
        let payload = dump(given.iter().copied());
        assert_eq!(payload[0], OP_FUNCTION2);
        assert_eq!(payload[1], 0xc3, "the long code is LZF-compressed");
        let back = codes(&payload, super::super::DEFAULT_MAX_STRING);
        assert_eq!(
            back,
            Ok(given.iter().map(|c| Bytes::copy_from_slice(c)).collect())
        );
        assert_eq!(codes(&dump([]), 100), Ok(vec![]));
        for cut in 0..payload.len() {
            assert_eq!(codes(&payload[..cut], 1 << 20), Err(RestoreError::Payload));
        }
        // A well-checksummed payload of garbage: every prefix, re-summed, is refused or read.
        for cut in 0..payload.len() - 10 {
            let mut body = payload[..cut].to_vec();
            body.extend_from_slice(&RDB_VERSION.to_le_bytes());
            let crc = crc64(&body);
            body.extend_from_slice(&crc.to_le_bytes());
            let _ = codes(&body, 1 << 20);
        }
        // A key's payload is not a library.
        let key = b"\x00\x05hello\n\x00cr\xdfve4 \n";
        assert_eq!(
            codes(key, 1 << 20),
            Err(RestoreError::Item("given type is not a function"))
        );
    }

    #[test]
    fn random_payloads_with_good_footers_are_refused_or_read_never_a_panic() {
        // Bytes biased towards the markers that matter (opcodes, length and LZF prefixes),
        // each payload given a valid version and CRC so the records themselves are read.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let markers = [
            OP_FUNCTION,
            OP_FUNCTION2,
            0xc3,
            0x81,
            0x80,
            0x40,
            0x3f,
            0xff,
            0x00,
        ];
        for _ in 0..20_000 {
            let n = (next() % 40) as usize;
            let mut body: Vec<u8> = (0..n)
                .map(|_| {
                    let r = next();
                    if r % 3 == 0 {
                        markers[(r >> 8) as usize % markers.len()]
                    } else {
                        (r >> 16) as u8
                    }
                })
                .collect();
            body.extend_from_slice(&RDB_VERSION.to_le_bytes());
            let crc = crc64(&body);
            body.extend_from_slice(&crc.to_le_bytes());
            let _ = codes(&body, 1 << 16);
        }
    }

    #[test]
    fn the_old_record_becomes_a_code_with_its_shebang() {
        let mut body = vec![OP_FUNCTION];
        write::string(&mut body, b"lib");
        write::string(&mut body, b"LUA");
        write::len(&mut body, 1);
        write::string(&mut body, b"a description");
        write::string(&mut body, b"return 1");
        body.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(
            codes(&body, 1 << 20),
            Ok(vec![Bytes::from_static(b"#!LUA name=lib\nreturn 1")])
        );
    }
}
