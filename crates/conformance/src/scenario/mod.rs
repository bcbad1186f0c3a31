//! The scenario format: what a scenario is ([`types`]), what its path says about it
//! ([`identity`]), reading its text ([`parse`], with the templates of [`template`]), reading
//! files and folders ([`load`]), and writing it back as text ([`write`](mod@write), the one writer that
//! `respect record` and the network fuzzer use). `conformance/README.md` is the specification
//! for people who write scenarios.

pub mod identity;
pub mod load;
pub mod parse;
pub mod template;
pub mod types;
pub mod write;

pub use identity::id_from_path;
pub use load::{load_dir, MAX_SCENARIO_FILE};
pub use parse::ParseError;
pub use template::{key_prefix, MAX_GENERATED_LEN, MAX_REPEAT};
pub use types::{
    ClusterRule, Delivery, Expectation, Matcher, Scenario, Step, Verdict, FIRST_CONNECTION,
};
