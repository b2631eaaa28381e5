//! Measures what running a shell command as its own wasm instance would
//! cost (issue: the workbench shell; docs/SHELL.md): start-up and run time
//! of a WASI command module (for example uutils' `coreutils.wasm`
//! multicall binary) instantiated per call with the pooling allocator, a
//! preopened directory and in-memory stdout, as the engine would do it.
//!
//! Usage: cargo run --release -p toolshed-engine --example wasi_command --
//!            MODULE.wasm DIR RUNS ARG...

use std::time::Instant;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig, Store,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

fn main() -> wasmtime::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module_path, dir, runs, command @ ..] = args.as_slice() else {
        eprintln!("usage: wasi_command MODULE.wasm DIR RUNS ARG...");
        std::process::exit(2);
    };
    let runs: usize = runs.parse()?;
    let mut config = Config::new();
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(16)
        .total_memories(16)
        .max_memory_size(256 << 20);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config.memory_init_cow(true);
    let engine = Engine::new(&config)?;
    let compiled = Instant::now();
    let module = Module::from_file(&engine, module_path)?;
    println!("compile: {:.1} ms", compiled.elapsed().as_secs_f64() * 1e3);
    let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s| s)?;
    let pre = linker.instantiate_pre(&module)?;
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let stdout = MemoryOutputPipe::new(64 << 20);
        let wasi = WasiCtxBuilder::new()
            .args(
                &std::iter::once("coreutils".to_owned())
                    .chain(command.iter().cloned())
                    .collect::<Vec<_>>(),
            )
            .stdout(stdout.clone())
            .preopened_dir(dir, ".", FsPerms::ReadWrite)?
            .build_p1();
        let mut store = Store::new(&engine, wasi);
        let instance = pre.instantiate(&mut store)?;
        let run = instance.get_typed_func::<(), ()>(&mut store, "_start")?;
        // A command ends with proc_exit: status 0 is success.
        if let Err(err) = run.call(&mut store, ())
            && err
                .downcast_ref::<wasmtime_wasi::I32Exit>()
                .is_none_or(|e| e.0 != 0)
        {
            return Err(err);
        }
        drop(store);
        bytes = stdout.contents().len();
        if runs == 1 {
            print!("{}", String::from_utf8_lossy(&stdout.contents()));
        }
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} runs of {:?}: median {:.3} ms, min {:.3} ms, stdout {} bytes",
        runs,
        command,
        times[times.len() / 2],
        times[0],
        bytes
    );
    Ok(())
}
