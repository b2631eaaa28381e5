//! The one interpreter of this instance.
//!
//! It is created once by `wizer-initialize`; the pre-initialised snapshot
//! carries it, so instances made from the snapshot never pay VM start.

use rustpython_vm::builtins::PyDictRef;
use rustpython_vm::{Interpreter, InterpreterBuilder, PyObjectRef, Settings};
use std::cell::RefCell;

/// The driver's Python source: helpers, sandbox policy, error formatting.
const DRIVER: &str = include_str!("driver.py");
/// The file name driver frames carry; the driver strips them from tracebacks.
pub use crate::interrupt::DRIVER_FILE;

/// The interpreter and what the cell loop uses of the driver.
pub struct Runtime {
    pub interp: Interpreter,
    pub driver: Driver,
}

/// What the cell loop calls or restores, captured once when the interpreter
/// starts: a cell that rebinds the driver's names or attributes of `sys`
/// and `builtins` does not change what these point to.
pub struct Driver {
    /// The cells' globals (`__main__.__dict__`).
    pub globals: PyDictRef,
    /// The output streams `sys.stdout` / `sys.stderr` are reset to.
    pub stdout: PyObjectRef,
    /// See `stdout`.
    pub stderr: PyObjectRef,
    /// The import policy put back at the front of `sys.meta_path`.
    pub import_policy: PyObjectRef,
    /// `random.seed`, called once per instance.
    pub seed_random: PyObjectRef,
    /// `driver._error(exc) -> {type, message, traceback}`.
    pub error: PyObjectRef,
    /// `driver._syntax_error(exc) -> {type, message, traceback}`.
    pub syntax_error: PyObjectRef,
    /// `driver._shell_run(command) -> {stdout, stderr, exit_code}`.
    pub shell_run: PyObjectRef,
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
        // The sandbox shell behind COMPOSIO_REMOTE_BASH_TOOL, a pure-Python
        // package (src/python/_toolshed_shell), compiled at build time.
        .add_frozen_modules(rustpython_vm::py_freeze!(dir = "python"))
        .build();

    let driver = interp.enter(|vm| {
        let scope = vm.new_scope_with_builtins();
        scope
            .globals
            .set_item(
                "_HOST_LIB_PATH",
                vm.ctx.new_str(rustpython_pylib::LIB_PATH).into(),
                vm,
            )
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
        let globals = get("_user_globals")
            .downcast::<rustpython_vm::builtins::PyDict>()
            .expect("_user_globals is a dict");
        crate::interrupt::install(vm, crate::exceptions::types(vm).cell_timeout);
        Driver {
            globals,
            stdout: get("_STDOUT"),
            stderr: get("_STDERR"),
            import_policy: get("_SandboxPolicy"),
            seed_random: get("_seed_random"),
            error: get("_error"),
            syntax_error: get("_syntax_error"),
            shell_run: get("_shell_run"),
        }
    });
    RUNTIME.with(|rt| *rt.borrow_mut() = Some(Runtime { interp, driver }));
}

/// Asks the running cell to stop (see [`crate::interrupt`]).
pub fn interrupt(reason: u32) {
    RUNTIME.with(|rt| {
        let Ok(guard) = rt.try_borrow() else { return };
        let Some(runtime) = guard.as_ref() else {
            return;
        };
        runtime
            .interp
            .enter(|vm| crate::interrupt::request(vm, reason));
    });
}
