//! Mirrors <fuse_opt.h>: option templates, argument vectors, key callbacks.
//!
//! The matching itself is [`crate::opt`]; this layer reads the C tables, keeps the argument
//! vectors in `malloc` memory (programs free and grow them with the C allocator), calls the C
//! callback, and stores into the caller's data the way libfuse does (`sscanf` for formats).
#![allow(non_camel_case_types)]

use libc::{c_char, c_int, c_ulong, c_void};
use std::ffi::{CStr, CString};
use std::ptr;

use crate::opt::{self, ArgSrc, ArgVec, Handler, OptError, OptSpec};

/// One entry of an option table. A table ends with an entry whose `templ` is NULL.
///
/// `templ` is the pattern: `-x` or `--name` (itself only), `name` (inside `-o` lists),
/// `name=` or `-x ` (with a parameter), and those followed by a scanf format such as
/// `name=%s` or `-x %u` (the parameter is converted and stored). On a match, `value` is stored
/// as an int at `offset` in the parse's `data` (or the converted parameter is), unless
/// `offset` is `-1U`: then the key callback is called with `value` as its key.
#[repr(C)]
pub struct fuse_opt {
    /// The matching template, with an optional format.
    pub templ: *const c_char,
    /// Offset of the target in `data`, or `-1U` to call the key callback instead.
    pub offset: c_ulong,
    /// The int to store, or the key for the callback.
    pub value: c_int,
}

/// An argument vector: `argv` holds `argc` strings and a NULL.
#[repr(C)]
pub struct fuse_args {
    /// Number of arguments.
    pub argc: c_int,
    /// The arguments, NULL-terminated.
    pub argv: *mut *mut c_char,
    /// Nonzero if `argv` and its strings are the library's to free (with `malloc`'s `free`).
    pub allocated: c_int,
}

/// Key of an option that no template matched.
pub const FUSE_OPT_KEY_OPT: c_int = -1;

/// Key of a non-option: an argument not starting with `-`, or any argument after `--`.
pub const FUSE_OPT_KEY_NONOPT: c_int = -2;

/// Template key: keep the argument in the output, without calling the callback.
pub const FUSE_OPT_KEY_KEEP: c_int = -3;

/// Template key: drop the argument, without calling the callback.
pub const FUSE_OPT_KEY_DISCARD: c_int = -4;

/// The key callback of `fuse_opt_parse`. It gets the parse's `data`, the argument (an `-o`
/// member without the `-o`; a `-x param` pair joined as `-xparam`), the key, and the output
/// vector built so far, which it may extend. It returns -1 to fail the parse, 0 to drop the
/// argument, 1 to keep it.
pub type fuse_opt_proc_t = Option<
    unsafe extern "C" fn(
        data: *mut c_void,
        arg: *const c_char,
        key: c_int,
        outargs: *mut fuse_args,
    ) -> c_int,
>;

const _: () = assert!(std::mem::size_of::<fuse_opt>() == 24);
const _: () = assert!(std::mem::size_of::<fuse_args>() == 24);

/// The offset `FUSE_OPT_KEY` puts in a table (`-1U`). `(unsigned long)-1` is taken as a key
/// too: libfuse would store one byte before `data` there.
const KEY_OFFSETS: [c_ulong; 2] = [u32::MAX as c_ulong, c_ulong::MAX];

/// Log an error's `fuse: ...` line, if it has one.
pub(crate) fn log_error(e: &OptError) {
    if let Some(m) = e.message() {
        crate::log::err(&String::from_utf8_lossy(&m));
    }
}

/// A C `struct fuse_args` seen as an [`ArgVec`]; edits use the C allocator, as libfuse's do.
pub(crate) struct CArgs<'a>(&'a mut fuse_args);

impl<'a> CArgs<'a> {
    /// # Safety
    /// `args.argv` is NULL or points to `args.argc` (if positive) valid C strings followed by a
    /// slot that may be written; if `args.allocated` is nonzero, the array and the strings come
    /// from `malloc`.
    pub(crate) unsafe fn new(args: &'a mut fuse_args) -> Self {
        CArgs(args)
    }

    /// The vector as C sees it, for the key callback.
    fn as_ptr(&mut self) -> *mut fuse_args {
        ptr::from_mut(&mut *self.0)
    }
}

impl ArgVec for CArgs<'_> {
    fn len(&self) -> usize {
        if self.0.argv.is_null() { 0 } else { usize::try_from(self.0.argc).unwrap_or(0) }
    }

    fn get(&self, i: usize) -> Option<Vec<u8>> {
        if i >= self.len() {
            return None;
        }
        // SAFETY: i < argc and argv is non-NULL, so the slot is valid (CArgs::new's contract).
        let p = unsafe { *self.0.argv.add(i) };
        // SAFETY: a non-NULL slot below argc holds a C string (CArgs::new's contract).
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
    }

    fn push(&mut self, arg: &[u8]) -> Result<(), OptError> {
        let a = &mut *self.0;
        if !a.argv.is_null() && a.allocated == 0 {
            return Err(OptError::Other(
                b"fuse: cannot add to an argument vector the library did not allocate\n".to_vec(),
            ));
        }
        let argc = usize::try_from(a.argc).map_err(|_| {
            OptError::Other(format!("fuse: bad argument count {}\n", a.argc).into_bytes())
        })?;
        let copy = c_dup(arg).ok_or(OptError::Alloc)?;
        // SAFETY: argv is NULL or a malloc'd array (checked above); the new size holds argc
        // strings, the new one and the terminating NULL.
        let argv = unsafe { libc::realloc(a.argv.cast(), (argc + 2) * size_of::<*mut c_char>()) }
            .cast::<*mut c_char>();
        if argv.is_null() {
            // SAFETY: `copy` came from malloc above and is not referenced anywhere else.
            unsafe { libc::free(copy.cast()) };
            return Err(OptError::Alloc);
        }
        // SAFETY: the array has argc + 2 slots.
        unsafe {
            *argv.add(argc) = copy;
            *argv.add(argc + 1) = ptr::null_mut();
        }
        a.argv = argv;
        a.allocated = 1;
        a.argc += 1;
        Ok(())
    }

    fn insert(&mut self, pos: usize, arg: &[u8]) -> Result<(), OptError> {
        let n = self.len();
        if pos > n {
            let m = format!("fuse: no position {pos} in {n} arguments\n");
            return Err(OptError::Other(m.into_bytes()));
        }
        self.push(arg)?;
        // SAFETY: after the push argv has n + 1 valid slots; rotating [pos, n] stays inside.
        let slots = unsafe { std::slice::from_raw_parts_mut(self.0.argv, n + 1) };
        slots[pos..].rotate_right(1);
        Ok(())
    }

    fn pop(&mut self) {
        let n = self.len();
        if n == 0 {
            return;
        }
        let a = &mut *self.0;
        // SAFETY: slot n - 1 is valid and slot n is the terminator.
        unsafe {
            let last = a.argv.add(n - 1);
            if a.allocated != 0 {
                libc::free((*last).cast());
            }
            *last = ptr::null_mut();
        }
        a.argc -= 1;
    }
}

/// A `malloc`'d NUL-terminated copy of `s` (which holds no NUL), or `None` when out of memory.
fn c_dup(s: &[u8]) -> Option<*mut c_char> {
    // SAFETY: malloc of len + 1 bytes; we write exactly that many.
    let p = unsafe { libc::malloc(s.len() + 1) }.cast::<u8>();
    if p.is_null() {
        return None;
    }
    // SAFETY: p has room for s and the NUL; the regions cannot overlap (fresh allocation).
    unsafe {
        ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        *p.add(s.len()) = 0;
    }
    Some(p.cast())
}

/// Free what a `struct fuse_args` owns and empty it.
///
/// # Safety
/// As for [`CArgs::new`].
pub(crate) unsafe fn free_args(args: &mut fuse_args) {
    if !args.argv.is_null() && args.allocated != 0 {
        for i in 0..usize::try_from(args.argc).unwrap_or(0) {
            // SAFETY: slots below argc are valid and, with `allocated`, malloc'd or NULL.
            unsafe { libc::free((*args.argv.add(i)).cast()) };
        }
        // SAFETY: the array is malloc'd (allocated is set).
        unsafe { libc::free(args.argv.cast()) };
    }
    args.argc = 0;
    args.argv = ptr::null_mut();
    args.allocated = 0;
}

/// Copy the input arguments. A negative count reads just `argv[0]`, as libfuse does.
///
/// # Safety
/// `args.argv` is non-NULL and holds `max(args.argc, 1)` slots.
pub(crate) unsafe fn read_args(args: &fuse_args) -> Result<Vec<Vec<u8>>, OptError> {
    let n = usize::try_from(args.argc).unwrap_or(1);
    (0..n)
        .map(|i| {
            // SAFETY: i < n, within the caller's promise.
            let p = unsafe { *args.argv.add(i) };
            if p.is_null() {
                return Err(OptError::Other(
                    format!("fuse: argument {i} of {n} is NULL\n").into_bytes(),
                ));
            }
            // SAFETY: non-NULL argument strings are C strings.
            Ok(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
        })
        .collect()
}

/// Read a C option table up to its NULL template; `None` targets are key entries.
///
/// # Safety
/// `opts` is NULL or points to entries ending with a NULL `templ`, whose templates are C
/// strings that outlive `'a`.
unsafe fn read_specs<'a>(opts: *const fuse_opt) -> Vec<OptSpec<'a, c_ulong>> {
    let mut specs = Vec::new();
    if opts.is_null() {
        return specs;
    }
    for i in 0.. {
        // SAFETY: the table is terminated, and entry i is at or before the terminator.
        let o = unsafe { &*opts.add(i) };
        if o.templ.is_null() {
            break;
        }
        // SAFETY: a non-NULL template is a C string living as long as the table.
        let templ = unsafe { CStr::from_ptr(o.templ) }.to_bytes();
        let target = (!KEY_OFFSETS.contains(&o.offset)).then_some(o.offset);
        specs.push(OptSpec { templ, target, value: o.value });
    }
    specs
}

/// The C side of a parse: the key callback and the stores into `data`.
struct CHandler {
    data: *mut c_void,
    proc: fuse_opt_proc_t,
    /// The caller's argv, for handing the callback the caller's own strings.
    in_argv: *mut *mut c_char,
}

impl CHandler {
    fn target(&self, offset: c_ulong, arg: &[u8]) -> Result<*mut u8, OptError> {
        if self.data.is_null() {
            let m = [b"fuse: no data to store option `".as_slice(), arg, b"' into\n"].concat();
            return Err(OptError::Other(m));
        }
        Ok(self.data.cast::<u8>().wrapping_add(offset as usize))
    }
}

impl Handler<CArgs<'_>, c_ulong> for CHandler {
    fn call(&mut self, arg: &[u8], src: ArgSrc, key: i32, out: &mut CArgs<'_>) -> i32 {
        let Some(f) = self.proc else { return 1 };
        let built;
        let p = match src {
            // SAFETY: Input indices are below the input argc; the caller's vector is untouched
            // until the parse ends.
            ArgSrc::Input(i) => unsafe { *self.in_argv.add(i) }.cast_const(),
            ArgSrc::Built => {
                // Built strings come from C strings and split_group, so hold no NUL.
                built = CString::new(arg).unwrap_or_default();
                built.as_ptr()
            }
        };
        // SAFETY: the callback's contract: data is the caller's, p a C string valid for the
        // call, outargs our live output vector.
        unsafe { f(self.data, p, key, out.as_ptr()) }
    }

    fn set_int(&mut self, target: &c_ulong, value: i32, arg: &[u8]) -> Result<(), OptError> {
        let p = self.target(*target, arg)?;
        // SAFETY: the table says data + offset is an int of the caller's; it may be unaligned.
        unsafe { p.cast::<c_int>().write_unaligned(value) };
        Ok(())
    }

    fn set_param(
        &mut self,
        target: &c_ulong,
        format: &[u8],
        param: &[u8],
        arg: &[u8],
    ) -> Result<(), OptError> {
        let p = self.target(*target, arg)?;
        if format.get(1) == Some(&b's') {
            let copy = c_dup(param).ok_or(OptError::Alloc)?;
            let slot = p.cast::<*mut c_char>();
            // SAFETY: a `%s` target is a `char *` of the caller's, NULL or malloc'd; the old
            // string is replaced and freed, as libfuse does.
            unsafe {
                libc::free(slot.read_unaligned().cast());
                slot.write_unaligned(copy);
            }
            return Ok(());
        }
        let (Ok(fmt), Ok(par)) = (CString::new(format), CString::new(param)) else {
            return Err(OptError::InvalidParam(arg.to_vec()));
        };
        // SAFETY: the template's format names one conversion whose target is at data + offset,
        // which is the caller's promise, exactly as with libfuse's own sscanf call.
        let n = unsafe { libc::sscanf(par.as_ptr(), fmt.as_ptr(), p) };
        if n == 1 { Ok(()) } else { Err(OptError::InvalidParam(arg.to_vec())) }
    }
}

/// Parse `args` against the table `opts`, storing into `data` and calling `proc` for keys,
/// non-options and unmatched options. On success `args` is replaced by the arguments that
/// were kept (kept `-o` options collected into one `-o` list right after the program name).
/// Returns 0, or -1 on error with `args` unchanged. NULL `args`, `opts` or `proc` stand for
/// no arguments, an empty table and a callback that keeps everything.
///
/// # Safety
/// `args` is NULL or a valid vector (its strings, if `allocated`, from `malloc`); `opts` is
/// NULL or a terminated table; every offset in it is valid in `data`, with the type its
/// template's format needs (`char *` from `malloc`, or NULL, for `%s`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_parse(
    args: *mut fuse_args,
    data: *mut c_void,
    opts: *const fuse_opt,
    proc: fuse_opt_proc_t,
) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { opt_parse(args, data, opts, proc) }
}
crate::symver!(fuse_opt_parse, "FUSE_3.0");

/// The body of [`fuse_opt_parse`], for Rust callers (see `parse_cmdline_312`).
///
/// # Safety
/// As for the export.
pub(crate) unsafe fn opt_parse(
    args: *mut fuse_args,
    data: *mut c_void,
    opts: *const fuse_opt,
    proc: fuse_opt_proc_t,
) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: NULL or a valid vector, by the contract.
        let Some(args) = (unsafe { args.as_mut() }) else { return 0 };
        if args.argv.is_null() || args.argc == 0 {
            return 0;
        }
        // SAFETY: argv is non-NULL with argc slots (at least one when argc is negative).
        let input = match unsafe { read_args(args) } {
            Ok(v) => v,
            Err(e) => {
                log_error(&e);
                return -1;
            }
        };
        // SAFETY: a terminated table, by the contract; it outlives this call.
        let specs = unsafe { read_specs(opts) };
        let mut out = fuse_args { argc: 0, argv: ptr::null_mut(), allocated: 0 };
        let mut h = CHandler { data, proc, in_argv: args.argv };
        let res = {
            // SAFETY: an empty vector satisfies CArgs's contract.
            let mut o = unsafe { CArgs::new(&mut out) };
            opt::parse(&input, &specs, &mut h, &mut o)
        };
        let rc = match res {
            Ok(()) => {
                std::mem::swap(args, &mut out);
                0
            }
            Err(e) => {
                log_error(&e);
                -1
            }
        };
        // SAFETY: `out` is now either our own vector or the caller's old one, valid either way.
        unsafe { free_args(&mut out) };
        rc
    })
}

/// Append `opt` to the comma-separated list `*opts` (which may be NULL), as is.
/// Returns 0, or -1 when out of memory.
///
/// # Safety
/// `opts` points to NULL or to a `malloc`'d C string; `opt` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_add_opt(opts: *mut *mut c_char, opt: *const c_char) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: forwarded contract.
        unsafe { add_opt_common(opts, opt, false) }
    })
}
crate::symver!(fuse_opt_add_opt, "FUSE_3.0");

/// Append `opt` to the comma-separated list `*opts` (which may be NULL), with its commas and
/// backslashes escaped by a backslash. Returns 0, or -1 when out of memory.
///
/// # Safety
/// `opts` points to NULL or to a `malloc`'d C string; `opt` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_add_opt_escaped(
    opts: *mut *mut c_char,
    opt: *const c_char,
) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: forwarded contract.
        unsafe { add_opt_common(opts, opt, true) }
    })
}
crate::symver!(fuse_opt_add_opt_escaped, "FUSE_3.0");

/// # Safety
/// As for `fuse_opt_add_opt`.
unsafe fn add_opt_common(opts: *mut *mut c_char, opt: *const c_char, escape: bool) -> c_int {
    if opts.is_null() || opt.is_null() {
        crate::log::err("fuse: NULL option list or option\n");
        return -1;
    }
    // SAFETY: opts is non-NULL and points to NULL or a C string (contract).
    let old = unsafe { *opts };
    let mut list = (!old.is_null())
        // SAFETY: non-NULL, so a C string.
        .then(|| unsafe { CStr::from_ptr(old) }.to_bytes().to_vec());
    // SAFETY: opt is a C string (contract).
    opt::add_opt(&mut list, unsafe { CStr::from_ptr(opt) }.to_bytes(), escape);
    let list = list.unwrap_or_default();
    // SAFETY: old is NULL or malloc'd (contract); on failure it is left as it was.
    let p = unsafe { libc::realloc(old.cast(), list.len() + 1) }.cast::<u8>();
    if p.is_null() {
        log_error(&OptError::Alloc);
        return -1;
    }
    // SAFETY: p has list.len() + 1 bytes; `list` is our own buffer, so no overlap.
    unsafe {
        ptr::copy_nonoverlapping(list.as_ptr(), p, list.len());
        *p.add(list.len()) = 0;
        *opts = p.cast();
    }
    0
}

/// Append a copy of `arg` to `args`. Returns 0, or -1 when out of memory (or when `args` holds
/// a vector the library did not allocate, other than an empty one).
///
/// # Safety
/// `args` is a valid vector; `arg` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_add_arg(args: *mut fuse_args, arg: *const c_char) -> c_int {
    crate::ffi_guard!(-1, {
        // SAFETY: forwarded contract; the position is the end.
        unsafe { edit_args(args, None, arg) }
    })
}
crate::symver!(fuse_opt_add_arg, "FUSE_3.0");

/// Insert a copy of `arg` into `args` at position `pos` (0 to `argc`), for example before a
/// `--`. Returns 0, or -1 on error.
///
/// # Safety
/// `args` is a valid vector; `arg` is a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_insert_arg(
    args: *mut fuse_args,
    pos: c_int,
    arg: *const c_char,
) -> c_int {
    crate::ffi_guard!(-1, {
        let Ok(pos) = usize::try_from(pos) else {
            crate::fuse_err!("fuse: no position {pos} in an argument vector\n");
            return -1;
        };
        // SAFETY: forwarded contract.
        unsafe { edit_args(args, Some(pos), arg) }
    })
}
crate::symver!(fuse_opt_insert_arg, "FUSE_3.0");

/// # Safety
/// As for `fuse_opt_add_arg`.
unsafe fn edit_args(args: *mut fuse_args, pos: Option<usize>, arg: *const c_char) -> c_int {
    // SAFETY: NULL or a valid vector (contract).
    let (Some(args), false) = (unsafe { args.as_mut() }, arg.is_null()) else {
        crate::log::err("fuse: NULL argument vector or argument\n");
        return -1;
    };
    // SAFETY: arg is a C string (contract).
    let arg = unsafe { CStr::from_ptr(arg) }.to_bytes();
    // SAFETY: a valid vector (contract).
    let mut v = unsafe { CArgs::new(args) };
    let res = match pos {
        None => v.push(arg),
        Some(pos) => v.insert(pos, arg),
    };
    match res {
        Ok(()) => 0,
        Err(e) => {
            log_error(&e);
            -1
        }
    }
}

/// Free the strings and the array of `args` if the library allocated them, and leave it
/// empty. The structure itself is not freed; NULL is ignored.
///
/// # Safety
/// `args` is NULL or a valid vector.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_free_args(args: *mut fuse_args) {
    crate::ffi_guard!((), {
        // SAFETY: NULL or a valid vector (contract).
        if let Some(args) = unsafe { args.as_mut() } {
            // SAFETY: as above.
            unsafe { free_args(args) };
        }
    })
}
crate::symver!(fuse_opt_free_args, "FUSE_3.0");

/// Whether any template of the table `opts` matches the option `opt`: 1 if so, else 0.
///
/// # Safety
/// `opts` is NULL or a terminated table; `opt` is NULL or a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fuse_opt_match(opts: *const fuse_opt, opt: *const c_char) -> c_int {
    crate::ffi_guard!(0, {
        if opt.is_null() {
            return 0;
        }
        // SAFETY: a terminated table (contract).
        let specs = unsafe { read_specs(opts) };
        // SAFETY: opt is a C string (contract).
        let opt = unsafe { CStr::from_ptr(opt) }.to_bytes();
        c_int::from(opt::matches(&specs, opt))
    })
}
crate::symver!(fuse_opt_match, "FUSE_3.0");
