//! `_toolshed`: the driver's view of the host bridge (tool calls, output,
//! sleep). Host errors are raised here as the sandbox's own exceptions
//! (see [`crate::exceptions`]); nothing here panics on a host reply.

pub(crate) use _toolshed::module_def;

#[rustpython_vm::pymodule]
mod _toolshed {
    use crate::{exceptions, json};
    use rustpython_vm::builtins::{PyListRef, PyStrRef, PyTypeRef};
    use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine};
    use toolshed_guest_sdk::output::{self, Stream};
    use toolshed_guest_sdk::{clock, tools};

    /// `CellTimeout`: the cell ran past its deadline.
    #[pyattr(name = "CellTimeout")]
    fn cell_timeout(vm: &VirtualMachine) -> PyTypeRef {
        exceptions::types(vm).cell_timeout
    }

    /// `ToolCallLimitExceeded`: the cell made too many tool calls.
    #[pyattr(name = "ToolCallLimitExceeded")]
    fn tool_limit(vm: &VirtualMachine) -> PyTypeRef {
        exceptions::types(vm).tool_limit
    }

    /// `OutputLimitExceeded`: the cell wrote too much output.
    #[pyattr(name = "OutputLimitExceeded")]
    fn output_limit(vm: &VirtualMachine) -> PyTypeRef {
        exceptions::types(vm).output_limit
    }

    /// `write(stream, text)`: 1 is stdout, 2 stderr. Raises
    /// `OutputLimitExceeded` past the cell's output limit.
    #[pyfunction]
    fn write(stream: u32, text: PyStrRef, vm: &VirtualMachine) -> PyResult<()> {
        let stream = if stream == 2 {
            Stream::Stderr
        } else {
            Stream::Stdout
        };
        output::write(stream, &text.to_string_lossy()).map_err(|err| exceptions::from_host(err, vm))
    }

    /// `run_tools(calls, max_concurrency) -> list[(result, error)]`.
    ///
    /// `calls` is a list of dicts `{tool_slug, arguments, account?}` or
    /// tuples `(tool_slug, arguments[, account])`. Validation, JSON
    /// conversion and building the `(result, error)` tuples all happen here,
    /// in Rust, so a batch of thousands costs no Python loop. Raises the
    /// sandbox's exception when the host refuses the batch (tool limit,
    /// deadline).
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
            Err(err) => return Err(exceptions::from_host(err, vm)),
        };
        let results: Vec<json::ToolReply<'_>> = serde_json::from_slice(&reply)
            .map_err(|e| vm.new_runtime_error(format!("the host sent a malformed reply: {e}")))?;
        let tuples = results
            .into_iter()
            .map(|r| r.into_tuple(vm))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(vm.ctx.new_list(tuples).into())
    }

    /// `sleep_ms(millis)`: sleeps on the host; raises `CellTimeout` when the
    /// deadline cut it short.
    #[pyfunction]
    fn sleep_ms(millis: u64, vm: &VirtualMachine) -> PyResult<()> {
        clock::sleep_ms(millis).map_err(|err| exceptions::from_host(err, vm))
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
