//! The engine's integration tests: one binary, one shared engine (the
//! runtime is pre-initialised and compiled once, then cached).

mod bridge;
mod containment;
mod disk;
mod extract;
mod fuzz;
mod helpers;
mod hibernation;
mod isolation;
mod limits;
mod persistence;
mod stdlib;
