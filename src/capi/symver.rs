//! Symbol versions, declared next to each export.
//!
//! `symver!(name, "FUSE_3.0")` gives the export `name` the default version `FUSE_3.0`
//! (`name@@FUSE_3.0`). Extra string arguments add aliases, as libfuse's multi-versioned
//! functions have: `symver!(fuse_parse_cmdline_30, "FUSE_3.12", "fuse_parse_cmdline@FUSE_3.0")`
//! exports `fuse_parse_cmdline_30@@FUSE_3.12` and the old `fuse_parse_cmdline@FUSE_3.0`.
//!
//! The nodes themselves are defined in `fuse3.map`, which both cdylibs pass to the linker.
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

// libfuse's library also exports each version node as an absolute symbol (GNU ld does that for
// every node); lld does not, so define them here.
macro_rules! version_node_symbols {
    ($($node:literal),* $(,)?) => {
        $(
            ::core::arch::global_asm!(
                concat!(".globl \"", $node, "\""),
                concat!(".type \"", $node, "\", @object"),
                concat!(".set \"", $node, "\", 0"),
                concat!(".symver \"", $node, "\", \"", $node, "@@@", $node, "\""),
            );
        )*
    };
}

version_node_symbols!(
    "FUSE_3.0",
    "FUSE_3.1",
    "FUSE_3.2",
    "FUSE_3.3",
    "FUSE_3.4",
    "FUSE_3.7",
    "FUSE_3.12",
    "FUSE_3.17",
    "FUSE_3.17.3",
    "FUSE_3.18",
    "FUSE_3.19",
);
