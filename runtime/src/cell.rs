//! One cell: compile and run it against the persistent globals, and build
//! the JSON reply of `toolshed_run_cell`.
//!
//! The loop is native so that a cell cannot replace it: compiling, running,
//! taking the trailing expression's `repr()` and storing `_` use the VM
//! directly, not `builtins.exec` or anything else a cell can rebind. User
//! code runs with [`interrupt::set_user_code`] on, so the host's deadline
//! interrupt can stop it; the driver's own work (formatting an error) runs
//! with it off and is bounded by the host's hard stop.

use crate::interp::{self, Driver};
use crate::interrupt;
use rustpython_vm::builtins::{PyCode, PyList};
use rustpython_vm::compiler::Mode;
use rustpython_vm::compiler::ast::Stmt;
use rustpython_vm::compiler::parser::parse_module;
use rustpython_vm::scope::Scope;
use rustpython_vm::{AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine};
use serde_json::{Value, json};
use std::cell::Cell;
use toolshed_guest_sdk::abi;

/// The file name of cell code in tracebacks.
const CELL_FILE: &str = "<cell>";

/// Runs one cell of `kind` ([`abi::CELL_PYTHON`] or [`abi::CELL_BASH`]).
pub fn run(kind: u32, source: &str) -> Vec<u8> {
    let reply = interp::with(|rt| {
        rt.interp.enter(|vm| {
            let reply = match kind {
                abi::CELL_BASH => run_bash(&rt.driver, vm, source),
                _ => run_python(&rt.driver, vm, source),
            };
            interrupt::reset(vm);
            reply
        })
    });
    serde_json::to_vec(&reply)
        .unwrap_or_else(|_| b"{\"result\":null,\"error\":null,\"shell\":null}".to_vec())
}

fn run_python(rt: &Driver, vm: &VirtualMachine, source: &str) -> Value {
    prepare(rt, vm);
    let Compiled { body, tail } = match compile(vm, source) {
        Ok(code) => code,
        Err(exc) => return reply(Value::Null, Some(describe(rt, vm, &exc, true)), None),
    };
    let scope = Scope::with_builtins(None, rt.globals.clone(), vm);
    interrupt::set_user_code(true);
    let outcome = (|| -> PyResult<Option<String>> {
        if let Some(body) = body {
            vm.run_code_obj(body, scope.clone())?;
        }
        let Some(tail) = tail else { return Ok(None) };
        let value = vm.run_code_obj(tail, scope)?;
        if vm.is_none(&value) {
            return Ok(None);
        }
        rt.globals.set_item("_", value.clone(), vm)?;
        Ok(Some(value.repr(vm)?.to_string_lossy().into_owned()))
    })();
    interrupt::set_user_code(false);
    match outcome {
        Ok(result) => reply(result.map_or(Value::Null, Value::String), None, None),
        Err(exc) => reply(
            Value::Null,
            Some(describe(rt, vm, &exc.into(), false)),
            None,
        ),
    }
}

fn run_bash(rt: &Driver, vm: &VirtualMachine, command: &str) -> Value {
    prepare(rt, vm);
    interrupt::set_user_code(true);
    let outcome = rt.shell_run.call((vm.ctx.new_str(command),), vm);
    interrupt::set_user_code(false);
    match outcome.and_then(|result| crate::json::to_json(&result, vm)) {
        Ok(shell) => reply(Value::Null, None, Some(shell)),
        Err(exc) => reply(
            Value::Null,
            Some(describe(rt, vm, &exc.into(), false)),
            None,
        ),
    }
}

fn reply(result: Value, error: Option<Value>, shell: Option<Value>) -> Value {
    json!({"result": result, "error": error, "shell": shell})
}

thread_local! {
    /// Whether this instance gave `random` its own seed yet.
    static SEEDED: Cell<bool> = const { Cell::new(false) };
}

/// Puts back, natively, what a previous cell may have broken around the
/// cell loop; a failure here is not the next cell's problem.
fn prepare(rt: &Driver, vm: &VirtualMachine) {
    if !SEEDED.with(|s| s.replace(true)) {
        // Instances start from one snapshot: each gets its own randomness.
        let _ = rt.seed_random.call((), vm);
    }
    let sys = vm.sys_module.as_object();
    for (name, stream) in [
        ("stdout", &rt.stdout),
        ("__stdout__", &rt.stdout),
        ("stderr", &rt.stderr),
        ("__stderr__", &rt.stderr),
    ] {
        let _ = sys.set_attr(name, stream.clone(), vm);
    }
    if let Ok(meta_path) = sys.get_attr("meta_path", vm)
        && let Some(list) = meta_path.downcast_ref::<PyList>()
        && !list.borrow_vec().iter().any(|f| f.is(&rt.import_policy))
    {
        list.borrow_vec_mut().insert(0, rt.import_policy.clone());
    }
    // Whatever a cell did to it, the cells' globals resolve builtins.
    let _ = rt
        .globals
        .set_item("__builtins__", vm.builtins.clone().into(), vm);
}

/// Compiles a cell: the statements (`None` when there are none before a
/// trailing expression), and its trailing expression (whose value is the
/// cell's result) separately.
fn compile(vm: &VirtualMachine, source: &str) -> Result<Compiled, PyObjectRef> {
    let compile = |text: &str, mode: Mode| {
        vm.compile(text, mode, CELL_FILE.to_owned())
            .map_err(|err| -> PyObjectRef { err.into_pyexception(vm, Some(text)).into() })
    };
    let Some(trailing) = trailing_expression(source) else {
        return Ok(Compiled {
            body: Some(compile(source, Mode::Exec)?),
            tail: None,
        });
    };
    // A cell that is only an expression (`df.head()`, the commonest cell)
    // has no statements to compile (an empty module cost ~40% of its
    // compile time).
    let body = if trailing.alone {
        None
    } else {
        Some(compile(&source[..trailing.start], Mode::Exec)?)
    };
    // Blank lines in front keep the expression's line number in tracebacks.
    let line = source[..trailing.start].matches('\n').count();
    let mut text = "\n".repeat(line);
    text.push_str(&source[trailing.start..trailing.end]);
    let tail = compile(&text, Mode::Eval)?;
    Ok(Compiled {
        body,
        tail: Some(tail),
    })
}

/// A compiled cell.
struct Compiled {
    /// The statements; `None` when a trailing expression is all there is.
    body: Option<PyRef<PyCode>>,
    /// The trailing expression, whose value is the cell's result.
    tail: Option<PyRef<PyCode>>,
}

/// Where a cell's last statement is, when it is an expression.
struct Trailing {
    /// Byte range of the statement (it includes enclosing parentheses).
    start: usize,
    end: usize,
    /// Whether it is the cell's only statement.
    alone: bool,
}

/// The cell's trailing expression. `None` when the last statement is not
/// an expression, or when the source does not parse (compiling it whole
/// then reports the syntax error).
fn trailing_expression(source: &str) -> Option<Trailing> {
    let parsed = parse_module(source).ok()?;
    let body = &parsed.syntax().body;
    let Some(Stmt::Expr(last)) = body.last() else {
        return None;
    };
    Some(Trailing {
        start: usize::from(last.range.start()),
        end: usize::from(last.range.end()),
        alone: body.len() == 1,
    })
}

/// The error object of the reply, formatted by the driver. If formatting
/// itself fails (a cell broke the driver or the exception's `__str__`), a
/// plain description is used.
fn describe(rt: &Driver, vm: &VirtualMachine, exc: &PyObjectRef, syntax: bool) -> Value {
    let format = if syntax { &rt.syntax_error } else { &rt.error };
    let formatted = format
        .call((exc.clone(),), vm)
        .and_then(|value| crate::json::to_json(&value, vm));
    match formatted {
        Ok(value @ Value::Object(_)) => value,
        _ => {
            let kind = exc.class().name().to_string();
            json!({
                "type": kind,
                "message": "<the exception could not be formatted>",
                "traceback": format!("{kind}: <the exception could not be formatted>\n"),
            })
        }
    }
}
