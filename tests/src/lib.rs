//! End-to-end tests live next to what they drive: `api/tests/` (the real
//! `toolshed` binary over HTTP and the CLI, against `fixtures/upstream`) and
//! `tests/python/` (the real `composio` SDK against the real server; run by
//! `scripts/test.sh` in a venv it creates).
