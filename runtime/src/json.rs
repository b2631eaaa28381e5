//! Python objects <-> JSON, converted in Rust (serde_json) so bulk tool
//! results never go through the Python `json` module.

use num_traits::ToPrimitive;
use rustpython_vm::builtins::{PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple};
use rustpython_vm::{AsObject, PyObjectRef, PyResult, VirtualMachine};
use serde_json::{Map, Number, Value};

/// Nesting deeper than this is refused rather than risking the guest stack.
const MAX_DEPTH: usize = 512;

/// Converts a Python object to JSON: `None`, `bool`, `int` (64-bit), `float`
/// (finite), `str`, `list`/`tuple` and `dict` (keys `str`, `int`, `float`,
/// `bool` or `None`, stringified like `json.dumps`).
pub fn to_json(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Value> {
    convert(obj, vm, 0)
}

fn convert(obj: &PyObjectRef, vm: &VirtualMachine, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(
            vm.new_value_error("value is nested too deeply to send through the tool bridge")
        );
    }
    if vm.is_none(obj) {
        return Ok(Value::Null);
    }
    if obj.is(&vm.ctx.true_value) {
        return Ok(Value::Bool(true));
    }
    if obj.is(&vm.ctx.false_value) {
        return Ok(Value::Bool(false));
    }
    if let Some(s) = obj.downcast_ref::<PyStr>() {
        return Ok(Value::String(s.to_string_lossy().into_owned()));
    }
    if let Some(i) = obj.downcast_ref::<PyInt>() {
        let big = i.as_bigint();
        if let Some(v) = big.to_i64() {
            return Ok(Value::Number(v.into()));
        }
        if let Some(v) = big.to_u64() {
            return Ok(Value::Number(v.into()));
        }
        return Err(vm.new_value_error(
            "integer is too large to send through the tool bridge (limit: 64 bits)",
        ));
    }
    if let Some(f) = obj.downcast_ref::<PyFloat>() {
        return Number::from_f64(f.to_f64())
            .map(Value::Number)
            .ok_or_else(|| {
                vm.new_value_error("NaN and infinity cannot be sent through the tool bridge")
            });
    }
    if let Some(list) = obj.downcast_ref::<PyList>() {
        let items = list.borrow_vec().to_vec();
        return items
            .iter()
            .map(|item| convert(item, vm, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        return tuple
            .as_slice()
            .iter()
            .map(|item| convert(item, vm, depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Some(dict) = obj.downcast_ref::<PyDict>() {
        let mut map = Map::new();
        for (key, value) in dict.items_vec() {
            map.insert(key_to_string(&key, vm)?, convert(&value, vm, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    Err(vm.new_type_error(format!(
        "Object of type {} is not JSON serializable",
        obj.class().name()
    )))
}

fn key_to_string(key: &PyObjectRef, vm: &VirtualMachine) -> PyResult<String> {
    if let Some(s) = key.downcast_ref::<PyStr>() {
        return Ok(s.to_string_lossy().into_owned());
    }
    match convert(key, vm, 0) {
        Ok(Value::Null) => Ok("null".to_owned()),
        Ok(Value::Bool(b)) => Ok(b.to_string()),
        Ok(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(vm.new_type_error(format!(
            "keys must be str, int, float, bool or None, not {}",
            key.class().name()
        ))),
    }
}

/// Converts JSON to Python objects (`dict`, `list`, `str`, `int`, `float`,
/// `bool`, `None`).
pub fn to_py(value: &Value, vm: &VirtualMachine) -> PyObjectRef {
    match value {
        Value::Null => vm.ctx.none(),
        Value::Bool(b) => vm.ctx.new_bool(*b).into(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                vm.ctx.new_int(i).into()
            } else if let Some(u) = n.as_u64() {
                vm.ctx.new_int(u).into()
            } else {
                vm.ctx.new_float(n.as_f64().unwrap_or(f64::NAN)).into()
            }
        }
        Value::String(s) => vm.ctx.new_str(s.as_str()).into(),
        Value::Array(items) => vm
            .ctx
            .new_list(items.iter().map(|item| to_py(item, vm)).collect())
            .into(),
        Value::Object(map) => {
            let dict = vm.ctx.new_dict();
            for (key, value) in map {
                // Setting a str key on a fresh dict cannot fail.
                let _ = dict.set_item(key.as_str(), to_py(value, vm), vm);
            }
            dict.into()
        }
    }
}
