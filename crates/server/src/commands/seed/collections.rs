//! The rest of simpledb 0.4.3's key/value, queue, hash and set commands, with its reply
//! shapes: RPOPLPUSH answers 1 or 0 (not the element), LTRIM and LRANGE take Python slices
//! (`stop` excluded, negative indexes from the end), HMGET answers a dict, SPOP a list, the
//! set algebra a list, MSETEX nothing (a null).
//!
//! Where simpledb has a bug, ours does the evident intent instead (each is stated where it is
//! done): reads of a missing key do not create an empty container, a failed argument check
//! changes nothing (simpledb's SETEX stores the value before its expiry fails), and a
//! command that reads then writes a key does so under the key's shard lock, so two clients
//! never lose each other's updates.

use bytes::Bytes;
use respect_resp::Frame;

use super::{same_key, stored, text_of, unhandled, wrong_type, Seed};
use crate::db::{Entry, Value};

/// SDIFF, SINTER, SUNION (and their STORE forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Algebra {
    Diff,
    Inter,
    Union,
}

/// An integer argument: `:n`, or text that reads as one (simpledb takes only `:n`; an inline
/// request, whose arguments are all text, could otherwise never name an index).
fn int_arg(frame: Option<&Frame>) -> Option<i64> {
    match frame? {
        Frame::Integer(n) => Some(*n),
        other => std::str::from_utf8(text_of(other)?).ok()?.parse().ok(),
    }
}

/// A number of seconds: an integer, a float, or text that reads as either.
fn seconds_arg(frame: Option<&Frame>) -> Option<f64> {
    match frame? {
        Frame::Integer(n) => Some(*n as f64),
        Frame::Double(d) => Some(*d),
        other => std::str::from_utf8(text_of(other)?).ok()?.parse().ok(),
    }
    .filter(|s: &f64| s.is_finite())
}

/// Python's `list[start:stop]` bounds for a list of `len`: negative indexes count from the
/// end, and both are clamped to the list; `stop` is excluded.
fn python_slice(len: usize, start: Option<i64>, stop: Option<i64>) -> std::ops::Range<usize> {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |i: i64| -> usize {
        let i = if i < 0 { i.saturating_add(len_i) } else { i };
        usize::try_from(i.clamp(0, len_i)).unwrap_or(0)
    };
    let from = start.map_or(0, clamp);
    let to = stop.map_or(len, clamp);
    from..to.max(from)
}

/// Python's `list[i]` position: negative from the end; `None` out of range.
fn python_index(len: usize, i: i64) -> Option<usize> {
    let len_i = i64::try_from(len).ok()?;
    let i = if i < 0 { i.checked_add(len_i)? } else { i };
    usize::try_from(i).ok().filter(|&i| i < len)
}

impl Seed<'_> {
    /// Runs `f` on the value at `key` under its shard's lock, so no other command comes
    /// between the read and the write: `f` gets the value (`None` when missing) and leaves
    /// in it what the key holds afterwards (`None`: no key). The key's expiry is kept, as
    /// simpledb keeps it for a changed container.
    pub(super) fn modify(&self, key: &Bytes, f: impl FnOnce(&mut Option<Frame>) -> Frame) -> Frame {
        let mut shard = self.db.shard(key);
        let (mut value, expires_at) = match shard.get_mut(key, self.now) {
            None => (None, None),
            Some(Entry {
                value: Value::Seed(frame),
                expires_at,
                ..
            }) => (Some(std::mem::replace(frame, Frame::NullBulk)), *expires_at),
            Some(Entry {
                value: Value::Str(b),
                expires_at,
                ..
            }) => (Some(Frame::Bulk(b.clone())), *expires_at),
            Some(_) => return wrong_type(),
        };
        let reply = f(&mut value);
        match value {
            Some(v) => {
                shard.insert(
                    key.clone(),
                    Entry::expiring(Value::Seed(v), expires_at),
                    self.now,
                );
            }
            None => {
                shard.remove(key, self.now);
            }
        }
        reply
    }

    /// [`Seed::modify`] of the container at `args[0]`, as `open` unpacks it (a frame of
    /// another kind is given back: WRONGTYPE). `f` gets the container (empty when missing);
    /// the key keeps what `f` leaves only if it existed or `f` added to it.
    fn modify_as<T: Default>(
        &self,
        args: &[Frame],
        open: impl FnOnce(Frame) -> Result<T, Frame>,
        close: impl FnOnce(T) -> Frame,
        is_empty: impl FnOnce(&T) -> bool,
        f: impl FnOnce(&mut T) -> Frame,
    ) -> Frame {
        let Some(key) = Self::key(args, 0) else {
            return unhandled();
        };
        self.modify(&key, |value| {
            let existed = value.is_some();
            let mut container = match value.take().map(open) {
                None => T::default(),
                Some(Ok(container)) => container,
                Some(Err(other)) => {
                    *value = Some(other);
                    return wrong_type();
                }
            };
            let reply = f(&mut container);
            if existed || !is_empty(&container) {
                *value = Some(close(container));
            }
            reply
        })
    }

    /// [`Seed::modify_as`] of a queue.
    pub(super) fn modify_list(
        &self,
        args: &[Frame],
        f: impl FnOnce(&mut Vec<Frame>) -> Frame,
    ) -> Frame {
        let open = |frame| match frame {
            Frame::Array(list) => Ok(list),
            other => Err(other),
        };
        self.modify_as(args, open, Frame::Array, Vec::is_empty, f)
    }

    /// [`Seed::modify_as`] of a dict.
    pub(super) fn modify_dict(
        &self,
        args: &[Frame],
        f: impl FnOnce(&mut Vec<(Frame, Frame)>) -> Frame,
    ) -> Frame {
        let open = |frame| match frame {
            Frame::Map(dict) => Ok(dict),
            other => Err(other),
        };
        self.modify_as(args, open, Frame::Map, Vec::is_empty, f)
    }

    /// [`Seed::modify_as`] of a set.
    pub(super) fn modify_set(
        &self,
        args: &[Frame],
        f: impl FnOnce(&mut Vec<Frame>) -> Frame,
    ) -> Frame {
        let open = |frame| match frame {
            Frame::Set(set) => Ok(set),
            other => Err(other),
        };
        self.modify_as(args, open, Frame::Set, Vec::is_empty, f)
    }

    // --- key/value ---

    /// `MPOP key ...`: each key's value (null when missing), the keys removed.
    pub(super) fn mpop(&self, args: &[Frame]) -> Frame {
        let keys: Option<Vec<Bytes>> = args.iter().map(|a| text_of(a).cloned()).collect();
        let Some(keys) = keys else {
            return unhandled();
        };
        Frame::Array(keys.iter().map(|k| self.take_key(k)).collect())
    }

    /// `POP key`: the value (null when missing), the key removed.
    pub(super) fn pop_key(&self, args: &[Frame]) -> Frame {
        match (args.len(), Self::key(args, 0)) {
            (1, Some(key)) => self.take_key(&key),
            _ => unhandled(),
        }
    }

    fn take_key(&self, key: &Bytes) -> Frame {
        self.modify(key, |value| value.take().unwrap_or(Frame::NullBulk))
    }

    /// `SETEX key value seconds`: SET, then the expiry; `:1`. (simpledb stores the value
    /// before it finds the seconds unusable; ours checks them first and changes nothing.)
    pub(super) fn setex(&self, args: &[Frame]) -> Frame {
        let ([_, value, seconds], Some(key)) = (args, Self::key(args, 0)) else {
            return unhandled();
        };
        let Some(seconds) = seconds_arg(Some(seconds)) else {
            return unhandled();
        };
        self.store_expiring(key, stored(value.clone()), seconds);
        Frame::Integer(1)
    }

    /// `MSETEX {dict} seconds`: every pair set with the expiry; answers nothing (a null),
    /// as simpledb's MSETEX returns None.
    pub(super) fn msetex(&self, args: &[Frame]) -> Frame {
        let [Frame::Map(pairs), seconds] = args else {
            return unhandled();
        };
        let Some(seconds) = seconds_arg(Some(seconds)) else {
            return unhandled();
        };
        let keys: Option<Vec<Bytes>> = pairs.iter().map(|(k, _)| text_of(k).cloned()).collect();
        let Some(keys) = keys else {
            return unhandled();
        };
        for (key, (_, value)) in keys.into_iter().zip(pairs) {
            self.store_expiring(key, stored(value.clone()), seconds);
        }
        Frame::NullBulk
    }

    fn store_expiring(&self, key: Bytes, value: Frame, seconds: f64) {
        let ms = (seconds * 1000.0).clamp(i64::MIN as f64, i64::MAX as f64) as i64;
        let at = if ms >= 0 {
            self.now.saturating_add(ms.unsigned_abs())
        } else {
            self.now.saturating_sub(ms.unsigned_abs())
        };
        self.db
            .shard(&key)
            .insert(key, Entry::expiring(Value::Seed(value), Some(at)), self.now);
    }

    // --- hashes ---

    /// `HINCRBY key field [amount]`: the field plus `amount` (1 by default), from 0 when
    /// missing; a field or amount that is not a number is simpledb's unhandled error.
    pub(super) fn hincrby(&self, args: &[Frame]) -> Frame {
        let (Some(field), 2..=3) = (args.get(1).cloned(), args.len()) else {
            return unhandled();
        };
        let by = match args.get(2) {
            None => Frame::Integer(1),
            Some(n @ (Frame::Integer(_) | Frame::Double(_))) => n.clone(),
            Some(_) => return unhandled(),
        };
        self.modify_dict(args, |dict| {
            let slot = match dict.iter_mut().position(|(k, _)| same_key(k, &field)) {
                Some(i) => i,
                None => {
                    dict.push((field.clone(), Frame::Integer(0)));
                    dict.len() - 1
                }
            };
            let Some((_, current)) = dict.get_mut(slot) else {
                return unhandled();
            };
            let sum = match (&*current, &by) {
                (Frame::Integer(a), Frame::Integer(b)) => match a.checked_add(*b) {
                    Some(n) => Frame::Integer(n),
                    None => return unhandled(),
                },
                (Frame::Integer(a), Frame::Double(b)) => Frame::Double(*a as f64 + b),
                (Frame::Double(a), Frame::Integer(b)) => Frame::Double(a + *b as f64),
                (Frame::Double(a), Frame::Double(b)) => Frame::Double(a + b),
                _ => return unhandled(),
            };
            *current = sum.clone();
            sum
        })
    }

    /// `HMGET key field ...`: a dict of each field to its value, null when missing.
    pub(super) fn hmget(&self, args: &[Frame]) -> Frame {
        let fields = args.get(1..).unwrap_or_default();
        self.with_dict(args, |dict| {
            Frame::Map(
                fields
                    .iter()
                    .map(|f| {
                        let value = dict.iter().find(|(k, _)| same_key(k, f)).map(|(_, v)| v);
                        (f.clone(), value.cloned().unwrap_or(Frame::NullBulk))
                    })
                    .collect(),
            )
        })
    }

    /// `HMSET key {dict}`: the pairs set; answers how many were given.
    pub(super) fn hmset(&self, args: &[Frame]) -> Frame {
        let [_, Frame::Map(pairs)] = args else {
            return unhandled();
        };
        self.modify_dict(args, |dict| {
            for (field, value) in pairs {
                let value = stored(value.clone());
                match dict.iter_mut().find(|(k, _)| same_key(k, field)) {
                    Some((_, v)) => *v = value,
                    None => dict.push((field.clone(), value)),
                }
            }
            Frame::Integer(pairs.len() as i64)
        })
    }

    /// `HSETNX key field value`: 1 if it set the field, 0 if it was there.
    pub(super) fn hsetnx(&self, args: &[Frame]) -> Frame {
        let [_, field, value] = args else {
            return unhandled();
        };
        self.modify_dict(args, |dict| {
            if dict.iter().any(|(k, _)| same_key(k, field)) {
                return Frame::Integer(0);
            }
            dict.push((field.clone(), stored(value.clone())));
            Frame::Integer(1)
        })
    }

    // --- queues ---

    /// `LREM key value`: removes the first equal element; 1, or 0 when none is.
    pub(super) fn lrem(&self, args: &[Frame]) -> Frame {
        let [_, value] = args else {
            return unhandled();
        };
        let value = stored(value.clone());
        self.modify_list(args, |list| match list.iter().position(|v| *v == value) {
            Some(i) => {
                list.remove(i);
                Frame::Integer(1)
            }
            None => Frame::Integer(0),
        })
    }

    /// `LINDEX key index`: the element (negative from the end), null out of range.
    pub(super) fn lindex(&self, args: &[Frame]) -> Frame {
        let (2, Some(i)) = (args.len(), int_arg(args.get(1))) else {
            return unhandled();
        };
        self.with_list(args, |list| {
            python_index(list.len(), i)
                .and_then(|i| list.get(i))
                .cloned()
                .unwrap_or(Frame::NullBulk)
        })
    }

    /// `LRANGE key start [stop]`: the Python slice `list[start:stop]`.
    pub(super) fn lrange(&self, args: &[Frame]) -> Frame {
        let Some(start) = int_arg(args.get(1)) else {
            return unhandled();
        };
        let stop = match args.get(2) {
            None => None,
            Some(stop) => match int_arg(Some(stop)) {
                Some(stop) => Some(stop),
                None => return unhandled(),
            },
        };
        if args.len() > 3 {
            return unhandled();
        }
        self.with_list(args, |list| {
            let range = python_slice(list.len(), Some(start), stop);
            Frame::Array(list.get(range).unwrap_or_default().to_vec())
        })
    }

    /// `LSET key index value`: 1, or 0 when the index is out of range.
    pub(super) fn lset(&self, args: &[Frame]) -> Frame {
        let ([_, _, value], Some(i)) = (args, int_arg(args.get(1))) else {
            return unhandled();
        };
        let value = stored(value.clone());
        self.modify_list(args, |list| {
            match python_index(list.len(), i).and_then(|i| list.get_mut(i)) {
                Some(slot) => {
                    *slot = value;
                    Frame::Integer(1)
                }
                None => Frame::Integer(0),
            }
        })
    }

    /// `LTRIM key start stop`: keeps the Python slice `list[start:stop]`; answers its length.
    pub(super) fn ltrim(&self, args: &[Frame]) -> Frame {
        let (3, Some(start), Some(stop)) = (args.len(), int_arg(args.get(1)), int_arg(args.get(2)))
        else {
            return unhandled();
        };
        self.modify_list(args, |list| {
            let range = python_slice(list.len(), Some(start), Some(stop));
            let kept: Vec<Frame> = list.drain(range).collect();
            *list = kept;
            Frame::Integer(list.len() as i64)
        })
    }

    /// `RPOPLPUSH source destination`: moves the source's last element to the front of the
    /// destination; answers 1, or 0 when the source is empty. Both keys are locked together,
    /// and both types checked before anything moves.
    pub(super) fn rpoplpush(&self, args: &[Frame]) -> Frame {
        let (2, Some(src), Some(dst)) = (args.len(), Self::key(args, 0), Self::key(args, 1)) else {
            return unhandled();
        };
        let mut locked = self.db.lock_keys(&[&src, &dst]);
        let now = self.now;
        for key in [&src, &dst] {
            let Some(shard) = locked.shard(key) else {
                return unhandled();
            };
            match shard.get_mut(key, now).map(|e| &e.value) {
                None | Some(Value::Seed(Frame::Array(_))) => {}
                Some(_) => return wrong_type(),
            }
        }
        let Some(shard) = locked.shard(&src) else {
            return unhandled();
        };
        let element = match shard.get_mut(&src, now).map(|e| &mut e.value) {
            Some(Value::Seed(Frame::Array(list))) => list.pop(),
            _ => None,
        };
        let Some(element) = element else {
            return Frame::Integer(0);
        };
        let Some(shard) = locked.shard(&dst) else {
            return unhandled();
        };
        match shard.get_mut(&dst, now).map(|e| &mut e.value) {
            Some(Value::Seed(Frame::Array(list))) => list.insert(0, element),
            _ => {
                let list = Value::Seed(Frame::Array(vec![element]));
                shard.insert(dst.clone(), Entry::new(list), now);
            }
        }
        Frame::Integer(1)
    }

    /// `LFLUSH key`: empties the queue (the key stays, empty, as in simpledb); answers how
    /// many elements it held.
    pub(super) fn lflush(&self, args: &[Frame]) -> Frame {
        if args.len() != 1 {
            return unhandled();
        }
        self.modify_list(args, |list| {
            let n = list.len();
            list.clear();
            Frame::Integer(n as i64)
        })
    }

    // --- sets ---

    /// `SREM key member ...`: how many were removed.
    pub(super) fn srem(&self, args: &[Frame]) -> Frame {
        let members: Vec<Frame> = args.iter().skip(1).cloned().map(stored).collect();
        self.modify_set(args, |set| {
            let before = set.len();
            set.retain(|m| !members.contains(m));
            Frame::Integer((before - set.len()) as i64)
        })
    }

    /// `SPOP key [count]`: a list of up to `count` (1 by default) members, removed.
    pub(super) fn spop(&self, args: &[Frame]) -> Frame {
        let count = match args.get(1) {
            None => 1,
            Some(n) => match int_arg(Some(n)) {
                Some(n) => usize::try_from(n).unwrap_or(0),
                None => return unhandled(),
            },
        };
        if args.len() > 2 {
            return unhandled();
        }
        self.modify_set(args, |set| {
            let keep = set.len().saturating_sub(count);
            Frame::Array(set.split_off(keep).into_iter().rev().collect())
        })
    }

    /// SDIFF, SINTER, SUNION `key key ...` (a list), and their STORE forms `destination key
    /// key ...` (the destination replaced by the result; its size). A missing key is an empty
    /// set; the destination of another type is refused before anything is written.
    pub(super) fn set_algebra(&self, args: &[Frame], op: Algebra, store: bool) -> Frame {
        let keys: Option<Vec<Bytes>> = args.iter().map(|a| text_of(a).cloned()).collect();
        let Some(keys) = keys else {
            return unhandled();
        };
        let (dest, sources) = match (store, keys.split_first()) {
            (true, Some((dest, sources))) => (Some(dest), sources),
            (false, _) => (None, &keys[..]),
            (true, None) => return unhandled(),
        };
        let mut all: Vec<&[u8]> = sources.iter().map(|k| &k[..]).collect();
        all.extend(dest.map(|d| &d[..]));
        if sources.is_empty() {
            return unhandled();
        }
        // Every key locked at once: the result is one instant's.
        let mut locked = self.db.lock_keys(&all);
        let now = self.now;
        let mut result: Option<Vec<Frame>> = None;
        for key in sources {
            let Some(shard) = locked.shard(key) else {
                return unhandled();
            };
            let members: &[Frame] = match shard.get_mut(key, now).map(|e| &e.value) {
                None => &[],
                Some(Value::Seed(Frame::Set(set))) => set,
                Some(_) => return wrong_type(),
            };
            result = Some(match result {
                None => members.to_vec(),
                Some(mut acc) => {
                    match op {
                        Algebra::Diff => acc.retain(|m| !members.contains(m)),
                        Algebra::Inter => acc.retain(|m| members.contains(m)),
                        Algebra::Union => {
                            for m in members {
                                if !acc.contains(m) {
                                    acc.push(m.clone());
                                }
                            }
                        }
                    }
                    acc
                }
            });
        }
        let result = result.unwrap_or_default();
        let Some(dest) = dest else {
            return Frame::Array(result);
        };
        let Some(shard) = locked.shard(dest) else {
            return unhandled();
        };
        let expires_at = match shard.get_mut(dest, now) {
            None => None,
            Some(Entry {
                value: Value::Seed(Frame::Set(_)),
                expires_at,
                ..
            }) => *expires_at,
            Some(_) => return wrong_type(),
        };
        let size = result.len();
        shard.insert(
            dest.clone(),
            Entry::expiring(Value::Seed(Frame::Set(result)), expires_at),
            now,
        );
        Frame::Integer(size as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::{python_index, python_slice};

    #[test]
    fn slices_are_python_slices() {
        // list(range(5))[a:b] in Python.
        let cases: &[(Option<i64>, Option<i64>, std::ops::Range<usize>)] = &[
            (Some(0), Some(2), 0..2),
            (Some(1), None, 1..5),
            (Some(-2), None, 3..5),
            (Some(0), Some(-1), 0..4),
            (Some(3), Some(1), 3..3),
            (Some(-100), Some(100), 0..5),
            (Some(7), Some(9), 5..5),
            (Some(i64::MIN), Some(i64::MAX), 0..5),
        ];
        for (start, stop, want) in cases {
            assert_eq!(python_slice(5, *start, *stop), *want, "{start:?}:{stop:?}");
        }
        assert_eq!(python_index(5, -1), Some(4));
        assert_eq!(python_index(5, -6), None);
        assert_eq!(python_index(5, 5), None);
        assert_eq!(python_index(0, 0), None);
        assert_eq!(python_index(5, i64::MIN), None);
    }
}
