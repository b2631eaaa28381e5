//! Stopping a running cell from the host without running any Python code
//! that a cell could have replaced.
//!
//! The host calls `toolshed_interrupt(reason)` from its epoch callback (at
//! a point where the guest is inside the bytecode loop). [`request`] only
//! records the reason in a thread-local and installs [`hook`], a native
//! function created when the interpreter started, as the trace function of
//! every live frame and as the global trace function, with per-opcode
//! events on. Nothing is looked up through `sys`, `builtins` or a module
//! attribute at that point. The hook then raises in the next instruction of
//! user code: `CellTimeout` for the deadline (again and again, so catching
//! it does not help), `MemoryError` once for the soft memory limit.
//!
//! A cell can remove the hook (`sys.settrace(None)`, `frame.f_trace =
//! None`); the host then re-arms it on its next tick, and if the cell still
//! has not stopped when the grace period ends, the host stops the instance
//! hard. The soft path is best effort; the hard stop is the guarantee.

use rustpython_vm::builtins::{PyBaseExceptionRef, PyStr, PyTraceback, PyTypeRef};
use rustpython_vm::compiler::core::OneIndexed;
use rustpython_vm::frame::FrameObject;
use rustpython_vm::function::FuncArgs;
use rustpython_vm::{PyObjectRef, PyPayload, PyResult, VirtualMachine};
use std::cell::{Cell, RefCell};
use toolshed_guest_sdk::abi;

/// Code objects of the driver carry this file name; frames running them are
/// never interrupted (they are the cell loop's own bookkeeping).
pub const DRIVER_FILE: &str = "<toolshed>";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    None,
    Deadline,
    Memory,
}

/// What the hook needs, captured once when the interpreter starts.
struct Hook {
    /// The native trace function itself (it returns itself to stay set).
    function: PyObjectRef,
    cell_timeout: PyTypeRef,
}

thread_local! {
    static PENDING: Cell<Pending> = const { Cell::new(Pending::None) };
    /// Whether user code (the cell, its trailing expression's repr, a shell
    /// command) is running, as opposed to the cell loop's own work.
    static USER_CODE: Cell<bool> = const { Cell::new(false) };
    /// How many times [`request`] armed the hook during this cell.
    static ARMED: Cell<u32> = const { Cell::new(0) };
    static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
}

/// Creates the native hook. Called once, when the interpreter starts.
pub fn install(vm: &VirtualMachine, cell_timeout: PyTypeRef) {
    let function: PyObjectRef = vm.new_function("_toolshed_interrupt_hook", hook).into();
    HOOK.with(|h| {
        *h.borrow_mut() = Some(Hook {
            function,
            cell_timeout,
        })
    });
}

/// Marks the start and end of user code (see [`USER_CODE`]).
pub fn set_user_code(on: bool) {
    USER_CODE.with(|u| u.set(on));
}

/// Records an interrupt and arms the hook on every live frame.
pub fn request(vm: &VirtualMachine, reason: u32) {
    let pending = match reason {
        abi::INTERRUPT_DEADLINE => Pending::Deadline,
        abi::INTERRUPT_MEMORY => Pending::Memory,
        _ => return,
    };
    // A deadline outranks a pending memory error.
    PENDING.with(|p| {
        if p.get() != Pending::Deadline {
            p.set(pending)
        }
    });
    let Some(function) = HOOK.with(|h| h.borrow().as_ref().map(|h| h.function.clone())) else {
        return;
    };
    // The first time, the hook raises at the next line: the frame unwinds
    // normally (its except and finally blocks run, the traceback shows it).
    // A deadline still pending at the next tick means a loop that stays on
    // one line: from then on the hook also sees every instruction (an
    // exception from an instruction event leaves its frame without running
    // that frame's handlers).
    let armed = ARMED.with(|a| {
        a.set(a.get().saturating_add(1));
        a.get()
    });
    let opcodes = pending == Pending::Deadline && armed > 1;
    let true_value: PyObjectRef = vm.ctx.true_value.clone().into();
    let mut frame: Option<PyObjectRef> = vm.current_frame().map(Into::into);
    while let Some(current) = frame {
        if !is_driver_frame(&current, vm) {
            // Frames are a builtin type: these setters are native.
            let _ = current.set_attr("f_trace", function.clone(), vm);
            let _ = current.set_attr("f_trace_lines", true_value.clone(), vm);
            if opcodes {
                let _ = current.set_attr("f_trace_opcodes", true_value.clone(), vm);
            }
        }
        frame = current
            .get_attr("f_back", vm)
            .ok()
            .filter(|back| !vm.is_none(back));
    }
    vm.trace_func.replace(function);
    vm.use_tracing.set(true);
}

/// Clears any pending interrupt and removes the hook if it was installed.
/// Called when a cell ends.
pub fn reset(vm: &VirtualMachine) {
    PENDING.with(|p| p.set(Pending::None));
    set_user_code(false);
    if ARMED.with(|a| a.replace(0)) > 0 {
        vm.trace_func.replace(vm.ctx.none());
        let profiling = !vm.is_none(&vm.profile_func.borrow());
        vm.use_tracing.set(profiling);
    }
}

/// The trace function: raises the pending interrupt in user code, and
/// otherwise stays installed.
fn hook(args: FuncArgs, vm: &VirtualMachine) -> PyResult {
    let (function, cell_timeout) = HOOK.with(|h| {
        let h = h.borrow();
        let h = h.as_ref().expect("the hook exists before it can be called");
        (h.function.clone(), h.cell_timeout.clone())
    });
    if !USER_CODE.with(Cell::get) {
        return Ok(function);
    }
    let in_driver = args
        .args
        .first()
        .is_some_and(|frame| is_driver_frame(frame, vm));
    if in_driver {
        return Ok(function);
    }
    let is_opcode_event = args
        .args
        .get(1)
        .and_then(|e| e.downcast_ref::<PyStr>().map(|s| s.as_bytes() == b"opcode"))
        .unwrap_or(false);
    let exc = match PENDING.with(Cell::get) {
        Pending::None => return Ok(function),
        // A MemoryError must be catchable: only at a line or a call.
        Pending::Memory if is_opcode_event => return Ok(function),
        Pending::Deadline => {
            vm.new_exception_msg(cell_timeout, "this cell ran past its deadline".into())
        }
        Pending::Memory => {
            PENDING.with(|p| p.set(Pending::None));
            vm.new_memory_error(
                "the sandbox reached its memory limit; free memory (del large objects) to go on",
            )
        }
    };
    // An exception from an 'opcode' event leaves its frame without adding
    // that frame to the traceback (a 'line' event adds it): add it here so
    // the traceback shows where the cell was.
    if is_opcode_event && let Some(frame) = args.args.first() {
        attach_frame(&exc, frame, vm);
    }
    Err(exc)
}

fn attach_frame(exc: &PyBaseExceptionRef, frame: &PyObjectRef, vm: &VirtualMachine) {
    let Ok(frame_ref) = frame.clone().downcast::<FrameObject>() else {
        return;
    };
    let int_attr = |name: &'static str| {
        frame
            .get_attr(name, vm)
            .ok()
            .and_then(|v| v.try_into_value::<i64>(vm).ok())
    };
    let (Some(lasti), Some(lineno)) = (int_attr("f_lasti"), int_attr("f_lineno")) else {
        return;
    };
    let Some(lineno) = usize::try_from(lineno).ok().and_then(OneIndexed::new) else {
        return;
    };
    let entry = PyTraceback::new(exc.traceback(), frame_ref, lasti as i32, lineno);
    exc.set_traceback(Some(entry.into_ref(&vm.ctx)));
}

fn is_driver_frame(frame: &PyObjectRef, vm: &VirtualMachine) -> bool {
    frame
        .get_attr("f_code", vm)
        .and_then(|code| code.get_attr("co_filename", vm))
        .ok()
        .and_then(|name| {
            name.downcast_ref::<PyStr>()
                .map(|s| s.as_bytes() == DRIVER_FILE.as_bytes())
        })
        .unwrap_or(false)
}
