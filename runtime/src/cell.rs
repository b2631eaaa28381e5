//! One cell: run the driver's cell loop and turn its outcome into the JSON
//! reply of `toolshed_run_cell`.

use crate::interp;
use rustpython_vm::builtins::PyTuple;
use rustpython_vm::{AsObject, PyObjectRef, VirtualMachine};
use serde_json::{Value, json};

/// Runs `source` as one cell against the persistent globals.
pub fn run(source: &str) -> Vec<u8> {
    let reply = interp::with(|rt| {
        rt.interp.enter(|vm| {
            let outcome = rt.run_cell.call((vm.ctx.new_str(source),), vm);
            match outcome {
                Ok(pair) => reply_from_pair(pair, vm),
                Err(exc) => {
                    // The driver itself failed (it catches everything the
                    // cell raises), e.g. while formatting an exotic error.
                    let message = exc
                        .as_object()
                        .str(vm)
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    json!({
                        "result": null,
                        "error": {
                            "type": exc.class().name().to_string(),
                            "message": message,
                            "traceback": "",
                        },
                    })
                }
            }
        })
    });
    serde_json::to_vec(&reply).unwrap_or_else(|_| b"{\"result\":null,\"error\":null}".to_vec())
}

fn reply_from_pair(pair: PyObjectRef, vm: &VirtualMachine) -> Value {
    let Some(tuple) = pair.downcast_ref::<PyTuple>() else {
        return json!({"result": null, "error": null});
    };
    let items = tuple.as_slice();
    let result = items
        .first()
        .and_then(|r| crate::json::to_json(r, vm).ok())
        .unwrap_or(Value::Null);
    let error = items
        .get(1)
        .and_then(|e| crate::json::to_json(e, vm).ok())
        .unwrap_or(Value::Null);
    json!({"result": result, "error": error})
}
