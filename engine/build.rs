//! Builds the Python guest (`runtime/`, its own workspace) for
//! `wasm32-wasip1` and hands the engine its path and hash.
//!
//! Set `TOOLSHED_RUNTIME_WASM=/path/to/toolshed_runtime.wasm` to use a
//! prebuilt guest instead.

use sha2::{Digest, Sha256};
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=TOOLSHED_RUNTIME_WASM");
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("engine/ sits in the workspace root");
    let runtime_dir = root.join("runtime");

    let wasm = match env::var_os("TOOLSHED_RUNTIME_WASM") {
        Some(path) => PathBuf::from(path),
        None => build_runtime(root, &runtime_dir),
    };
    let bytes = std::fs::read(&wasm)
        .unwrap_or_else(|e| panic!("cannot read the runtime at {}: {e}", wasm.display()));
    let hash = Sha256::digest(&bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();

    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let dest = out.join("toolshed_runtime.wasm");
    // Copy rather than point at the runtime's target dir, so the embedded
    // bytes and the hash always agree.
    std::fs::write(&dest, &bytes).expect("write the runtime into OUT_DIR");
    println!("cargo:rustc-env=TOOLSHED_RUNTIME_SHA256={hex}");
}

fn build_runtime(root: &Path, runtime_dir: &Path) -> PathBuf {
    // Relative to this package (cargo resolves them against the checkout
    // being built): with absolute paths, a target directory shared by two
    // checkouts (CARGO_TARGET_DIR) kept watching the first one's files, and
    // the other checkout's builds embedded a stale runtime.
    for path in [
        "../runtime/src",
        "../runtime/build.rs",
        "../runtime/Cargo.toml",
        "../runtime/Cargo.lock",
        "../runtime/.cargo/config.toml",
        "../guest-sdk/src",
        "../guest-sdk/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={path}");
    }

    check_target_installed();

    let target_dir = match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("toolshed-runtime"),
        None => root.join("target").join("toolshed-runtime"),
    };
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(runtime_dir)
        .args(["build", "--release", "--locked", "--ignore-rust-version"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags and target settings are for the host; the guest
    // has its own (.cargo/config.toml).
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_PKG_NAME",
    ] {
        cmd.env_remove(var);
    }
    for (key, _) in env::vars_os() {
        if key.to_string_lossy().starts_with("CARGO_FEATURE_")
            || key.to_string_lossy().starts_with("CARGO_CFG_")
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("failed to run cargo to build runtime/: {e}"));
    if !status.success() {
        panic!(
            "building the Python runtime (runtime/) for wasm32-wasip1 failed; \
             if the target is missing, run `rustup target add wasm32-wasip1`"
        );
    }
    target_dir.join("wasm32-wasip1/release/toolshed_runtime.wasm")
}

/// Opt-out of installing the wasm target automatically.
const NO_TARGET_ADD_VAR: &str = "TOOLSHED_NO_TARGET_ADD";
/// The guest's target.
const WASM_TARGET: &str = "wasm32-wasip1";

/// Makes sure the toolchain building us has the wasm target. When it is
/// missing and the toolchain is managed by rustup, adds it (as wasm-pack
/// does) unless `TOOLSHED_NO_TARGET_ADD` is set; otherwise fails saying
/// exactly what to install.
fn check_target_installed() {
    println!("cargo:rerun-if-env-changed={NO_TARGET_ADD_VAR}");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let Some(sysroot) = sysroot else {
        // Cannot tell; the nested build reports a missing target itself.
        return;
    };
    let lib = sysroot.join("lib/rustlib").join(WASM_TARGET);
    if lib.exists() {
        return;
    }
    if env::var_os(NO_TARGET_ADD_VAR).is_some() {
        panic!(
            "the {WASM_TARGET} target is not installed for the toolchain at {}; \
             run `rustup target add {WASM_TARGET}` (unset {NO_TARGET_ADD_VAR} to let the build do it)",
            sysroot.display()
        );
    }
    let mut rustup = Command::new("rustup");
    rustup.args(["target", "add", WASM_TARGET]);
    // Inside a rustup-managed build this names the toolchain being used,
    // which may not be the default one.
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        rustup.arg("--toolchain").arg(toolchain);
    }
    match rustup.status() {
        Ok(status) if status.success() && lib.exists() => {
            println!("cargo:warning=installed the {WASM_TARGET} target with rustup");
        }
        Ok(status) => panic!(
            "`rustup target add {WASM_TARGET}` failed ({status}); run it yourself, \
             or install the {WASM_TARGET} standard library for the toolchain at {}",
            sysroot.display()
        ),
        Err(_) => panic!(
            "the {WASM_TARGET} target is not installed for the toolchain at {} and rustup \
             was not found. Install rustup (https://rustup.rs) and run \
             `rustup target add {WASM_TARGET}`, or install your distribution's \
             {WASM_TARGET} Rust standard library package, \
             or set TOOLSHED_RUNTIME_WASM to a prebuilt runtime",
            sysroot.display()
        ),
    }
}
