//! Pre-initialising the runtime (wasmtime-wizer) and caching the compiled
//! result on disk.
//!
//! The cache key is the runtime's SHA-256 plus a hash of everything that
//! makes compiled code incompatible (wasmtime's version and the engine's
//! configuration, from `Engine::precompile_compatibility_hash`). A second
//! start loads the file with mmap instead of pre-initialising (~10 s) and
//! compiling (~10 s) again.

use crate::error::{EngineError, wasm};
use crate::workbench::{self, Dirs};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use toolshed_guest_sdk::abi;
use wasmtime::{Engine, Linker, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;

/// The runtime built by `build.rs` from `runtime/`.
pub(crate) const RUNTIME_WASM: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/toolshed_runtime.wasm"));
/// Its SHA-256, hex.
pub(crate) const RUNTIME_SHA256: &str = env!("TOOLSHED_RUNTIME_SHA256");
/// Changes whenever the way the cached module is made changes (2: mutable
/// globals exported for checkpoints).
const SNAPSHOT_LAYOUT: u32 = 2;

/// Loads the compiled, pre-initialised runtime from the cache, building and
/// caching it first if needed.
pub(crate) fn load(engine: &Engine, cache_dir: &Path) -> Result<Module, EngineError> {
    trusted_cache_dir(cache_dir)?;
    let path = cache_path(engine, cache_dir);
    if path.exists() {
        // SAFETY: the file was written by `Module::serialize` below into our
        // own cache directory; wasmtime checks its version and configuration
        // and rejects a mismatch (then we rebuild it).
        #[allow(unsafe_code, reason = "loading our own serialized module with mmap")]
        match unsafe { Module::deserialize_file(engine, &path) } {
            Ok(module) => return Ok(module),
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "discarding unusable runtime cache")
            }
        }
    }
    tracing::info!("pre-initialising and compiling the Python runtime (first start only)");
    let snapshot = preinitialise(RUNTIME_WASM)?;
    // Exported mutable globals let a checkpoint read and restore them
    // (`crate::checkpoint`); the module is the same otherwise.
    let (_, instrumented) = wasmtime_wizer::Wizer::new()
        .instrument(&snapshot)
        .map_err(|e| EngineError::Runtime(wasm(e)))?;
    let module = Module::new(engine, &instrumented).map_err(|e| EngineError::Runtime(wasm(e)))?;
    let bytes = module
        .serialize()
        .map_err(|e| EngineError::Runtime(wasm(e)))?;
    write_atomically(&path, &bytes)?;
    prune(cache_dir, KEEP_CACHED_RUNTIMES);
    Ok(module)
}

/// Creates the cache directory (mode 0700) if needed and refuses one that
/// another user could have prepared: the compiled runtime loaded from it is
/// native code this process runs, so the directory must belong to the
/// server's user and not be writable by its group or others.
fn trusted_cache_dir(dir: &Path) -> Result<(), EngineError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let cache_err = |source| EngineError::Cache {
        path: dir.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(cache_err)?;
    let meta = std::fs::metadata(dir).map_err(cache_err)?;
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(cache_err(std::io::Error::other(format!(
            "owned by uid {}, not this server's user (uid {me}); use a cache directory of your own (TOOLSHED_CACHE_DIR)",
            meta.uid()
        ))));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(cache_err(std::io::Error::other(format!(
            "writable by its group or others (mode {:o}); run `chmod go-w` on it or use another (TOOLSHED_CACHE_DIR)",
            meta.mode() & 0o777
        ))));
    }
    Ok(())
}

/// Compiled runtimes kept in the cache (each is ~100 MB; older builds of
/// toolshed or other engine configurations may still want theirs).
const KEEP_CACHED_RUNTIMES: usize = 4;

/// Deletes all but the `keep` most recently written compiled runtimes.
fn prune(cache_dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return;
    };
    let mut cached: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("runtime-") && name.ends_with(".cwasm")
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    cached.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    for (_, path) in cached.into_iter().skip(keep) {
        if let Err(err) = std::fs::remove_file(&path) {
            tracing::debug!(path = %path.display(), error = %err, "could not prune a cached runtime");
        }
    }
}

fn cache_path(engine: &Engine, cache_dir: &Path) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    SNAPSHOT_LAYOUT.hash(&mut hasher);
    let compat = hasher.finish();
    cache_dir.join(format!(
        "runtime-{}-{compat:016x}.cwasm",
        &RUNTIME_SHA256[..16]
    ))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let cache_err = |source| EngineError::Cache {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(cache_err)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(cache_err)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(cache_err)?;
    tmp.persist(path).map_err(|e| cache_err(e.error))?;
    Ok(())
}

struct WizerState {
    wasi: WasiP1Ctx,
}

/// Starts the interpreter inside the guest and snapshots the instance, on a
/// thread of its own (wizer is async and may be called from inside another
/// runtime). Returns the pre-initialised module's bytes.
pub(crate) fn preinitialise(wasm_bytes: &'static [u8]) -> Result<Vec<u8>, EngineError> {
    let worker = std::thread::Builder::new()
        .name("toolshed-wizer".into())
        .stack_size(64 << 20)
        .spawn(move || -> Result<Vec<u8>, EngineError> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| EngineError::Runtime(Box::new(e)))?;
            runtime.block_on(wizen(wasm_bytes))
        })
        .map_err(|e| EngineError::Runtime(Box::new(e)))?;
    worker
        .join()
        .map_err(|_| EngineError::Runtime("the pre-initialisation thread panicked".into()))?
}

async fn wizen(wasm_bytes: &[u8]) -> Result<Vec<u8>, EngineError> {
    // The snapshot must see the same preopens (same order, same fds) and
    // environment as live sandboxes: wasi-libc records them during start-up.
    let home = tempfile::tempdir().map_err(|e| EngineError::Runtime(Box::new(e)))?;
    let files = tempfile::tempdir().map_err(|e| EngineError::Runtime(Box::new(e)))?;
    let dirs = Dirs {
        home: home.path().to_owned(),
        files: files.path().to_owned(),
    };
    dirs.prepare()?;
    let wasi = workbench::wasi_builder(&dirs)?.build_p1();

    let mut config = wasmtime::Config::new();
    config.max_wasm_stack(crate::engine::MAX_WASM_STACK_BYTES);
    config.async_stack_size(crate::engine::MAX_WASM_STACK_BYTES + (1 << 20));
    let engine = Engine::new(&config).map_err(|e| EngineError::Config(wasm(e)))?;
    let mut linker: Linker<WizerState> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, |s: &mut WizerState| &mut s.wasi)
        .map_err(|e| EngineError::Config(wasm(e)))?;
    let mut store = Store::new(&engine, WizerState { wasi });
    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func(abi::EXPORT_INITIALIZE);
    wizer
        .run(&mut store, wasm_bytes, async |store, module| {
            // The bridge is not used during start-up.
            linker.define_unknown_imports_as_traps(module)?;
            linker.instantiate_async(store, module).await
        })
        .await
        .map_err(|e| EngineError::Runtime(wasm(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_dirs_others_could_write_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        trusted_cache_dir(&cache).unwrap();
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(matches!(
            trusted_cache_dir(&cache),
            Err(EngineError::Cache { .. })
        ));
    }

    #[test]
    fn prune_keeps_the_newest_runtimes_only() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..6 {
            let path = dir.path().join(format!("runtime-{i}.cwasm"));
            std::fs::write(&path, b"x").unwrap();
            let time =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000 + i);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(time)
                .unwrap();
        }
        std::fs::write(dir.path().join("other.txt"), b"keep").unwrap();
        prune(dir.path(), 4);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "other.txt",
                "runtime-2.cwasm",
                "runtime-3.cwasm",
                "runtime-4.cwasm",
                "runtime-5.cwasm"
            ]
        );
    }
}
