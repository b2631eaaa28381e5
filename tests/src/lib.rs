//! End-to-end tests of the `toolshed` binary live in `tests/`.
