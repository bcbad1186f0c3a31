//! Access to a key holding a collection (hash, list, set): the type check, creation on first
//! write, and removal when the last element goes, as Redis does.

use bytes::Bytes;

use super::context::Ctx;
use super::reply::wrong_type;
use crate::db::{Entry, Value};
use respect_resp::Frame;

/// Which collection a command works on, and how to reach it inside a [`Value`].
pub trait Collection: Sized {
    /// An empty one, for a write to a missing key.
    fn empty() -> Self;
    /// The collection inside `value`, if it is of this kind.
    fn of(value: &mut Value) -> Option<&mut Self>;
    /// Wraps a collection as a value.
    fn into_value(self) -> Value;
    /// Whether it has no elements.
    fn is_empty(&self) -> bool;
}

/// Runs `f` on the collection at `key`, or on `None` when the key is missing. A key of
/// another type is WRONGTYPE; a collection `f` leaves empty is deleted.
pub fn read<C: Collection, T>(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    f: impl FnOnce(Option<&mut C>) -> T,
) -> Result<T, Frame> {
    let now = ctx.now;
    let mut shard = ctx.db.shard(key);
    let Some(entry) = shard.get_mut(key, now) else {
        return Ok(f(None));
    };
    let Some(collection) = C::of(&mut entry.value) else {
        return Err(wrong_type());
    };
    let out = f(Some(collection));
    if collection_is_empty::<C>(&mut entry.value) {
        shard.remove(key, now);
    }
    Ok(out)
}

/// Runs `f` on the collection at `key`, creating an empty one when the key is missing (stored
/// only if `f` leaves something in it). A key of another type is WRONGTYPE.
pub fn update<C: Collection, T>(
    ctx: &mut Ctx<'_>,
    key: &Bytes,
    f: impl FnOnce(&mut C) -> T,
) -> Result<T, Frame> {
    let now = ctx.now;
    let mut shard = ctx.db.shard(key);
    let Some(entry) = shard.get_mut(key, now) else {
        let mut fresh = C::empty();
        let out = f(&mut fresh);
        if !fresh.is_empty() {
            let value = fresh.into_value();
            let waited_on = matches!(value, Value::List(_));
            shard.insert(key.clone(), Entry::new(value), now);
            drop(shard);
            if waited_on {
                // A list created: clients blocked on it may be served (BLPOP...).
                super::events::signal_created(ctx, key);
            }
        }
        return Ok(out);
    };
    let Some(collection) = C::of(&mut entry.value) else {
        return Err(wrong_type());
    };
    let out = f(collection);
    if collection_is_empty::<C>(&mut entry.value) {
        shard.remove(key, now);
    }
    Ok(out)
}

fn collection_is_empty<C: Collection>(value: &mut Value) -> bool {
    C::of(value).is_some_and(|c| c.is_empty())
}

impl Collection for indexmap::IndexMap<Bytes, Bytes> {
    fn empty() -> Self {
        Self::new()
    }
    fn of(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Hash(h) => Some(h),
            _ => None,
        }
    }
    fn into_value(self) -> Value {
        Value::Hash(self)
    }
    fn is_empty(&self) -> bool {
        self.is_empty()
    }
}

impl Collection for std::collections::VecDeque<Bytes> {
    fn empty() -> Self {
        Self::new()
    }
    fn of(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    fn into_value(self) -> Value {
        Value::List(self)
    }
    fn is_empty(&self) -> bool {
        self.is_empty()
    }
}

impl Collection for indexmap::IndexSet<Bytes> {
    fn empty() -> Self {
        Self::new()
    }
    fn of(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }
    fn into_value(self) -> Value {
        Value::Set(self)
    }
    fn is_empty(&self) -> bool {
        self.is_empty()
    }
}

impl Collection for crate::zset::ZSet {
    fn empty() -> Self {
        Self::new()
    }
    fn of(value: &mut Value) -> Option<&mut Self> {
        match value {
            Value::ZSet(z) => Some(z),
            _ => None,
        }
    }
    fn into_value(self) -> Value {
        Value::ZSet(self)
    }
    fn is_empty(&self) -> bool {
        self.is_empty()
    }
}

/// The reply of a command, or the error that replaced it.
pub fn reply(result: Result<Frame, Frame>) -> Frame {
    result.unwrap_or_else(|e| e)
}
