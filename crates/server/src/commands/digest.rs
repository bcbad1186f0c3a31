//! DEBUG DIGEST and DIGEST-VALUE: Redis's content digest of the dataset and of a value (its `xorObjectDigest`), byte-exact,
//! so a test suite can check that two keys hold the same data (COPY, RENAME, a reload).
//!
//! Ordered contents (a string, a list) are mixed in order (`digest = SHA1(digest ^ SHA1(x))`),
//! unordered ones (set members, hash pairs, sorted-set entries) are XORed, so the result does
//! not depend on iteration order. SHA-1 is the `sha1_smol` crate's.

use bytes::Bytes;
use respect_resp::Frame;

use super::context::Ctx;
use crate::db::Value;

/// One digest: 20 bytes, as SHA-1.
type Digest = [u8; 20];

/// `DEBUG DIGEST-VALUE key [key ...]`: one status line of 40 hex digits per key, zeros for a
/// missing key. As Redis, a logically expired key not yet removed still has its digest.
pub fn digest_value(ctx: &mut Ctx<'_>, keys: &[Bytes]) -> Frame {
    Frame::Array(
        keys.iter()
            .map(|key| {
                let mut digest = [0u8; 20];
                let mut shard = ctx.db.shard(key);
                // `u64::MIN` as "now": every stored entry counts as live here.
                if let Some(entry) = shard.get_mut(key, u64::MIN) {
                    value_digest(&mut digest, &entry.value, entry.expires_at.is_some());
                }
                Frame::Simple(Bytes::from(hex(&digest)))
            })
            .collect(),
    )
}

/// `DEBUG DIGEST`: Redis's digest of the whole dataset (`computeDatasetDigest`): each
/// non-empty database's index mixed in, then every key's digest (its name mixed, its value's
/// digest) XORed in as a SHA-1, so the order of keys does not matter. All zeros when empty.
pub fn dataset_digest(server: &crate::state::ServerState) -> Frame {
    let mut all = [0u8; 20];
    let now = crate::db::now_ms();
    for index in 0u32.. {
        let Some(db) = server.db(index as usize) else {
            break;
        };
        let mut keys: Vec<Digest> = Vec::new();
        db.for_each_shard(|shard| {
            shard.for_each_live(now, |key, entry, _| {
                let mut digest = [0u8; 20];
                mix(&mut digest, key);
                value_digest(&mut digest, &entry.value, entry.expires_at.is_some());
                keys.push(digest);
            })
        });
        if keys.is_empty() {
            continue;
        }
        mix(&mut all, &index.to_be_bytes());
        for digest in keys {
            xor(&mut all, &digest);
        }
    }
    Frame::Simple(Bytes::from(hex(&all)))
}

fn hex(digest: &Digest) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Redis's `xorObjectDigest` of one value.
fn value_digest(digest: &mut Digest, value: &Value, has_expiry: bool) {
    // Redis's type codes: OBJ_STRING 0, OBJ_LIST 1, OBJ_SET 2, OBJ_ZSET 3, OBJ_HASH 4.
    let kind: u32 = match value {
        Value::Str(_) | Value::Seed(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    };
    mix(digest, &kind.to_be_bytes());
    match value {
        Value::Str(s) => mix(digest, s),
        Value::List(items) => items.iter().for_each(|item| mix(digest, item)),
        Value::Set(members) => members.iter().for_each(|m| xor(digest, m)),
        Value::ZSet(z) => {
            for (member, score) in z.iter_unordered() {
                let mut element = [0u8; 20];
                mix(&mut element, member);
                mix(&mut element, respect_resp::format_g17(score).as_bytes());
                xor(digest, &element);
            }
        }
        Value::Hash(pairs) => {
            for (field, v) in pairs {
                let mut element = [0u8; 20];
                mix(&mut element, field);
                mix(&mut element, v);
                xor(digest, &element);
            }
        }
        // Per entry, oldest first: `<ms>.<seq>`, then each field and value.
        Value::Stream(s) => {
            for (id, fields) in s.iter() {
                mix(digest, format!("{}.{}", id.ms, id.seq).as_bytes());
                fields.iter().for_each(|f| mix(digest, f));
            }
        }
        Value::Seed(_) => {}
    }
    if has_expiry {
        xor(digest, b"!!expire!!");
    }
}

/// Redis's `xorDigest`: `digest ^= SHA1(data)`.
fn xor(digest: &mut Digest, data: &[u8]) {
    for (d, h) in digest.iter_mut().zip(sha1(data)) {
        *d ^= h;
    }
}

/// Redis's `mixDigest`: `digest = SHA1(digest ^ SHA1(data))`.
fn mix(digest: &mut Digest, data: &[u8]) {
    xor(digest, data);
    *digest = sha1(&digest[..]);
}

/// SHA-1 of `data`.
fn sha1(data: &[u8]) -> Digest {
    sha1_smol::Sha1::from(data).digest().bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_the_standard_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        let long = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        assert_eq!(hex(&sha1(long)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    }
}
