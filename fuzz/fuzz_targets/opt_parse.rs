//! `fuse_opt_parse` through the C entry point: arbitrary arguments against a fixed table that
//! uses every template form (flags, `%s`, numeric formats, `-x %s` separate arguments, keys,
//! `-o` groups), a key callback that keeps, discards, fails or rewrites the output vector, and
//! the list helpers (`fuse_opt_add_opt`, `_escaped`, `fuse_opt_insert_arg`, `fuse_opt_match`),
//! plus `fuse_parse_cmdline`. The vector must stay well formed: `argc` entries, NULL-terminated.
//!
//! Input: byte 0 and 1 drive the callback; the rest is NUL-separated arguments.
#![no_main]

use std::ffi::{CStr, CString};
use std::mem::offset_of;
use std::ptr;

use fuse3::capi::cmdline::{fuse_cmdline_opts, fuse_parse_cmdline_312};
use fuse3::capi::fuse_opt::*;
use libc::{c_char, c_int, c_uint, c_ulong, c_void};
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;

#[repr(C)]
struct Data {
    flag: c_int,
    flag2: c_int,
    s: *mut c_char,
    sep: *mut c_char,
    u: c_uint,
    lu: c_ulong,
    i: c_int,
    o: c_uint,
    x: c_uint,
    llu: u64,
    /// What the callback does, one byte per call (cycled).
    script: [u8; 2],
    calls: u32,
}

impl Data {
    fn new(script: [u8; 2]) -> Data {
        Data {
            flag: 0,
            flag2: 0,
            s: ptr::null_mut(),
            sep: ptr::null_mut(),
            u: 0,
            lu: 0,
            i: 0,
            o: 0,
            x: 0,
            llu: 0,
            script,
            calls: 0,
        }
    }
}

const KEY_A: c_int = 10;
const KEY_B: c_int = 11;

fn opt(templ: &'static CStr, offset: usize, value: c_int) -> fuse_opt {
    fuse_opt { templ: templ.as_ptr(), offset: offset as c_ulong, value }
}

fn key(templ: &'static CStr, k: c_int) -> fuse_opt {
    fuse_opt { templ: templ.as_ptr(), offset: c_uint::MAX as c_ulong, value: k }
}

fn table() -> Vec<fuse_opt> {
    vec![
        opt(c"-f", offset_of!(Data, flag), 1),
        opt(c"--flag", offset_of!(Data, flag), 7),
        opt(c"flag2", offset_of!(Data, flag2), 1),
        opt(c"noflag2", offset_of!(Data, flag2), 0),
        opt(c"str=%s", offset_of!(Data, s), 0),
        opt(c"-s %s", offset_of!(Data, sep), 0),
        opt(c"--sep=%s", offset_of!(Data, sep), 0),
        opt(c"u=%u", offset_of!(Data, u), 0),
        opt(c"lu=%lu", offset_of!(Data, lu), 0),
        opt(c"i=%i", offset_of!(Data, i), 0),
        opt(c"o=%o", offset_of!(Data, o), 0),
        opt(c"x=%x", offset_of!(Data, x), 0),
        opt(c"llu=%llu", offset_of!(Data, llu), 0),
        opt(c"-n %u", offset_of!(Data, u), 0),
        key(c"-h", KEY_A),
        key(c"--help", KEY_A),
        key(c"keep", FUSE_OPT_KEY_KEEP),
        key(c"drop", FUSE_OPT_KEY_DISCARD),
        key(c"kv=", KEY_B),
        key(c"-k ", KEY_B),
        key(c"ro", KEY_B),
        fuse_opt { templ: ptr::null(), offset: 0, value: 0 },
    ]
}

unsafe extern "C" fn callback(
    data: *mut c_void,
    arg: *const c_char,
    _key: c_int,
    out: *mut fuse_args,
) -> c_int {
    // SAFETY: the parser hands back our Data and a valid C string and vector.
    let d = unsafe { &mut *data.cast::<Data>() };
    let _ = unsafe { CStr::from_ptr(arg) }.to_bytes().len();
    let b = d.script[(d.calls % 2) as usize] >> (2 * (d.calls / 2 % 4));
    d.calls += 1;
    match b & 3 {
        0 => 0,
        1 => 1,
        2 => {
            if d.calls > 3 {
                -1
            } else {
                1
            }
        }
        _ => {
            // Rewrite the output vector from inside the callback, as some programs do.
            // SAFETY: `out` is the parser's output vector; `arg` a C string.
            unsafe {
                if fuse_opt_add_arg(out, arg) != 0 {
                    return -1;
                }
                if fuse_opt_insert_arg(out, 1, c"-oinserted".as_ptr()) != 0 {
                    return -1;
                }
            }
            0
        }
    }
}

/// The vector is well formed: `argc` non-NULL strings, then NULL.
fn check(args: &fuse_args) {
    assert!(args.argc >= 0);
    if args.argv.is_null() {
        assert_eq!(args.argc, 0);
        return;
    }
    for i in 0..args.argc as usize {
        // SAFETY: argc entries by the invariant being checked.
        let a = unsafe { *args.argv.add(i) };
        assert!(!a.is_null(), "argv[{i}] NULL within argc");
        let _ = unsafe { CStr::from_ptr(a) }.to_bytes();
    }
    // SAFETY: the terminator slot.
    assert!(unsafe { *args.argv.add(args.argc as usize) }.is_null(), "argv not NULL-terminated");
}

/// A malloc'd argument vector, as programs hand to the parser when `allocated` is set.
fn make_args(strings: &[Vec<u8>]) -> fuse_args {
    let mut args = fuse_args { argc: 0, argv: ptr::null_mut(), allocated: 0 };
    for s in strings {
        let c = CString::new(s.clone()).expect("no NUL");
        // SAFETY: a valid vector and C string.
        assert_eq!(unsafe { fuse_opt_add_arg(&mut args, c.as_ptr()) }, 0);
    }
    args
}

fn free_str(p: &mut *mut c_char) {
    // SAFETY: the parser stores malloc'd strings (or NULL).
    unsafe { libc::free(p.cast()) };
    *p = ptr::null_mut();
}

fuzz_target!(|input: &[u8]| {
    common::quiet();
    if input.len() < 2 {
        return;
    }
    let strings = common::split_nul(&input[2..], 32);
    let tab = table();

    // fuse_opt_parse with our table and callback.
    let mut data = Data::new([input[0], input[1]]);
    let mut args = make_args(&strings);
    let before = args.argc;
    // SAFETY: a valid vector, a terminated table whose offsets name fields of the right types.
    let rc =
        unsafe { fuse_opt_parse(&mut args, (&raw mut data).cast(), tab.as_ptr(), Some(callback)) };
    assert!(rc == 0 || rc == -1, "rc {rc}");
    if rc == -1 {
        assert_eq!(args.argc, before, "args changed by a failed parse");
    }
    check(&args);
    for i in 0..args.argc as usize {
        // SAFETY: checked above.
        let a = unsafe { CStr::from_ptr(*args.argv.add(i)) };
        // SAFETY: a terminated table and a C string.
        let _ = unsafe { fuse_opt_match(tab.as_ptr(), a.as_ptr()) };
    }
    free_str(&mut data.s);
    free_str(&mut data.sep);
    // SAFETY: ours to free.
    unsafe { fuse_opt_free_args(&mut args) };

    // The same arguments with no table and no callback (everything kept).
    let mut args = make_args(&strings);
    // SAFETY: NULL table and callback are allowed.
    let rc = unsafe { fuse_opt_parse(&mut args, ptr::null_mut(), ptr::null(), None) };
    assert!(rc == 0 || rc == -1);
    check(&args);
    unsafe { fuse_opt_free_args(&mut args) };

    // Option lists: each argument appended plainly and escaped.
    let mut list: *mut c_char = ptr::null_mut();
    let mut esc: *mut c_char = ptr::null_mut();
    for s in &strings {
        let c = CString::new(s.clone()).expect("no NUL");
        // SAFETY: NULL or malloc'd lists; a C string.
        unsafe {
            assert_eq!(fuse_opt_add_opt(&mut list, c.as_ptr()), 0);
            assert_eq!(fuse_opt_add_opt_escaped(&mut esc, c.as_ptr()), 0);
        }
    }
    free_str(&mut list);
    free_str(&mut esc);

    // fuse_parse_cmdline on the same arguments (argv[0] first).
    let mut args = make_args(&strings);
    if args.argc > 0 {
        // SAFETY: all-zero is a valid value of the options struct.
        let mut opts: fuse_cmdline_opts = unsafe { std::mem::zeroed() };
        // SAFETY: a valid vector and options struct.
        let rc = unsafe { fuse_parse_cmdline_312(&mut args, &mut opts) };
        assert!(rc == 0 || rc == -1);
        check(&args);
        free_str(&mut opts.mountpoint);
    }
    unsafe { fuse_opt_free_args(&mut args) };
});
