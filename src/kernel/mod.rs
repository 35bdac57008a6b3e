//! The kernel protocol: wire structs, opcodes and flags, named as <linux/fuse.h> names them.
//! (The full set arrives with the low-level session; this holds what the library needs today.)

/// Major version of the kernel protocol this library speaks.
pub const FUSE_KERNEL_VERSION: u32 = 7;
/// Minor version of the kernel protocol this library speaks (Linux 6.18).
pub const FUSE_KERNEL_MINOR_VERSION: u32 = 45;
