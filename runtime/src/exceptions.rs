//! The sandbox's own exceptions, created natively once per interpreter, and
//! the mapping from ABI error codes to them (the codes are defined once, in
//! `toolshed_guest_sdk::abi`; Python never sees their numbers).
//!
//! All three derive from `BaseException`, so `except Exception:` in a cell
//! does not swallow them.

use rustpython_vm::VirtualMachine;
use rustpython_vm::builtins::{PyBaseExceptionRef, PyTypeRef};
use std::cell::RefCell;
use toolshed_guest_sdk::HostError;
use toolshed_guest_sdk::abi::ErrorCode;

/// The exception types, in the order they are listed in [`Types`].
#[derive(Clone)]
pub struct Types {
    /// The cell ran past its deadline.
    pub cell_timeout: PyTypeRef,
    /// The cell made more tool calls than its limit allows.
    pub tool_limit: PyTypeRef,
    /// The cell wrote more output than its limit allows.
    pub output_limit: PyTypeRef,
}

thread_local! {
    static TYPES: RefCell<Option<Types>> = const { RefCell::new(None) };
}

/// The types, created on first use.
pub fn types(vm: &VirtualMachine) -> Types {
    if let Some(types) = TYPES.with(|t| t.borrow().clone()) {
        return types;
    }
    let base = vm.ctx.exceptions.base_exception_type.to_owned();
    let make = |name: &str| {
        vm.ctx
            .new_exception_type("builtins", name, Some(vec![base.clone()]))
    };
    let types = Types {
        cell_timeout: make("CellTimeout"),
        tool_limit: make("ToolCallLimitExceeded"),
        output_limit: make("OutputLimitExceeded"),
    };
    TYPES.with(|t| *t.borrow_mut() = Some(types.clone()));
    types
}

/// The Python exception for a host error.
pub fn from_host(err: HostError, vm: &VirtualMachine) -> PyBaseExceptionRef {
    let types = types(vm);
    match err.code {
        ErrorCode::Deadline => {
            vm.new_exception_msg(types.cell_timeout, "this cell ran past its deadline".into())
        }
        ErrorCode::ToolLimit => vm.new_exception_msg(
            types.tool_limit,
            "this cell reached its limit of tool calls".into(),
        ),
        ErrorCode::OutputLimit => vm.new_exception_msg(
            types.output_limit,
            "this cell reached its output limit".into(),
        ),
        other => vm.new_runtime_error(format!(
            "the host bridge failed: {}",
            HostError { code: other }
        )),
    }
}
