//! Mirrors the command-line helpers of <fuse_lowlevel.h>: `struct fuse_cmdline_opts`,
//! `fuse_parse_cmdline` in its 3.0 and 3.12 forms, and the two help printers.
//!
//! The parsing is [`crate::opt::cmdline`]; this layer keeps the argument vector in C memory,
//! resolves the mountpoint with `realpath(3)` and fills the caller's struct.
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_uint};
use std::ffi::{CStr, CString};
use std::ptr;

use super::fuse_opt::{CArgs, free_args, fuse_args, log_error, read_args};
use crate::opt::ArgVec;
use crate::opt::cmdline::{CmdlineOpts, default_subtype_arg, parse_cmdline};

/// What `fuse_parse_cmdline` found on the command line.
#[repr(C)]
pub struct fuse_cmdline_opts {
    /// `-s`: run the session loop in one thread.
    pub singlethread: c_int,
    /// `-f` (or `-d`): do not daemonize.
    pub foreground: c_int,
    /// `-d` or `-o debug`.
    pub debug: c_int,
    /// Set when `-o fsname=` or `-o subtype=` was given, so no default subtype was added.
    pub nodefault_subtype: c_int,
    /// The mountpoint, absolute, `malloc`'d (the caller frees it), or NULL.
    pub mountpoint: *mut c_char,
    /// `-V` or `--version`.
    pub show_version: c_int,
    /// `-h` or `--help`.
    pub show_help: c_int,
    /// `-o clone_fd`: one device fd per worker thread.
    pub clone_fd: c_int,
    /// `-o max_idle_threads=N`; no limit (`UINT_MAX`) by default.
    pub max_idle_threads: c_uint,
    /// `-o max_threads=N` (10 by default). Since 3.12; older callers' structs end before it.
    pub max_threads: c_uint,
}

const _: () = assert!(std::mem::size_of::<fuse_cmdline_opts>() == 48);
const _: () = assert!(std::mem::offset_of!(fuse_cmdline_opts, max_threads) == 40);

/// `realpath(3)` with a `PATH_MAX` buffer, as libfuse calls it; errors as `strerror` text.
fn realpath(path: &[u8]) -> Result<Vec<u8>, String> {
    let c = CString::new(path).map_err(|_| "Invalid argument".to_string())?;
    let mut buf = vec![0 as c_char; libc::PATH_MAX as usize];
    // SAFETY: c is a C string; buf has PATH_MAX bytes, as realpath requires.
    let r = unsafe { libc::realpath(c.as_ptr(), buf.as_mut_ptr()) };
    if r.is_null() {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        return Err(strerror(errno));
    }
    // SAFETY: on success buf holds a C string.
    Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_bytes().to_vec())
}

/// The C library's text for `errno`.
fn strerror(errno: c_int) -> String {
    let mut buf = [0 as c_char; 256];
    // SAFETY: buf is writable for its length; the XSI strerror_r NUL-terminates on success.
    if unsafe { libc::strerror_r(errno, buf.as_mut_ptr(), buf.len()) } != 0 {
        return format!("Unknown error {errno}");
    }
    // SAFETY: NUL-terminated by strerror_r.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

/// Parse `args` in place as libfuse's 3.12 `fuse_parse_cmdline` does. Returns the options and
/// whether it succeeded (errors already logged).
///
/// # Safety
/// `args` is NULL or a valid vector (see `fuse_opt_parse`).
unsafe fn parse(args: *mut fuse_args) -> (CmdlineOpts, bool) {
    // SAFETY: NULL or valid (contract).
    let args = match unsafe { args.as_mut() } {
        Some(a) if !a.argv.is_null() && a.argc > 0 => a,
        _ => {
            crate::log::err("fuse: no arguments to parse, not even a program name\n");
            return (CmdlineOpts::default(), false);
        }
    };
    // SAFETY: argv is non-NULL with argc > 0 slots.
    let input = match unsafe { read_args(args) } {
        Ok(v) => v,
        Err(e) => {
            log_error(&e);
            return (CmdlineOpts::default(), false);
        }
    };
    let mut out = fuse_args { argc: 0, argv: ptr::null_mut(), allocated: 0 };
    let (opts, res) = {
        // SAFETY: an empty vector satisfies CArgs's contract.
        let mut o = unsafe { CArgs::new(&mut out) };
        parse_cmdline(&input, &mut o, &mut realpath)
    };
    let ok = match res {
        Ok(()) => {
            std::mem::swap(args, &mut out);
            true
        }
        Err(e) => {
            log_error(&e);
            false
        }
    };
    // SAFETY: `out` is our vector or the caller's old one, valid either way.
    unsafe { free_args(&mut out) };
    if !ok {
        return (opts, false);
    }
    if opts.nodefault_subtype == 0 {
        let sub = default_subtype_arg(&input[0]);
        // SAFETY: args now holds the vector built by the parse.
        if let Err(e) = unsafe { CArgs::new(args) }.push(&sub) {
            log_error(&e);
            return (opts, false);
        }
    }
    (opts, true)
}

/// A `malloc`'d copy of the mountpoint, or NULL.
fn mountpoint_ptr(o: &CmdlineOpts) -> *mut c_char {
    let Some(m) = &o.mountpoint else { return ptr::null_mut() };
    let Ok(c) = CString::new(m.as_slice()) else { return ptr::null_mut() };
    // SAFETY: c is a C string; strdup returns malloc memory the caller will free.
    unsafe { libc::strdup(c.as_ptr()) }
}

/// Write the fields every version of the struct has (the first 40 bytes).
///
/// # Safety
/// `p` points to a writable struct of at least 40 bytes.
unsafe fn store_common(p: *mut fuse_cmdline_opts, o: &CmdlineOpts) {
    // SAFETY: every field written lies in the first 40 bytes (contract); no reference to the
    // whole struct is made, since an old caller's struct is shorter than ours.
    unsafe {
        (&raw mut (*p).singlethread).write(o.singlethread);
        (&raw mut (*p).foreground).write(o.foreground);
        (&raw mut (*p).debug).write(o.debug);
        (&raw mut (*p).nodefault_subtype).write(o.nodefault_subtype);
        (&raw mut (*p).mountpoint).write(mountpoint_ptr(o));
        (&raw mut (*p).show_version).write(o.show_version);
        (&raw mut (*p).show_help).write(o.show_help);
        (&raw mut (*p).clone_fd).write(o.clone_fd);
        (&raw mut (*p).max_idle_threads).write(o.max_idle_threads);
    }
}

/// Parse the common command-line options of a simple filesystem (see `fuse_cmdline_help`)
/// and its mountpoint, the first non-option, into `opts`. Recognised options are removed from
/// `args`, except `-d`/`-o debug`, `-o fsname=` and `-o subtype=`; unless one of the last two
/// was given, `-osubtype=<program name>` is appended. Returns 0, or -1 on error (logged).
///
/// # Safety
/// `args` is a valid vector with the program name first; `opts` points to a writable
/// 3.12-sized `struct fuse_cmdline_opts`. The caller frees `opts->mountpoint`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_parse_cmdline_312(
    args: *mut fuse_args,
    opts: *mut fuse_cmdline_opts,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { parse_cmdline_312(args, opts) }
}

/// The body of [`fuse_parse_cmdline_312`], for Rust callers: calling the export itself from another
/// module can separate it from its `.symver` directives in release builds.
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn parse_cmdline_312(
    args: *mut fuse_args,
    opts: *mut fuse_cmdline_opts,
) -> c_int {
    crate::ffi_guard!(-1, {
        if opts.is_null() {
            crate::log::err("fuse: fuse_parse_cmdline: NULL options struct\n");
            return -1;
        }
        // SAFETY: forwarded contract.
        let (o, ok) = unsafe { parse(args) };
        // SAFETY: opts is a full-sized struct (contract); as libfuse, what was found is left
        // there even on failure.
        unsafe {
            store_common(opts, &o);
            (&raw mut (*opts).max_threads).write(o.max_threads);
        }
        if ok { 0 } else { -1 }
    })
}
crate::symver!(fuse_parse_cmdline_312, "FUSE_3.12", "fuse_parse_cmdline@@FUSE_3.12");

/// As `fuse_parse_cmdline_312`, for callers built before 3.12: their struct ends before
/// `max_threads`, which is never written. `opts` is only written on success.
///
/// # Safety
/// `args` is a valid vector with the program name first; `opts` points to at least the
/// pre-3.12 part of `struct fuse_cmdline_opts` (40 bytes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_parse_cmdline_30(
    args: *mut fuse_args,
    opts: *mut fuse_cmdline_opts,
) -> c_int {
    crate::ffi_guard!(-1, {
        if opts.is_null() {
            crate::log::err("fuse: fuse_parse_cmdline: NULL options struct\n");
            return -1;
        }
        // SAFETY: forwarded contract.
        let (o, ok) = unsafe { parse(args) };
        if !ok {
            return -1;
        }
        // SAFETY: opts has the 40-byte prefix (contract).
        unsafe { store_common(opts, &o) };
        0
    })
}
crate::symver!(fuse_parse_cmdline_30, "FUSE_3.12", "fuse_parse_cmdline@FUSE_3.0");

/// Print through C's stdout, so the text stays in order with the program's own `printf`s.
pub(crate) fn c_print(text: &str) {
    let Ok(c) = CString::new(text) else { return };
    // SAFETY: "%s" takes one C string, which `c` keeps alive.
    unsafe { libc::printf(c"%s".as_ptr(), c.as_ptr()) };
}

// No `\` line continuation before the first line: it would eat that line's indentation.
const CMDLINE_HELP: &str = "    -h   --help            show this help and exit
    -V   --version         show version information and exit
    -d   -o debug          log every request (also implies -f)
    -f                     stay in the foreground
    -s                     serve requests from a single thread
    -o clone_fd            give each worker thread its own /dev/fuse descriptor
    -o max_idle_threads=N  keep at most N idle worker threads
                           (default: no limit)
    -o max_threads=N       start at most N worker threads
                           (default: 10)
";

const LOWLEVEL_HELP: &str = "    -o allow_other         let every user access the filesystem
    -o allow_root          let root access it as well as the owner
    -o auto_unmount        unmount when the filesystem process ends
    -o io_uring            take requests over FUSE-over-io_uring
    -o no_io_uring         read /dev/fuse (io_uring is the multithreaded
                           loop's default where the kernel offers it)
    -o io_uring_q_depth=N  depth of each io_uring queue
";

/// Print the options `fuse_parse_cmdline` understands, one per line, to stdout.
///
/// # Safety
/// None beyond C's stdout being usable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_cmdline_help() {
    crate::ffi_guard!((), { c_print(CMDLINE_HELP) })
}
crate::symver!(fuse_cmdline_help, "FUSE_3.0");

/// Print the session options of most interest to users (`-o allow_other` and so on) to stdout.
///
/// # Safety
/// None beyond C's stdout being usable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_lowlevel_help() {
    crate::ffi_guard!((), { c_print(LOWLEVEL_HELP) })
}
crate::symver!(fuse_lowlevel_help, "FUSE_3.0");
