//! Links this cdylib as `libfuse3.so.3`; the version nodes are the ones the main library uses.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rustc-link-arg=-Wl,--version-script={dir}/../src/capi/fuse3.map");
    println!("cargo:rustc-link-arg=-Wl,-soname,libfuse3.so.3");
    println!("cargo:rerun-if-changed=../src/capi/fuse3.map");
    println!("cargo:rerun-if-changed=build.rs");
}
