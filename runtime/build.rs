//! The sandbox shell (`src/python/`) is frozen into the runtime by
//! `py_freeze!`, which reads the files at compile time: rebuild when they
//! change.

fn main() {
    println!("cargo:rerun-if-changed=src/python");
    println!("cargo:rerun-if-changed=src/driver.py");
}
