//! The one interpreter of this instance.
//!
//! It is created once by `wizer-initialize`; the pre-initialised snapshot
//! carries it, so instances made from the snapshot never pay VM start.

use rustpython_vm::{Interpreter, InterpreterBuilder, PyObjectRef, Settings};
use std::cell::RefCell;

/// The driver's Python source: helpers, sandbox policy and the cell loop.
const DRIVER: &str = include_str!("driver.py");
/// The sandbox shell behind COMPOSIO_REMOTE_BASH_TOOL (pure Python).
const SHELL: &str = include_str!("shell.py");
/// The file name driver frames carry; the driver strips them from tracebacks.
pub const DRIVER_FILE: &str = "<toolshed>";

pub struct Runtime {
    pub interp: Interpreter,
    /// `driver._run_cell(source) -> (result_repr | None, error | None)`.
    pub run_cell: PyObjectRef,
    /// `driver._arm()`: installs the interrupt trace hook on live frames.
    pub arm: PyObjectRef,
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Runs `f` with the runtime, starting it first if this instance was not
/// pre-initialised.
pub fn with<R>(f: impl FnOnce(&Runtime) -> R) -> R {
    if RUNTIME.with(|rt| rt.borrow().is_none()) {
        init();
    }
    RUNTIME.with(|rt| f(rt.borrow().as_ref().expect("runtime initialised above")))
}

/// Starts the VM and loads the driver.
pub fn init() {
    if RUNTIME.with(|rt| rt.borrow().is_some()) {
        return;
    }
    // wasi-libc emulates the working directory; the workbench is the cwd.
    let _ = std::env::set_current_dir("/home/user");

    let mut settings = Settings::default();
    settings.import_site = false;
    settings.user_site_directory = false;
    settings.install_signal_handlers = false;
    settings.write_bytecode = false;
    settings.safe_path = true;
    settings.argv = vec!["python".to_owned()];
    settings.path_list = Vec::new();

    let builder = InterpreterBuilder::new().settings(settings);
    let mut defs = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
    defs.push(crate::modules::toolshed::module_def(&builder.ctx));
    let interp = builder
        .add_native_modules(&defs)
        .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
        .build();

    let (run_cell, arm) = interp.enter(|vm| {
        let scope = vm.new_scope_with_builtins();
        scope
            .globals
            .set_item(
                "_HOST_LIB_PATH",
                vm.ctx.new_str(rustpython_pylib::LIB_PATH).into(),
                vm,
            )
            .expect("set driver global");
        scope
            .globals
            .set_item("_SHELL_SOURCE", vm.ctx.new_str(SHELL).into(), vm)
            .expect("set driver global");
        let code = vm
            .compile(
                DRIVER,
                rustpython_vm::compiler::Mode::Exec,
                DRIVER_FILE.to_owned(),
            )
            .expect("the driver compiles");
        if let Err(exc) = vm.run_code_obj(code, scope.clone()) {
            vm.print_exception(&exc);
            panic!("the toolshed driver failed to load");
        }
        let get = |name: &str| {
            scope
                .globals
                .get_item(name, vm)
                .unwrap_or_else(|_| panic!("driver defines {name}"))
        };
        (get("_run_cell"), get("_arm"))
    });
    RUNTIME.with(|rt| {
        *rt.borrow_mut() = Some(Runtime {
            interp,
            run_cell,
            arm,
        })
    });
}

/// Asks the running cell to stop (the host's deadline passed).
pub fn interrupt() {
    RUNTIME.with(|rt| {
        let Ok(guard) = rt.try_borrow() else { return };
        let Some(runtime) = guard.as_ref() else {
            return;
        };
        runtime.interp.enter(|vm| {
            // An exception here only means the hook could not be armed; the
            // host falls back to its hard stop.
            let _ = runtime.arm.call((), vm);
        });
    });
}
