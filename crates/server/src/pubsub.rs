//! Pub/sub channels: who listens to which channel, pattern and shard channel, and the
//! fan-out of a message into the listeners' outboxes (see [`crate::clients`]).
//!
//! The maps hold each channel's subscribers in subscription order, as Redis's lists do, so
//! a message reaches them in that order; each [`Client`] keeps its own view
//! ([`crate::clients::Subscriptions`]) for its counts and for unsubscribing from everything.
//! Lock order: a map here, then a client's `subs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use indexmap::IndexMap;

use crate::clients::{lock, Client, OutputLimit};
use crate::encoded_push::EncodedPush;
use crate::glob::glob_match;

type Listeners = IndexMap<u64, Arc<Client>>;

/// Which of the three subscription kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE.
    Channel,
    /// PSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE.
    Shard,
}

/// The server's channels.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: Mutex<HashMap<Bytes, Listeners, ahash::RandomState>>,
    patterns: Mutex<IndexMap<Bytes, Listeners>>,
    shard_channels: Mutex<HashMap<Bytes, Listeners, ahash::RandomState>>,
}

impl PubSub {
    /// Subscribes `client` to `name`; returns the client's count after it, as the
    /// confirmation shows it (channels + patterns, or shard channels alone).
    pub fn subscribe(&self, client: &Arc<Client>, kind: Kind, name: &Bytes) -> usize {
        match kind {
            Kind::Channel => {
                let mut map = lock(&self.channels);
                map.entry(name.clone())
                    .or_default()
                    .insert(client.id, client.clone());
                let mut guard = lock(&client.subs);
                let subs = guard.get_or_insert_with(Box::default);
                subs.channels.insert(name.clone());
                client.set_subscribed(subs);
                subs.count()
            }
            Kind::Pattern => {
                let mut map = lock(&self.patterns);
                map.entry(name.clone())
                    .or_default()
                    .insert(client.id, client.clone());
                let mut guard = lock(&client.subs);
                let subs = guard.get_or_insert_with(Box::default);
                subs.patterns.insert(name.clone());
                client.set_subscribed(subs);
                subs.count()
            }
            Kind::Shard => {
                let mut map = lock(&self.shard_channels);
                map.entry(name.clone())
                    .or_default()
                    .insert(client.id, client.clone());
                let mut guard = lock(&client.subs);
                let subs = guard.get_or_insert_with(Box::default);
                subs.shard_channels.insert(name.clone());
                client.set_subscribed(subs);
                subs.shard_channels.len()
            }
        }
    }

    /// Unsubscribes `client` from `name` (whether or not it was subscribed); returns its
    /// count after it.
    pub fn unsubscribe(&self, client: &Client, kind: Kind, name: &[u8]) -> usize {
        fn leave<M>(map: &mut M, name: &[u8], id: u64)
        where
            M: MapLike,
        {
            map.leave(name, id);
        }
        match kind {
            Kind::Channel => {
                leave(&mut *lock(&self.channels), name, client.id);
                let mut guard = lock(&client.subs);
                let Some(subs) = guard.as_mut() else {
                    return 0;
                };
                subs.channels.shift_remove(name);
                client.set_subscribed(subs);
                let count = subs.count();
                if !subs.active() {
                    // Nothing left: free the sets, an idle client keeps none.
                    *guard = None;
                }
                count
            }
            Kind::Pattern => {
                leave(&mut *lock(&self.patterns), name, client.id);
                let mut guard = lock(&client.subs);
                let Some(subs) = guard.as_mut() else {
                    return 0;
                };
                subs.patterns.shift_remove(name);
                client.set_subscribed(subs);
                let count = subs.count();
                if !subs.active() {
                    // Nothing left: free the sets, an idle client keeps none.
                    *guard = None;
                }
                count
            }
            Kind::Shard => {
                leave(&mut *lock(&self.shard_channels), name, client.id);
                let mut guard = lock(&client.subs);
                let Some(subs) = guard.as_mut() else {
                    return 0;
                };
                subs.shard_channels.shift_remove(name);
                client.set_subscribed(subs);
                let count = subs.shard_channels.len();
                if !subs.active() {
                    // Nothing left: free the sets, an idle client keeps none.
                    *guard = None;
                }
                count
            }
        }
    }

    /// What `client` is subscribed to of `kind`, in subscription order.
    pub fn subscribed(&self, client: &Client, kind: Kind) -> Vec<Bytes> {
        let guard = lock(&client.subs);
        let Some(subs) = guard.as_ref() else {
            return Vec::new();
        };
        let set = match kind {
            Kind::Channel => &subs.channels,
            Kind::Pattern => &subs.patterns,
            Kind::Shard => &subs.shard_channels,
        };
        set.iter().cloned().collect()
    }

    /// Unsubscribes `client` from everything of `kind` at once (UNSUBSCRIBE, PUNSUBSCRIBE or
    /// SUNSUBSCRIBE without arguments). Returns the names it left, in subscription order, and
    /// the client's count after it (as [`PubSub::unsubscribe`] counts).
    ///
    /// One pass over the client's set and one sweep of the map, not one removal per name:
    /// leaving N names one by one from the front of ordered sets costs O(N²), and a client
    /// with 100,000 subscriptions would hold the map's lock for minutes.
    pub fn unsubscribe_all(&self, client: &Client, kind: Kind) -> (Vec<Bytes>, usize) {
        let mut guard = lock(&client.subs);
        let Some(subs) = guard.as_mut() else {
            return (Vec::new(), 0);
        };
        let names = std::mem::take(match kind {
            Kind::Channel => &mut subs.channels,
            Kind::Pattern => &mut subs.patterns,
            Kind::Shard => &mut subs.shard_channels,
        });
        client.set_subscribed(subs);
        let count = match kind {
            Kind::Shard => subs.shard_channels.len(),
            _ => subs.count(),
        };
        if !subs.active() {
            *guard = None;
        }
        drop(guard);
        match kind {
            Kind::Channel => leave_all(&mut lock(&self.channels), &names, client.id),
            Kind::Shard => leave_all(&mut lock(&self.shard_channels), &names, client.id),
            Kind::Pattern => {
                let mut map = lock(&self.patterns);
                let mut emptied = false;
                for name in &names {
                    if let Some(listeners) = map.get_mut(name) {
                        listeners.shift_remove(&client.id);
                        emptied |= listeners.is_empty();
                    }
                }
                if emptied {
                    // One sweep keeps the other patterns' order (PUBLISH's pmessage order).
                    map.retain(|_, listeners| !listeners.is_empty());
                }
            }
        }
        (names.into_iter().collect(), count)
    }

    /// Drops every subscription of a client that has gone (or RESET).
    pub fn unsubscribe_everything(&self, client: &Client) {
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            self.unsubscribe_all(client, kind);
        }
    }

    /// Delivers `message` on `channel` (PUBLISH, or SPUBLISH when `kind` is
    /// [`Kind::Shard`]); returns how many deliveries were made, as PUBLISH replies (a client
    /// subscribed to the channel and to a matching pattern counts twice).
    pub fn publish(
        &self,
        kind: Kind,
        channel: &Bytes,
        message: &Bytes,
        limit: OutputLimit,
    ) -> usize {
        let mut receivers = 0;
        let direct = if kind == Kind::Shard {
            (&self.shard_channels, "smessage")
        } else {
            (&self.channels, "message")
        };
        let listeners: Vec<Arc<Client>> = lock(direct.0)
            .get(channel)
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default();
        if !listeners.is_empty() {
            let kind = Bytes::from_static(direct.1.as_bytes());
            let push = EncodedPush::of_bulks(&[&kind, channel, message]);
            for client in listeners {
                client.push_encoded(&push, limit);
                receivers += 1;
            }
        }
        if kind == Kind::Shard {
            return receivers;
        }
        let matching: Vec<(Bytes, Vec<Arc<Client>>)> = lock(&self.patterns)
            .iter()
            .filter(|(pattern, _)| glob_match(pattern, channel))
            .map(|(p, l)| (p.clone(), l.values().cloned().collect()))
            .collect();
        let pmessage = Bytes::from_static(b"pmessage");
        for (pattern, clients) in matching {
            let push = EncodedPush::of_bulks(&[&pmessage, &pattern, channel, message]);
            for client in clients {
                client.push_encoded(&push, limit);
                receivers += 1;
            }
        }
        receivers
    }

    /// Active channels (shard channels when `kind` is [`Kind::Shard`]) matching `pattern`
    /// (all without one): PUBSUB CHANNELS / SHARDCHANNELS.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Bytes> {
        let map = if kind == Kind::Shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        lock(map)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c)))
            .cloned()
            .collect()
    }

    /// Subscribers of `channel`: PUBSUB NUMSUB / SHARDNUMSUB.
    pub fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        let map = if kind == Kind::Shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        lock(map).get(channel).map_or(0, |l| l.len())
    }

    /// Distinct patterns subscribed to: PUBSUB NUMPAT.
    pub fn numpat(&self) -> usize {
        lock(&self.patterns).len()
    }

    /// How many channels (shard channels for [`Kind::Shard`]) have a subscriber: INFO's
    /// `pubsub_channels` and `pubsubshard_channels`.
    pub fn channel_count(&self, kind: Kind) -> usize {
        let map = if kind == Kind::Shard {
            &self.shard_channels
        } else {
            &self.channels
        };
        lock(map).len()
    }
}

/// Removes client `id` from each of `names` in a hashed channel map, dropping channels left
/// without listeners.
fn leave_all(
    map: &mut HashMap<Bytes, Listeners, ahash::RandomState>,
    names: &indexmap::IndexSet<Bytes>,
    id: u64,
) {
    for name in names {
        map.leave(name, id);
    }
}

/// The two map types above, for [`PubSub::unsubscribe`]'s one removal rule: a channel
/// with no listener left is dropped, so PUBSUB CHANNELS never lists it.
trait MapLike {
    fn leave(&mut self, name: &[u8], id: u64);
}

impl MapLike for HashMap<Bytes, Listeners, ahash::RandomState> {
    fn leave(&mut self, name: &[u8], id: u64) {
        if let Some(listeners) = self.get_mut(name) {
            listeners.shift_remove(&id);
            if listeners.is_empty() {
                self.remove(name);
            }
        }
    }
}

impl MapLike for IndexMap<Bytes, Listeners> {
    fn leave(&mut self, name: &[u8], id: u64) {
        if let Some(listeners) = self.get_mut(name) {
            listeners.shift_remove(&id);
            if listeners.is_empty() {
                self.shift_remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_with_many_subscriptions_leaves_them_all_at_once() {
        const N: usize = 50_000;
        let pubsub = PubSub::default();
        let client = Arc::new(Client::new(1, None, None, -1));
        let other = Arc::new(Client::new(2, None, None, -1));
        let keep = Bytes::from_static(b"kept");
        pubsub.subscribe(&other, Kind::Pattern, &keep);
        for i in 0..N {
            let name = Bytes::from(format!("ch{i}"));
            pubsub.subscribe(&client, Kind::Channel, &name);
            pubsub.subscribe(&client, Kind::Pattern, &name);
        }
        pubsub.subscribe(&client, Kind::Shard, &keep);
        pubsub.subscribe(&client, Kind::Pattern, &keep);
        let started = std::time::Instant::now();
        pubsub.unsubscribe_everything(&client);
        eprintln!("unsubscribe_everything of 2x{N}: {:?}", started.elapsed());
        assert!(!client.is_subscribed());
        assert!(pubsub.channels(Kind::Channel, None).is_empty());
        assert!(pubsub.channels(Kind::Shard, None).is_empty());
        assert_eq!(
            lock(&pubsub.patterns).keys().cloned().collect::<Vec<_>>(),
            vec![keep.clone()]
        );
        assert_eq!(pubsub.subscribed(&other, Kind::Pattern), vec![keep]);
    }
}
