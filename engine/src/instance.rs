//! [`Instance`]: one live instance of the pre-initialised runtime and the
//! wasm calls made on it (writing a cell in, running it, reading its reply,
//! describing a trap).
//!
//! A trapped instance is never reused: each trap leaks guest stack and
//! interpreter bookkeeping. The sandbox's worker replaces it.

use crate::bridge::memory;
use crate::cell::{self, CellError, CellKind, CellOutcome, CellStatus, GuestReply};
use crate::checkpoint::{Capture, CheckpointError, GlobalValue, Image};
use crate::deadline;
use crate::engine::Engine;
use crate::error::{EngineError, wasm};
use crate::limits::{DEFAULT_MAX_RECURSION_DEPTH, Limits};
use crate::quota::DiskQuota;
use crate::state::{CellState, MemoryLimiter, SandboxState};
use crate::tool::ToolBridge;
use crate::workbench::{self, Dirs};
use std::sync::Arc;
use std::time::{Duration, Instant};
use toolshed_guest_sdk::abi;
use wasmtime::{Global, Store, Trap, TypedFunc, Val};

/// A wasm page.
const WASM_PAGE: u64 = 64 << 10;

/// Run in a restored instance before its first cell: gives `random` its
/// own seed and closes the files the checkpoint's interpreter had open
/// (their descriptors do not exist here).
const RESEED: &str = "import os as _o, random as _r, _toolshed as _t\n_r.seed(int.from_bytes(_o.urandom(32), 'big'))\n_t._close_stale_files()\ndel _o, _r, _t";

/// Run before a checkpoint: what open files buffered is written out.
pub(crate) const FLUSH_FILES: &str = "import _toolshed as _t\n_t._flush_open_files()\ndel _t";

/// An image that decoded but does not make a working interpreter: refused
/// like a damaged one (the embedder starts fresh and keeps it aside).
fn restore_error(what: &str) -> EngineError {
    EngineError::Checkpoint(CheckpointError::Damaged(what.to_owned()))
}

/// The largest cell source accepted (it is copied into guest memory).
pub const MAX_CELL_SOURCE_BYTES: usize = 16 << 20;

/// What every instance of one sandbox is made from.
pub(crate) struct Spec {
    pub(crate) engine: Engine,
    pub(crate) dirs: Dirs,
    pub(crate) limits: Limits,
    pub(crate) bridge: Arc<dyn ToolBridge>,
    pub(crate) runtime: tokio::runtime::Handle,
}

/// A live instance and its typed exports.
pub(crate) struct Instance {
    store: Store<SandboxState>,
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    run_cell: TypedFunc<(u32, u32, u32), u64>,
    /// The module's mutable globals (exported by the instrumented snapshot
    /// as `__wizer_global_{index}`), for checkpoints.
    globals: Vec<(u32, Global)>,
    clock: Clock,
}

/// The guest's monotonic clock: `base_ns` when the instance started, plus
/// the time since. A restored instance continues from its checkpoint's
/// value, so the clock never goes backwards for the interpreter.
#[derive(Clone, Copy)]
struct Clock {
    base_ns: u64,
    start: Instant,
}

impl Clock {
    fn now(&self) -> u64 {
        self.base_ns
            .saturating_add(u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

impl wasmtime_wasi::HostMonotonicClock for Clock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        Clock::now(self)
    }
}

/// What an instantiated module exports under this prefix is a mutable
/// global (the instrumented snapshot's naming).
const GLOBAL_EXPORT_PREFIX: &str = "__wizer_global_";

impl Instance {
    /// A new instance ready for cells (with the sandbox's recursion limit).
    pub(crate) fn new(spec: &Spec) -> Result<Instance, EngineError> {
        let mut live = Instance::instantiate(spec, 0)?;
        live.apply_recursion_limit(spec)?;
        Ok(live)
    }

    /// An instance with the state of `image`: the snapshot, its memory
    /// grown to the image's size and overwritten where the image differs,
    /// its globals set; then `random` gets a seed of its own (every restore
    /// of one image would otherwise repeat one sequence).
    pub(crate) fn restore(spec: &Spec, image: &Image) -> Result<Instance, EngineError> {
        let mut live = Instance::instantiate(spec, image.monotonic_ns)?;
        let memory = live.memory()?;
        let have = memory.data_size(&live.store) as u64;
        if image.memory_len > have {
            memory
                .grow(&mut live.store, (image.memory_len - have) / WASM_PAGE)
                .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        }
        image
            .apply(memory.data_mut(&mut live.store))
            .map_err(EngineError::Checkpoint)?;
        for (index, value) in &image.globals {
            let global = live
                .globals
                .iter()
                .find(|(i, _)| i == index)
                .map(|(_, g)| *g)
                .ok_or_else(|| {
                    restore_error("the image sets a global the runtime does not have")
                })?;
            let value = match *value {
                GlobalValue::I32(v) => Val::I32(v as i32),
                GlobalValue::I64(v) => Val::I64(v as i64),
                GlobalValue::F32(v) => Val::F32(v),
                GlobalValue::F64(v) => Val::F64(v),
            };
            global
                .set(&mut live.store, value)
                .map_err(|e| restore_error(&format!("global {index}: {e}")))?;
        }
        let outcome = live.run(CellKind::Python, RESEED);
        if !outcome.is_ok() {
            let why = outcome
                .error
                .map(|e| format!("{}: {}", e.kind, e.message))
                .unwrap_or_else(|| outcome.status.as_str().to_owned());
            return Err(restore_error(&format!(
                "the restored interpreter does not run ({})",
                crate::error::clip_message(&why, 300)
            )));
        }
        Ok(live)
    }

    /// The instance's state as a checkpoint, diffed against `base` (the
    /// memory of a fresh instance).
    pub(crate) fn checkpoint(&mut self, base: &[u8]) -> Result<Capture, EngineError> {
        let memory = self.memory()?;
        let mut globals = Vec::with_capacity(self.globals.len());
        for (index, global) in &self.globals {
            let value = match global.get(&mut self.store) {
                Val::I32(v) => GlobalValue::I32(v as u32),
                Val::I64(v) => GlobalValue::I64(v as u64),
                Val::F32(v) => GlobalValue::F32(v),
                Val::F64(v) => GlobalValue::F64(v),
                _ => {
                    return Err(EngineError::Instantiate(
                        format!("global {index} has a type checkpoints do not store").into(),
                    ));
                }
            };
            globals.push((*index, value));
        }
        let data = memory.data(&self.store);
        Ok(Capture::take(data, base, self.clock.now(), globals))
    }

    /// A copy of the linear memory (the base a checkpoint is diffed against,
    /// taken from a fresh instance).
    pub(crate) fn memory_copy(&self) -> Result<Vec<u8>, EngineError> {
        Ok(self.memory()?.data(&self.store).to_vec())
    }

    fn memory(&self) -> Result<wasmtime::Memory, EngineError> {
        self.store
            .data()
            .memory
            .ok_or_else(|| EngineError::Instantiate("the runtime does not export memory".into()))
    }

    /// The snapshot instantiated, nothing run in it yet.
    pub(crate) fn instantiate(spec: &Spec, clock_ns: u64) -> Result<Instance, EngineError> {
        let shared = &spec.engine.shared;
        let clock = Clock {
            base_ns: clock_ns,
            start: Instant::now(),
        };
        let wasi = workbench::wasi_builder(&spec.dirs)?
            .monotonic_clock(clock)
            .build_p1();
        let state = SandboxState {
            wasi,
            limiter: MemoryLimiter::new(spec.limits.max_memory_bytes, shared.wasmtime.clone()),
            bridge: spec.bridge.clone(),
            runtime: spec.runtime.clone(),
            limits: spec.limits.clone(),
            dirs: spec.dirs.clone(),
            cell: CellState::new(&spec.limits, &spec.dirs, Instant::now()),
            quota: DiskQuota::new(spec.dirs.clone(), &spec.limits),
            memory: None,
            interrupt: None,
        };
        let mut store = Store::new(&shared.wasmtime, state);
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(deadline::on_epoch);
        store.set_epoch_deadline(u64::MAX / 2);

        let instance = shared
            .pre
            .instantiate(&mut store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let func = |store: &mut Store<SandboxState>, name: &str| {
            instance.get_func(&mut *store, name).ok_or_else(|| {
                EngineError::Instantiate(format!("the runtime does not export {name}").into())
            })
        };
        let alloc = func(&mut store, abi::EXPORT_ALLOC)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let dealloc = func(&mut store, abi::EXPORT_DEALLOC)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let run_cell = func(&mut store, abi::EXPORT_RUN_CELL)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let interrupt = func(&mut store, abi::EXPORT_INTERRUPT)?
            .typed(&store)
            .map_err(|e| EngineError::Instantiate(wasm(e)))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| EngineError::Instantiate("the runtime does not export memory".into()))?;
        store.data_mut().memory = Some(memory);
        store.data_mut().interrupt = Some(interrupt);
        let globals = instance
            .exports(&mut store)
            .filter_map(|export| {
                let index = export
                    .name()
                    .strip_prefix(GLOBAL_EXPORT_PREFIX)?
                    .parse()
                    .ok()?;
                Some((index, export.into_global()?))
            })
            .collect();

        Ok(Instance {
            store,
            alloc,
            dealloc,
            run_cell,
            globals,
            clock,
        })
    }

    fn apply_recursion_limit(&mut self, spec: &Spec) -> Result<(), EngineError> {
        let live = self;
        if spec.limits.max_recursion_depth != DEFAULT_MAX_RECURSION_DEPTH {
            let setup = format!(
                "import sys as _s\n_s.setrecursionlimit({})\ndel _s",
                spec.limits.max_recursion_depth.max(50)
            );
            let outcome = live.run(CellKind::Python, &setup);
            if !outcome.is_ok() {
                return Err(EngineError::Instantiate(
                    format!("could not apply the recursion limit: {:?}", outcome.error).into(),
                ));
            }
        }
        Ok(())
    }

    /// Runs one cell. A trap sets `state_reset` (the caller then discards
    /// this instance).
    pub(crate) fn run(&mut self, kind: CellKind, code: &str) -> CellOutcome {
        let started = Instant::now();
        let state = self.store.data_mut();
        state.limiter.start_cell();
        state.cell = CellState::new(&state.limits, &state.dirs, started);

        if code.len() > MAX_CELL_SOURCE_BYTES {
            let error = CellError {
                kind: "ValueError".into(),
                message: format!(
                    "the cell's source is {} bytes; at most {MAX_CELL_SOURCE_BYTES} are accepted",
                    code.len()
                ),
                traceback: String::new(),
            };
            return self.finish(started, CellStatus::Error, GuestReply::error(error), false);
        }

        self.store.set_epoch_deadline(1);
        let outcome = self.call_guest(kind, code);
        self.store.set_epoch_deadline(u64::MAX / 2);
        match outcome {
            Ok(reply) => {
                let status = cell::classify(&self.flags(), reply.error.is_some());
                self.finish(started, status, reply, false)
            }
            Err(trap) => {
                let (status, error) = self.describe_trap(&trap);
                tracing::warn!(status = status.as_str(), error = %trap, "cell ended in a trap; replacing the interpreter");
                self.finish(started, status, GuestReply::error(error), true)
            }
        }
    }

    fn flags(&self) -> cell::HostFlags {
        let state = self.store.data();
        cell::HostFlags {
            timed_out: state.cell.timed_out,
            tool_limit: state.cell.tool_limit_hit,
            output_limit: state.cell.output_limit_hit,
            memory_limit: state.limiter.soft_hit || state.limiter.denied,
        }
    }

    fn call_guest(&mut self, kind: CellKind, code: &str) -> wasmtime::Result<GuestReply> {
        let len = code.len() as u32;
        let ptr = self.alloc.call(&mut self.store, len)?;
        let memory = self
            .store
            .data()
            .memory
            .ok_or_else(|| wasmtime::format_err!("no memory"))?;
        memory::write(memory.data_mut(&mut self.store), ptr, code.as_bytes())
            .map_err(|_| wasmtime::format_err!("the guest returned an out-of-bounds buffer"))?;
        let packed = self
            .run_cell
            .call(&mut self.store, (kind.abi(), ptr, len))?;
        let (reply_ptr, reply_len) = abi::unpack(packed);
        let reply = memory::read(memory.data(&self.store), reply_ptr, reply_len)
            .map_err(|_| wasmtime::format_err!("the guest returned an out-of-bounds reply"))
            .and_then(|bytes| {
                serde_json::from_slice::<GuestReply>(bytes)
                    .map_err(|e| wasmtime::format_err!("the guest returned a malformed reply: {e}"))
            });
        self.dealloc.call(&mut self.store, (reply_ptr, reply_len))?;
        reply
    }

    fn describe_trap(&self, trap: &wasmtime::Error) -> (CellStatus, CellError) {
        let state = self.store.data();
        let limits = &state.limits;
        let (status, kind, message) = if state.cell.hard_stopped || state.cell.timed_out {
            (
                CellStatus::Timeout,
                "CellTimeout",
                format!(
                    "the cell ran past its {} ms deadline and did not stop within the {} ms grace period; the interpreter was restarted",
                    limits.timeout.as_millis(),
                    limits.grace.as_millis()
                ),
            )
        } else if state.limiter.denied || state.limiter.soft_hit {
            (
                CellStatus::MemoryLimit,
                "MemoryError",
                format!(
                    "the cell exhausted the sandbox's {} MiB memory limit; the interpreter was restarted",
                    limits.max_memory_bytes >> 20
                ),
            )
        } else {
            let why = match trap.downcast_ref::<Trap>() {
                Some(Trap::StackOverflow) => "it ran out of stack".to_owned(),
                Some(trap) => format!("wasm trap: {trap}"),
                None => "the interpreter failed".to_owned(),
            };
            (
                CellStatus::Crashed,
                "SandboxCrashed",
                format!(
                    "the interpreter stopped abnormally ({why}); it was restarted with an empty state"
                ),
            )
        };
        (
            status,
            CellError {
                kind: kind.into(),
                message: message.clone(),
                traceback: format!("{kind}: {message}\n"),
            },
        )
    }

    fn finish(
        &mut self,
        started: Instant,
        status: CellStatus,
        reply: GuestReply,
        state_reset: bool,
    ) -> CellOutcome {
        let state = self.store.data_mut();
        let fresh = CellState::new(&state.limits, &state.dirs, started);
        let mut cell = std::mem::replace(&mut state.cell, fresh);
        // Whatever the guest sends back is bounded like its output: inline
        // up to the cap, the rest in a file charged to the quota.
        let exit_code = reply.shell.map(|shell| {
            cell.stdout.append_lossy(&shell.stdout, &mut state.quota);
            cell.stderr.append_lossy(&shell.stderr, &mut state.quota);
            shell.exit_code
        });
        let has_result = reply.result.is_some();
        if let Some(result) = &reply.result {
            cell.result.append_lossy(result, &mut state.quota);
        }
        let (stdout, stdout_truncated, stdout_file_path) = cell.stdout.finish();
        let (stderr, stderr_truncated, stderr_file_path) = cell.stderr.finish();
        let (result, result_truncated, result_file_path) = cell.result.finish();
        let inline_cap = state.limits.max_inline_output_bytes;
        let error = reply
            .error
            .or_else(|| {
                // The deadline passed but the cell swallowed every interrupt
                // and finished within the grace period: still a timeout.
                (status == CellStatus::Timeout).then(cell::deadline_error)
            })
            .map(|error| error.capped(inline_cap));
        CellOutcome {
            status,
            stdout,
            stderr,
            result: has_result.then_some(result),
            result_truncated,
            result_file_path,
            error,
            duration_ms: duration_ms(started.elapsed()),
            stdout_truncated,
            stderr_truncated,
            stdout_file_path,
            stderr_file_path,
            state_reset,
            state_reset_reason: None,
            tool_calls: cell.tool_calls,
            exit_code,
        }
    }
}

fn duration_ms(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
