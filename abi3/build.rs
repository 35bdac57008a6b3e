//! Links this cdylib as `libfuse3.so.3`: the version nodes the main library uses, with the
//! pre-3.17 versions of the names whose default changed in 3.17 (`build/image_symbols.rs`).
#[path = "../build/image_symbols.rs"]
mod image_symbols;

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    image_symbols::link_args(&dir.join("../src/capi"), "so3", &out);
    println!("cargo:rustc-link-arg=-Wl,-soname,libfuse3.so.3");
    println!("cargo:rerun-if-changed=../build/image_symbols.rs");
    println!("cargo:rerun-if-changed=build.rs");
}
