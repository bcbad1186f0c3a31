//! respect: a toolkit for the Redis serialization protocol and its dialects.
//!
//! This crate is the `respect` binary's library side, and a facade over the workspace:
//! - [`resp`] (`respect-resp`): the codec. Bytes and frames only: no sockets, no commands.
//! - [`server`] (`respect-server`): the reference server, embeddable as a test double.
//! - [`client`] (`respect-client`): a small async client that keeps each reply's bytes.
//! - [`conformance`] (`respect-conformance`): scenario files, runner, reports.
//! - [`netfuzz`]: `respect fuzz`, the network fuzzer; [`cli`]: `respect cli`.
//! - `fuzzing` (feature `fuzzing`): the properties the cargo-fuzz targets check.

pub use respect_client as client;
pub use respect_conformance as conformance;
pub use respect_resp as resp;
pub use respect_server as server;

pub mod cli;
#[cfg(feature = "fuzzing")]
pub mod diff_hiredis;
#[cfg(feature = "fuzzing")]
pub mod differential;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
#[cfg(feature = "fuzzing")]
pub mod hiredis;
pub mod netfuzz;
