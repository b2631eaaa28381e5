//! The raw imports of `toolshed:host/v1`; see [`crate::abi`] for each one's
//! parameters, return value and ownership.

#[link(wasm_import_module = "toolshed:host/v1")]
unsafe extern "C" {
    pub(crate) fn call_tools(req_ptr: u32, req_len: u32, max_concurrency: u32) -> i64;
    pub(crate) fn take_reply(dst_ptr: u32, dst_len: u32) -> i32;
    pub(crate) fn write_output(stream: u32, ptr: u32, len: u32) -> i32;
    pub(crate) fn sleep(millis: u64) -> i32;
}
