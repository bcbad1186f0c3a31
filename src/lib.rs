//! respect: a toolkit for the Redis serialization protocol and its dialects.
//!
//! - [`resp`]: the codec (frames, dialects, incremental decoder, encoder, limits). Knows bytes
//!   only: no sockets, no commands.
//! - [`client`]: a small async client over the codec.
//! - [`inspect`]: `respect decode`, frames of a captured stream.
//! - [`cli`]: `respect cli`, a redis-cli-like client.
//! - [`server`]: the reference server (Redis and seed flavors), and its command layer.

pub mod cli;
pub mod client;
pub mod conformance;
pub mod fuzzing;
pub mod glob;
pub mod inspect;
pub mod netfuzz;
pub mod resp;
pub mod server;
