//! Process-wide engine settings.

use std::path::PathBuf;
use std::time::Duration;

/// How often the epoch ticker advances. Deadlines are checked at this
/// granularity, so a cell overruns its deadline by at most about one tick
/// before it is interrupted.
pub const DEFAULT_EPOCH_TICK: Duration = Duration::from_millis(10);

/// Default number of sandboxes that can be live at once: one pool slot (a
/// reserved, copy-on-write memory region) each.
pub const DEFAULT_MAX_SANDBOXES: u32 = 1000;

/// The largest linear memory any sandbox may have. A sandbox's own
/// [`crate::Limits::max_memory_bytes`] may be lower, never higher. This is
/// address space reserved per pool slot, not committed memory.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 4 << 30;

/// Settings shared by every sandbox of one [`crate::Engine`].
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Where the compiled, pre-initialised runtime is cached.
    pub cache_dir: PathBuf,
    /// How many sandboxes may be live at once.
    pub max_sandboxes: u32,
    /// Upper bound of any sandbox's memory limit.
    pub max_memory_bytes: u64,
    /// The deadline-check granularity.
    pub epoch_tick: Duration,
    /// Write `/tmp/perf-<pid>.map` so that `perf record` names the compiled
    /// guest functions (profiling only; see docs/BENCHMARKS.md).
    pub perf_map: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            cache_dir: default_cache_dir(),
            max_sandboxes: DEFAULT_MAX_SANDBOXES,
            max_memory_bytes: DEFAULT_MAX_MEMORY_BYTES,
            epoch_tick: DEFAULT_EPOCH_TICK,
            perf_map: false,
        }
    }
}

/// `$TOOLSHED_CACHE_DIR`, else `$XDG_CACHE_HOME/toolshed`, else
/// `$HOME/.cache/toolshed`, else a folder in the system temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TOOLSHED_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("toolshed");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".cache").join("toolshed");
    }
    std::env::temp_dir().join("toolshed-cache")
}
