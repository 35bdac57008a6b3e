//! Symbol versions, declared next to each export.
//!
//! `symver!(name, "FUSE_3.0")` gives the export `name` the default version `FUSE_3.0`
//! (`name@@FUSE_3.0`). Extra string arguments add aliases, as libfuse's multi-versioned
//! functions have: `symver!(fuse_parse_cmdline_30, "FUSE_3.12", "fuse_parse_cmdline@FUSE_3.0")`
//! exports `fuse_parse_cmdline_30@@FUSE_3.12` and the old `fuse_parse_cmdline@FUSE_3.0`.
//!
//! The nodes themselves are defined in `fuse3.map`, which both cdylibs pass to the linker;
//! the absolute `FUSE_3.x@@FUSE_3.x` symbols libfuse also exports come from `shim.c`.
//! `@@@` renames the symbol in the object file, so nothing is left unversioned.
//!
//! A few names have a different default version in each image, because libfuse 3.17 changed
//! them (3.14 has `fuse_new@@FUSE_3.1`, 3.17+ only `fuse_new@FUSE_3.1`). The shared objects
//! cannot carry those, so they are written as
//! `image_symver!(fuse_new_31, so3 = "fuse_new@@FUSE_3.1", so4 = "fuse_new@FUSE_3.1")`, which
//! `build/image_symbols.rs` reads from this directory to have the linker define them per image
//! (`so3`: `libfuse3.so.3`, `so4`: `libfuse3.so.4`).

/// Attach symbol versions to an `#[unsafe(no_mangle)]` export. See the module docs.
#[macro_export]
#[doc(hidden)]
macro_rules! symver {
    ($sym:ident, $node:literal $(, $alias:literal)* $(,)?) => {
        ::core::arch::global_asm!(
            $( concat!(".symver ", stringify!($sym), ", ", $alias), )*
            concat!(".symver ", stringify!($sym), ", ", stringify!($sym), "@@@", $node),
        );
    };
}

/// Names the aliases of an export that only one image has (see the module docs). The build
/// scripts read the invocation's text; the macro itself only checks that the function exists
/// and that each image is `so3` or `so4`.
#[macro_export]
#[doc(hidden)]
macro_rules! image_symver {
    ($sym:ident $(, $image:ident = $alias:literal)+ $(,)?) => {
        $( $crate::image_symver!(@image $image); )+
        const _: () = {
            let _ = $sym;
        };
    };
    (@image so3) => {};
    (@image so4) => {};
}
