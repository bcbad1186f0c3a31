//! Client conformance: the harness plays the server and real client libraries are graded.
//!
//! A client scenario ([`scenario`], `conformance/clients/README.md`) states a request, the
//! exact bytes of the reply and how they are delivered, and what a correct library surfaces
//! ([`value`]: canonical JSON, strict and loose comparison). The [`server`] plays Redis for
//! the handshake and answers the request as scripted; a [`driver`] process per library
//! issues the request and prints what its library returned; [`run`] grades each answer and
//! [`report`] writes the results.

pub mod driver;
pub mod report;
pub mod run;
pub mod scenario;
pub mod server;
pub mod value;

pub use driver::{Answer, Driver};
pub use run::{run_driver, ClientResult, ClientRun, Grade};
pub use scenario::{load_client_dir, ClientScenario, Expect};
pub use value::Value;
