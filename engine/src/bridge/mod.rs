//! The `toolshed:host/v1` imports and the [`ToolBridge`] the embedder
//! implements.
//!
//! Every import is registered from one table (`register`), under the same
//! name the guest uses (see `toolshed_guest_sdk::abi`). Each capability has
//! its own file; guest memory is only touched through [`memory`]'s checked
//! accessors. Host functions return `wasmtime::Result<i32 | i64>`: an `Err`
//! traps the guest, a negative value is an ABI error code it handles.

mod clock;
pub(crate) mod memory;
mod output;
mod tools;

pub use crate::tool::{NoTools, ToolBridge, ToolCall, ToolFuture, ToolResult};

use crate::state::SandboxState;
use toolshed_guest_sdk::abi;

/// Registers every host import with the linker.
pub(crate) fn register(linker: &mut wasmtime::Linker<SandboxState>) -> wasmtime::Result<()> {
    macro_rules! imports {
        ($($module:ident :: $name:ident),* $(,)?) => {
            $( linker.func_wrap(abi::HOST_MODULE, stringify!($name), $module::$name)?; )*
        };
    }
    imports! {
        tools::call_tools,
        tools::take_reply,
        output::write_output,
        clock::sleep,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use toolshed_guest_sdk::abi;

    #[test]
    fn import_names_match_the_abi() {
        // `register` uses the Rust function names; they must be the ABI's.
        assert_eq!(abi::IMPORT_CALL_TOOLS, "call_tools");
        assert_eq!(abi::IMPORT_TAKE_REPLY, "take_reply");
        assert_eq!(abi::IMPORT_WRITE_OUTPUT, "write_output");
        assert_eq!(abi::IMPORT_SLEEP, "sleep");
    }
}
