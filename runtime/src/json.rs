//! Python objects <-> JSON, converted in Rust (serde_json) so bulk tool
//! results never go through the Python `json` module.
//!
//! JSON text is deserialized straight into Python objects ([`PySeed`]),
//! keeping the document's key order, with no intermediate tree.

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

/// Validates one element of a `run_composio_tools` batch and converts it
/// to the bridge's `{"tool_slug", "arguments", "account"}` object.
pub fn tool_call(index: usize, call: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Value> {
    let (slug, arguments, account) = if let Some(dict) = call.downcast_ref::<PyDict>() {
        (
            dict.get_item_opt("tool_slug", vm)?,
            dict.get_item_opt("arguments", vm)?,
            dict.get_item_opt("account", vm)?,
        )
    } else if let Some(seq) = sequence(call) {
        if !(1..=3).contains(&seq.len()) {
            return Err(vm.new_type_error(format!(
                "calls[{index}] must be (tool_slug, arguments[, account]), not a sequence of {}",
                seq.len()
            )));
        }
        (
            seq.first().cloned(),
            seq.get(1).cloned(),
            seq.get(2).cloned(),
        )
    } else {
        return Err(vm.new_type_error(format!(
            "calls[{index}] must be a dict with tool_slug and arguments, not {}",
            call.class().name()
        )));
    };
    let slug = match slug.as_ref().and_then(|s| s.downcast_ref::<PyStr>()) {
        Some(s) if !s.to_string_lossy().is_empty() => s.to_string_lossy().to_uppercase(),
        _ => {
            return Err(vm.new_value_error(format!(
                "calls[{index}].tool_slug must be a non-empty string"
            )));
        }
    };
    let arguments = match arguments {
        None => Value::Object(Map::new()),
        Some(args) if vm.is_none(&args) => Value::Object(Map::new()),
        Some(args) if args.downcast_ref::<PyDict>().is_some() => to_json(&args, vm)?,
        Some(args) => {
            return Err(vm.new_type_error(format!(
                "calls[{index}].arguments must be a dict, not {}",
                args.class().name()
            )));
        }
    };
    let account = match account {
        None => Value::Null,
        Some(a) if vm.is_none(&a) => Value::Null,
        Some(a) => match a.downcast_ref::<PyStr>() {
            Some(s) => Value::String(s.to_string_lossy().into_owned()),
            None => {
                return Err(
                    vm.new_type_error(format!("calls[{index}].account must be a string or None"))
                );
            }
        },
    };
    let mut object = Map::with_capacity(3);
    object.insert("tool_slug".to_owned(), Value::String(slug));
    object.insert("arguments".to_owned(), arguments);
    object.insert("account".to_owned(), account);
    Ok(Value::Object(object))
}

fn sequence(obj: &PyObjectRef) -> Option<Vec<PyObjectRef>> {
    if let Some(tuple) = obj.downcast_ref::<PyTuple>() {
        return Some(tuple.as_slice().to_vec());
    }
    obj.downcast_ref::<PyList>()
        .map(|list| list.borrow_vec().to_vec())
}

/// One result as the host sends it; `data` stays raw JSON until it is
/// turned into Python objects.
#[derive(serde::Deserialize)]
pub struct ToolReply<'a> {
    successful: bool,
    #[serde(borrow, default)]
    data: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    error: Option<String>,
}

impl ToolReply<'_> {
    /// `({"data": data}, "")` on success, `(data or {}, message)` on failure.
    pub fn into_tuple(self, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let data = match self.data {
            Some(raw) => parse(raw.get(), vm)
                .map_err(|e| vm.new_runtime_error(format!("the host sent malformed data: {e}")))?,
            None => vm.ctx.none(),
        };
        let (result, error) = if self.successful {
            let wrapper = vm.ctx.new_dict();
            wrapper.set_item("data", data, vm)?;
            (wrapper.into(), String::new())
        } else {
            let data = if vm.is_none(&data) {
                vm.ctx.new_dict().into()
            } else {
                data
            };
            let message = self
                .error
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| "the tool call failed".to_owned());
            (data, message)
        };
        Ok(vm
            .ctx
            .new_tuple(vec![result, vm.ctx.new_str(error).into()])
            .into())
    }
}

/// Deserializes JSON straight into Python objects.
///
/// Object keys repeat (every record of a listing has the same ones), so
/// short keys are interned per parse: one `str` object (with its cached
/// hash) serves every dict that uses the key.
pub struct PySeed<'a> {
    pub vm: &'a VirtualMachine,
    pub keys: &'a KeyCache,
}

/// The per-parse key interner of [`PySeed`].
#[derive(Default)]
pub struct KeyCache {
    keys: std::cell::RefCell<std::collections::HashMap<Box<str>, PyObjectRef>>,
}

/// Keys longer than this are not interned (they rarely repeat).
const MAX_INTERNED_KEY_BYTES: usize = 64;
/// At most this many distinct keys are interned per parse.
const MAX_INTERNED_KEYS: usize = 4096;

impl KeyCache {
    fn key(&self, key: &str, vm: &VirtualMachine) -> PyObjectRef {
        if key.len() > MAX_INTERNED_KEY_BYTES {
            return vm.ctx.new_str(key).into();
        }
        let mut keys = self.keys.borrow_mut();
        if let Some(obj) = keys.get(key) {
            return obj.clone();
        }
        let obj: PyObjectRef = vm.ctx.new_str(key).into();
        if keys.len() < MAX_INTERNED_KEYS {
            keys.insert(key.into(), obj.clone());
        }
        obj
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for PySeed<'_> {
    type Value = PyObjectRef;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<PyObjectRef, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PySeed<'_> {
    type Value = PyObjectRef;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.none())
    }

    fn visit_bool<E>(self, v: bool) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_bool(v).into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_int(v).into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_int(v).into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_float(v).into())
    }

    fn visit_str<E>(self, v: &str) -> Result<PyObjectRef, E> {
        Ok(self.vm.ctx.new_str(v).into())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<PyObjectRef, A::Error> {
        let (vm, keys) = (self.vm, self.keys);
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(item) = seq.next_element_seed(PySeed { vm, keys })? {
            items.push(item);
        }
        Ok(vm.ctx.new_list(items).into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<PyObjectRef, A::Error> {
        let (vm, keys) = (self.vm, self.keys);
        let dict = vm.ctx.new_dict();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(PySeed { vm, keys })?;
            let key = keys.key(&key, vm);
            dict.set_item(&*key, value, vm)
                .map_err(|_| serde::de::Error::custom("cannot build a dict"))?;
        }
        Ok(dict.into())
    }
}

/// Parses one JSON text with a fresh key cache.
pub fn parse(text: &str, vm: &VirtualMachine) -> Result<PyObjectRef, serde_json::Error> {
    let keys = KeyCache::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde::de::DeserializeSeed::deserialize(PySeed { vm, keys: &keys }, &mut de)?;
    de.end()?;
    Ok(value)
}

/// Parses JSON text into Python objects. `None` when the text is not JSON
/// that this parser reads exactly like Python's `json` module (invalid
/// JSON, NaN/Infinity literals, integers beyond 64 bits): the caller then
/// falls back to `json.loads` for the exact result or error.
pub fn loads(text: &str, vm: &VirtualMachine) -> Option<PyObjectRef> {
    if has_long_integer(text.as_bytes()) {
        return None;
    }
    parse(text, vm).ok()
}

/// Whether the text has a run of 19 or more digits (an integer that may not
/// fit 64 bits; serde_json would read it as a float).
fn has_long_integer(bytes: &[u8]) -> bool {
    let mut run = 0;
    for &b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            if run >= 19 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}
