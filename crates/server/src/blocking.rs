//! Clients blocked on keys (BLPOP and the rest), and the wake-ups that end the wait.
//!
//! The interface for a blocking command, generic over what it waits for:
//!
//! 1. The handler tries its operation. When it can be served it replies as usual. When it
//!    must wait it calls [`crate::commands::blocking::block_on`] with the keys, the deadline
//!    and the reply for a timeout, and returns what that gives back (the timeout reply, so
//!    a caller that cannot wait, EXEC or the in-process [`crate::Session`], answers as if the
//!    time had run out, as Redis does inside MULTI).
//! 2. The connection queues the client on each key here ([`Blocking::wait`]), then retries
//!    the command once at once, so a push that landed between the handler's look and the
//!    queueing is never missed. While still blocked it parks on its [`Client`]'s wake-up
//!    (no polling) and reads no further request.
//! 3. A command that makes a key servable (a list created by LPUSH, RPUSH, LMOVE, ...) calls
//!    [`Blocking::signal`] — Redis's `signalKeyAsReady`. Only the *first* client queued on
//!    the key is woken: it retries the command; served, it leaves every queue and passes the
//!    wake on to the next client of each of its keys ([`Blocking::remove`]), which retries
//!    in turn. So clients are served in the order they blocked (FIFO), a push of N elements
//!    serves up to N clients, and a wake is never lost: it travels down the queue until a
//!    retry finds nothing to take.
//!
//! A sorted-set or stream command plugs in with step 1 alone, plus a `signal` where its
//! keys are created.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::clients::{lock, Client, Hub};

#[derive(Debug, Default)]
struct Queues {
    /// Per key, the clients waiting on it, oldest first.
    by_key: HashMap<Bytes, VecDeque<Arc<Client>>, ahash::RandomState>,
    /// Per client, the keys it waits on.
    by_client: HashMap<u64, Vec<Bytes>, ahash::RandomState>,
}

/// The server's blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    queues: Mutex<Queues>,
}

impl Blocking {
    /// Queues `client` on each of `keys` (at the back: it waits behind those already there).
    pub fn wait(&self, client: &Arc<Client>, keys: &[Bytes], hub: &Hub) {
        let mut q = lock(&self.queues);
        if q.by_client.contains_key(&client.id) {
            return;
        }
        let mut mine: Vec<Bytes> = Vec::new();
        for key in keys {
            if mine.contains(key) {
                continue;
            }
            q.by_key
                .entry(key.clone())
                .or_default()
                .push_back(client.clone());
            mine.push(key.clone());
        }
        q.by_client.insert(client.id, mine);
        hub.blocked_clients.fetch_add(1, Ordering::Relaxed);
        lock(&client.info).blocked = true;
    }

    /// A key may have become servable: wakes the first client waiting on it.
    pub fn signal(&self, key: &[u8]) {
        let q = lock(&self.queues);
        if let Some(first) = q.by_key.get(key).and_then(|w| w.front()) {
            first.signal_ready();
        }
    }

    /// Takes `client` out of every queue (served, timed out, unblocked or gone) and wakes
    /// the next client of each of its keys, which may be servable now.
    pub fn remove(&self, client: &Client, hub: &Hub) {
        let mut q = lock(&self.queues);
        let Some(keys) = q.by_client.remove(&client.id) else {
            return;
        };
        hub.blocked_clients.fetch_sub(1, Ordering::Relaxed);
        lock(&client.info).blocked = false;
        for key in keys {
            let Some(waiters) = q.by_key.get_mut(&key) else {
                continue;
            };
            waiters.retain(|c| c.id != client.id);
            match waiters.front() {
                Some(next) => next.signal_ready(),
                None => {
                    q.by_key.remove(&key);
                }
            }
        }
    }

    /// Whether `client` is blocked now.
    pub fn is_blocked(&self, client: &Client) -> bool {
        lock(&self.queues).by_client.contains_key(&client.id)
    }
}

/// What a blocking command asks of its connection: wait on `keys` until `deadline` (none:
/// forever), then answer `timeout_reply`; on a wake-up, run `argv` again.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The keys whose readiness ends the wait.
    pub keys: Vec<Bytes>,
    /// When to give up (`None`: a timeout of 0, forever).
    pub deadline: Option<std::time::Instant>,
    /// The answer when the time runs out (or CLIENT UNBLOCK ... TIMEOUT).
    pub timeout_reply: respect_resp::Frame,
    /// The command to run again; the dispatcher fills it in.
    pub argv: Vec<Bytes>,
}
