//! One module per `toolshed` subcommand.

pub mod run;
