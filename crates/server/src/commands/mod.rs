//! The command layer: a registry of command specs (name, arity, flags, key positions, docs)
//! with one static table per family file, typed argument parsing (`args`), shared replies
//! (`reply`), and the seed flavor as a peer with its own table (`seed`).
//!
//! Commands never see sockets; they return RESP3-shaped frames (`Map`, `Set`, `Null`) and
//! the codec's downgrade rules, which are Redis's, turn them into RESP2 bytes for a RESP2
//! client. The session calls `dispatch::execute` (or `seed::execute`) with a
//! `context::SessionState` this module owns; nothing here reaches back into the session.
//!
//! Public: the metadata only ([`Spec`] and what it is made of, [`lookup_spec`],
//! [`command_table`]), for tools that need to know where a command's keys are (the
//! conformance harness) or what it is. Handlers stay inside the crate.

pub(crate) mod acl;
pub(crate) mod args;
pub(crate) mod bitfield;
pub(crate) mod bits;
pub(crate) mod blocking;
pub(crate) mod clients;
pub(crate) mod cluster;
pub(crate) mod collection;
pub(crate) mod command_info;
pub(crate) mod command_stats;
pub(crate) mod config;
pub(crate) mod connection;
pub(crate) mod context;
pub(crate) mod conversions;
pub(crate) mod databases;
pub(crate) mod debug;
pub(crate) mod digest;
pub(crate) mod dispatch;
pub(crate) mod dump;
pub(crate) mod events;
pub(crate) mod geo;
pub(crate) mod hash_fields;
pub(crate) mod hashes;
pub(crate) mod hyperloglog;
pub(crate) mod info;
pub(crate) mod keys;
pub(crate) mod keyspace;
pub(crate) mod lists;
pub(crate) mod long_double;
pub(crate) mod memory;
pub(crate) mod migrate;
pub(crate) mod modified;
pub(crate) mod monitor;
pub(crate) mod object;
pub(crate) mod persistence;
pub(crate) mod propagate;
pub(crate) mod pubsub;
pub(crate) mod registry;
pub(crate) mod replication;
pub(crate) mod reply;
pub(crate) mod reply_mode;
pub(crate) mod scripting;
pub(crate) mod seed;
pub(crate) mod server;
pub(crate) mod set_algebra;
pub(crate) mod sets;
pub(crate) mod settings;
pub(crate) mod slowlog;
pub(crate) mod sort;
pub(crate) mod streams;
pub(crate) mod string_edit;
pub(crate) mod string_ranges;
pub(crate) mod strings;
pub(crate) mod transaction;
pub(crate) mod watch;
pub(crate) mod zsets;

pub use registry::{
    BeginSearch, Categories, Category, Deprecation, Docs, FindKeys, Flag, Flags, KeyFlag, KeyFlags,
    KeyRange, KeySpec, Spec,
};
/// Redis 7's `ERR unknown command ...` and `ERR unknown subcommand ...` wordings, also used
/// by the harness's scripted server.
pub use reply::{unknown_command, unknown_subcommand};

use respect_resp::Flavor;

/// The spec of the command `name` (any case) in `flavor`, if the server implements it.
pub fn lookup_spec(flavor: Flavor, name: &[u8]) -> Option<&'static Spec> {
    match flavor {
        Flavor::Redis => dispatch::lookup(name).map(|c| &c.spec),
        Flavor::Seed => seed::lookup(name).map(|c| &c.spec),
    }
}

/// Every command `flavor` implements, in the order `COMMAND` lists them.
pub fn command_table(flavor: Flavor) -> Vec<&'static Spec> {
    match flavor {
        Flavor::Redis => dispatch::redis_commands().map(|c| &c.spec).collect(),
        Flavor::Seed => seed::COMMANDS.iter().map(|c| &c.spec).collect(),
    }
}
