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
