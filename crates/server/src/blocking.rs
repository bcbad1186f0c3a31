//! Clients blocked on keys (BLPOP and the rest), and how they are served.
//!
//! The interface for a blocking command, generic over what it waits for:
//!
//! 1. The handler tries its operation. When it can be served it replies as usual. When it
//!    must wait it calls [`crate::commands::blocking::block_on`] with the keys, the deadline
//!    and the reply for a timeout, and returns what that gives back (the timeout reply, so
//!    a caller that cannot wait, EXEC or the in-process [`crate::Session`], answers as if the
//!    time had run out, as Redis does inside MULTI).
//! 2. The connection queues the client on each key ([`Blocking::wait`]): under the queues'
//!    lock it retries the command once, so a push that landed between the handler's look
//!    and the queueing is never missed. While blocked, the connection reads no request and
//!    parks on its [`Client`]'s wake-up (no polling) for its deadline, a kill, or its reply.
//! 3. A command that makes a key servable (a list created by LPUSH, RPUSH, LMOVE...) calls
//!    [`Blocking::signal`], Redis's `signalKeyAsReady`. After that command, still in the
//!    signalling client's turn and before its reply is written, the dispatcher calls
//!    [`Blocking::serve_ready`], Redis's `handleClientsBlockedOnKeys`: the clients queued on
//!    each ready key run their command again, oldest first, under the queues' lock; each
//!    one served leaves every queue and gets its reply in its outbox. So a pusher's next
//!    command already sees the pops, clients are served in the order they blocked (FIFO),
//!    a push of N elements serves up to N clients, and no wake-up can be lost.
//!
//! Lock order: the server's gate (shared) before the queues' lock, everywhere. `wait`'s
//! retry and `serve_ready`'s commands run under both, their callers having taken the gate
//! first; CLIENT UNBLOCK inside EXEC holds the gate exclusively and then takes the queues.
//!
//! A sorted-set or stream command plugs in with step 1 alone, plus a `signal` where its
//! keys are created. CLIENT UNBLOCK and timeouts take a client out with [`Blocking::remove`],
//! which says whether it was still waiting (if not, it was served first and its reply is
//! already on its way).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use indexmap::IndexSet;
use respect_resp::Frame;

use crate::clients::{lock, Client, Hub, OutputLimit};
use crate::commands::context::SessionState;

/// A blocked client, with what it takes to run its command again on its behalf.
#[derive(Debug)]
struct Waiter {
    client: Arc<Client>,
    /// A copy of the client's session state when it blocked (protocol, db, id).
    state: SessionState,
    argv: Vec<Bytes>,
    keys: Vec<Bytes>,
}

#[derive(Debug, Default)]
struct Queues {
    /// Per key, the ids of the clients waiting on it, oldest first.
    by_key: HashMap<Bytes, VecDeque<u64>, ahash::RandomState>,
    /// Per client id, its wait.
    waiters: HashMap<u64, Waiter, ahash::RandomState>,
}

/// The server's blocked clients.
#[derive(Debug, Default)]
pub struct Blocking {
    queues: Mutex<Queues>,
    /// Keys signalled ready since the last [`Blocking::serve_ready`], each once, in the order
    /// signalled (own lock: a command run while serving may signal).
    ready: Mutex<IndexSet<Bytes, ahash::RandomState>>,
    /// How many clients are blocked: signals cost one atomic load when none is.
    blocked: AtomicUsize,
}

/// An outbox without a limit: a blocked client's own reply is never refused.
const UNLIMITED: OutputLimit = OutputLimit {
    hard_bytes: 0,
    soft_bytes: 0,
    soft_seconds: 0,
};

impl Blocking {
    /// Queues `client` on `request`'s keys, then runs `retry` once under the queues' lock:
    /// when it serves the command, the client leaves the queues again and the reply is
    /// returned; `None` means the client is now blocked.
    pub fn wait(
        &self,
        client: &Arc<Client>,
        state: &SessionState,
        request: &BlockRequest,
        hub: &Hub,
        retry: impl FnOnce() -> Option<Frame>,
    ) -> Option<Frame> {
        let mut q = lock(&self.queues);
        // Counted blocked before the retry looks: a push landing after that look then sees
        // a waiter and signals its key, which `serve_ready` serves once this lock is free.
        self.blocked.fetch_add(1, Ordering::Relaxed);
        if let Some(reply) = retry() {
            self.blocked.fetch_sub(1, Ordering::Relaxed);
            return Some(reply);
        }
        let mut keys: Vec<Bytes> = Vec::new();
        for key in &request.keys {
            if !keys.contains(key) {
                q.by_key
                    .entry(key.clone())
                    .or_default()
                    .push_back(client.id);
                keys.push(key.clone());
            }
        }
        let mut state = state.clone();
        state.block = None;
        q.waiters.insert(
            client.id,
            Waiter {
                client: client.clone(),
                state,
                argv: request.argv.clone(),
                keys,
            },
        );
        hub.blocked_clients.fetch_add(1, Ordering::Relaxed);
        lock(&client.info).blocked = true;
        None
    }

    /// A key may have become servable (Redis's `signalKeyAsReady`).
    pub fn signal(&self, key: &[u8]) {
        if self.blocked.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut ready = lock(&self.ready);
        if !ready.contains(key) {
            ready.insert(Bytes::copy_from_slice(key));
        }
    }

    /// [`Blocking::signal`] of `key` only if a client waits on it: for the writes that may
    /// end a wait without making a value (a deleted or replaced stream), so a write on a key
    /// nobody waits on costs no wake-up pass.
    pub fn signal_if_waited(&self, key: &[u8]) {
        if self.blocked.load(Ordering::Relaxed) == 0 {
            return;
        }
        if lock(&self.queues).by_key.contains_key(key) {
            self.signal(key);
        }
    }

    /// Whether any client is blocked (one atomic load).
    pub fn any(&self) -> bool {
        self.blocked.load(Ordering::Relaxed) > 0
    }

    /// Every key some client waits on may have become servable (SWAPDB). Each woken client
    /// retries in its own database and keeps waiting if nothing is there.
    pub fn signal_all(&self) {
        if self.blocked.load(Ordering::Relaxed) == 0 {
            return;
        }
        let waited: Vec<Bytes> = lock(&self.queues).by_key.keys().cloned().collect();
        lock(&self.ready).extend(waited);
    }

    /// Whether a key was signalled since the last [`Blocking::serve_ready`].
    pub fn has_ready(&self) -> bool {
        self.blocked.load(Ordering::Relaxed) > 0 && !lock(&self.ready).is_empty()
    }

    /// Serves the clients waiting on the keys signalled ready, oldest first per key, by
    /// running each one's command with `run` (which gives its reply, or `None` when it must
    /// still wait). Keys signalled meanwhile (a BLMOVE's destination) are served too.
    pub fn serve_ready(
        &self,
        hub: &Hub,
        mut run: impl FnMut(&mut SessionState, &[Bytes]) -> Option<Frame>,
    ) {
        loop {
            let keys = std::mem::take(&mut *lock(&self.ready));
            if keys.is_empty() {
                return;
            }
            let mut q = lock(&self.queues);
            for key in keys {
                let ids: Vec<u64> = q
                    .by_key
                    .get(&key)
                    .map(|w| w.iter().copied().collect())
                    .unwrap_or_default();
                for id in ids {
                    let Some(waiter) = q.waiters.get_mut(&id) else {
                        continue;
                    };
                    let argv = waiter.argv.clone();
                    let Some(reply) = run(&mut waiter.state, &argv) else {
                        continue;
                    };
                    if let Some(waiter) = Self::dequeue(&mut q, id, hub, &self.blocked) {
                        waiter.client.push(reply, UNLIMITED);
                        // Its own changes' invalidations follow its reply, as in Redis.
                        crate::tracking::send_deferred(hub, &waiter.client);
                    }
                }
            }
        }
    }

    fn dequeue(q: &mut Queues, id: u64, hub: &Hub, blocked: &AtomicUsize) -> Option<Waiter> {
        let waiter = q.waiters.remove(&id)?;
        for key in &waiter.keys {
            if let Some(ids) = q.by_key.get_mut(key) {
                ids.retain(|w| *w != id);
                if ids.is_empty() {
                    q.by_key.remove(key);
                }
            }
        }
        blocked.fetch_sub(1, Ordering::Relaxed);
        hub.blocked_clients.fetch_sub(1, Ordering::Relaxed);
        lock(&waiter.client.info).blocked = false;
        Some(waiter)
    }

    /// Takes `client` out of every queue (timed out, unblocked or gone); `false` when it was
    /// not waiting (already served: its reply is in its outbox).
    pub fn remove(&self, client: &Client, hub: &Hub) -> bool {
        let mut q = lock(&self.queues);
        Self::dequeue(&mut q, client.id, hub, &self.blocked).is_some()
    }

    /// CLIENT UNBLOCK: ends `client`'s wait with `reply` in its outbox; `false` when it was
    /// not blocked.
    pub fn unblock_with(
        &self,
        client: &Client,
        hub: &Hub,
        reply: impl FnOnce(&SessionState) -> Frame,
    ) -> bool {
        let mut q = lock(&self.queues);
        match Self::dequeue(&mut q, client.id, hub, &self.blocked) {
            Some(waiter) => {
                waiter.client.push(reply(&waiter.state), UNLIMITED);
                true
            }
            None => false,
        }
    }

    /// Whether `client` is blocked now.
    pub fn is_blocked(&self, client: &Client) -> bool {
        lock(&self.queues).waiters.contains_key(&client.id)
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
