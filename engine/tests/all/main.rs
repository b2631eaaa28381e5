//! The engine's integration tests: one binary, one shared [`Engine`].

mod helpers;
mod smoke;
