//! One file per subcommand, and the argument types they share (`shared`), so that every
//! subcommand spells a flavor, a dialect and a duration the same way.

pub mod cli;
pub mod clients;
pub mod decode;
pub mod diff;
pub mod fuzz;
pub mod matrix;
pub mod record;
pub mod run;
pub mod serve;
mod shared;
