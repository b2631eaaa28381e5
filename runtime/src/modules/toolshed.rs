//! `_toolshed`: the driver's view of the host bridge (tool calls, output,
//! sleep). Host errors come back as ABI codes for the driver to raise as
//! Python exceptions; nothing here panics on a host reply.

pub(crate) use _toolshed::module_def;

#[rustpython_vm::pymodule]
mod _toolshed {
    use crate::json;
    use rustpython_vm::builtins::{PyListRef, PyStrRef};
    use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};
    use toolshed_guest_sdk::HostError;
    use toolshed_guest_sdk::output::{self, Stream};
    use toolshed_guest_sdk::{clock, tools};

    fn code(err: HostError) -> u32 {
        err.code as u32
    }

    /// `write(stream, text) -> int`: 0, or an ABI error code.
    #[pyfunction]
    fn write(stream: u32, text: PyStrRef) -> u32 {
        let stream = if stream == 2 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        match output::write(stream, &text.to_string_lossy()) {
            Ok(()) => 0,
            Err(err) => code(err),
        }
    }

    /// `run_tools(calls, max_concurrency) -> list[(result, error)] | int`.
    ///
    /// `calls` is a list of dicts `{tool_slug, arguments, account?}` or
    /// tuples `(tool_slug, arguments[, account])`. Validation, JSON
    /// conversion and building the `(result, error)` tuples all happen here,
    /// in Rust, so a batch of thousands costs no Python loop. Returns an ABI
    /// error code (an int) when the host refuses the batch.
    #[pyfunction]
    fn run_tools(calls: PyListRef, max_concurrency: u32, vm: &VirtualMachine) -> PyResult {
        let items = calls.borrow_vec().to_vec();
        let mut batch = Vec::with_capacity(items.len());
        for (index, call) in items.iter().enumerate() {
            batch.push(json::tool_call(index, call, vm)?);
        }
        if batch.is_empty() {
            return Ok(vm.ctx.new_list(Vec::new()).into());
        }
        let bytes = serde_json::to_vec(&serde_json::Value::Array(batch))
            .map_err(|e| vm.new_value_error(format!("cannot encode tool calls: {e}")))?;
        let reply = match tools::call_tools(&bytes, max_concurrency) {
            Ok(reply) => reply,
            Err(err) => return Ok(vm.ctx.new_int(code(err)).into()),
        };
        let results: Vec<json::ToolReply<'_>> = serde_json::from_slice(&reply)
            .map_err(|e| vm.new_runtime_error(format!("the host sent a malformed reply: {e}")))?;
        let tuples = results
            .into_iter()
            .map(|r| r.into_tuple(vm))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(vm.ctx.new_list(tuples).into())
    }

    /// `sleep_ms(millis) -> int`: 0, or an ABI error code (deadline).
    #[pyfunction]
    fn sleep_ms(millis: u64) -> u32 {
        match clock::sleep_ms(millis) {
            Ok(()) => 0,
            Err(err) => code(err),
        }
    }

    /// `loads(text) -> object`: JSON text to Python objects, in Rust.
    #[pyfunction]
    fn loads(text: PyStrRef, vm: &VirtualMachine) -> PyResult {
        let text = text.to_string_lossy();
        json::loads(&text, vm).ok_or_else(|| {
            vm.new_value_error("invalid JSON (or JSON the fast parser does not read)")
        })
    }

    /// `loads_fast(text) -> (True, object) | (False, None)`: the fast path
    /// of `json.loads`; `(False, None)` means "use the Python parser".
    #[pyfunction]
    fn loads_fast(text: PyStrRef, vm: &VirtualMachine) -> PyObjectRef {
        let parsed = match text.to_str() {
            Some(text) => json::loads(text, vm),
            None => None,
        };
        let (ok, value) = match parsed {
            Some(value) => (true, value),
            None => (false, vm.ctx.none()),
        };
        vm.ctx
            .new_tuple(vec![vm.ctx.new_bool(ok).into(), value])
            .into()
    }

    /// `dumps(obj) -> str`: Python objects to compact JSON text, in Rust.
    #[pyfunction]
    fn dumps(obj: PyObjectRef, vm: &VirtualMachine) -> PyResult<String> {
        let value = json::to_json(&obj, vm)?;
        serde_json::to_string(&value).map_err(|e| vm.new_value_error(e.to_string()))
    }
}
