//! libfuse's own low-level examples (`hello_ll`, `passthrough_ll`, `hello_ll_uds`), unchanged,
//! on Debian's libfuse and on ours, with the same results.
//!
//! Three builds of each example, made once per test run in a scratch directory:
//! - `deb314`: Debian 12's example sources (/usr/share/doc/libfuse3-dev/examples, libfuse 3.14.0)
//!   against Debian's headers (`pkg-config fuse3`); NEEDED `libfuse3.so.3`. Runs on Debian's
//!   library (the reference) and on ours (`LD_LIBRARY_PATH` at target/<profile>).
//! - `ourhdr`: the same sources against our headers (`PKG_CONFIG_PATH` at target/<profile>);
//!   NEEDED `libfuse3.so.4`. Runs on ours.
//! - `sid318`: libfuse 3.18.3's examples built with that tree's own headers plus the two
//!   configuration headers its meson build generates, linked against a stub `libfuse3.so.4`
//!   made from the tree's version script (so the binary imports exactly the versioned symbols a
//!   real 3.18.3 build would), then run on ours. No system 3.18.3 library exists here: its
//!   reference is the 3.14 build's results on Debian's library.
//!
//! A difference between ours and Debian's is a bug in ours until proven otherwise.

mod common;

use common::cbuild::{
    self, BUILD_T, Built, DEBIAN_EXAMPLES, Flavour, Pc, build_c, build_plan, fuse3_flags,
};
use common::checks::{Check, Fail, Outcome, Record, Recorder, expect_eq, table, wrong};
use common::mount::{Daemon, Lib, MountGuard, UnmountOnDrop, check_maps, with_timeout};
use common::{libfuse_314_tree, libfuse_318_tree, run, run_ok, scratch_dir};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::CString;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const MOUNT_T: Duration = Duration::from_secs(20);
/// Per file operation; a broken mount hangs instead of failing.
const OP_T: Duration = Duration::from_secs(30);

const EXAMPLES: [&str; 3] = ["hello_ll", "passthrough_ll", "hello_ll_uds"];

// ---------------------------------------------------------------------------------------------
// Building

/// One compiler run: source file, arguments before it, arguments after it.
type Compile = (PathBuf, Vec<String>, Vec<String>);

fn built(flavour: Flavour) -> &'static Built {
    static CACHE: [OnceLock<Built>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    CACHE[flavour as usize].get_or_init(|| build_flavour(flavour))
}

/// The binary of `example` in `flavour`, or a panic saying why it is missing.
fn exe(flavour: Flavour, example: &str) -> PathBuf {
    cbuild::exe(built(flavour), flavour, example)
}

fn build_flavour(flavour: Flavour) -> Built {
    let all_err = |e: String| EXAMPLES.iter().map(|x| (*x, Err(e.clone()))).collect::<Built>();
    let dir = scratch_dir(&format!("ll_examples-build-{}", flavour.name()));
    let plan: Result<Vec<Compile>, String> = (|| {
        match flavour {
            Flavour::Deb314 | Flavour::OurHdr => {
                let src = PathBuf::from(DEBIAN_EXAMPLES);
                let flags = fuse3_flags(flavour.pc())?;
                // hello_ll_uds.c includes <fuse_kernel.h>, which libfuse does not install (nor
                // do we); take it, and only it, from the 3.14 source tree: -idirafter is
                // searched after the -I from pkg-config, so fuse_lowlevel.h stays the one
                // under test.
                let kernel_h = libfuse_314_tree()?.join("include");
                Ok(EXAMPLES
                    .iter()
                    .map(|x| {
                        let mut pre = vec!["-Wall".to_string()];
                        if *x == "hello_ll_uds" {
                            pre.push(format!("-idirafter{}", kernel_h.display()));
                        }
                        (src.join(format!("{x}.c")), pre, flags.clone())
                    })
                    .collect())
            }
            Flavour::Sid318 => {
                let tree = libfuse_318_tree()?;
                let gen_dir = dir.join("gen");
                std::fs::create_dir_all(&gen_dir).map_err(|e| e.to_string())?;
                write_318_config(&tree, &gen_dir)?;
                let stub = build_318_stub(&tree, &dir.join("stub"))?;
                // What libfuse's meson build passes an example (c_std=gnu11, warning_level=2,
                // add_project_arguments); FUSE_USE_VERSION is set by each example itself.
                let pre: Vec<String> = [
                    "-std=gnu11",
                    "-Wall",
                    "-Wextra",
                    "-Wno-sign-compare",
                    "-D_REENTRANT",
                    "-DHAVE_LIBFUSE_PRIVATE_CONFIG_H",
                    "-D_FILE_OFFSET_BITS=64",
                ]
                .iter()
                .map(|s| s.to_string())
                .chain([
                    format!("-I{}", gen_dir.display()),
                    format!("-I{}", tree.join("include").display()),
                ])
                .collect();
                let post = vec![
                    format!("-L{}", stub.display()),
                    "-l:libfuse3.so.4".to_string(),
                    "-lpthread".to_string(),
                ];
                Ok(EXAMPLES
                    .iter()
                    .map(|x| (tree.join(format!("example/{x}.c")), pre.clone(), post.clone()))
                    .collect())
            }
        }
    })();
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return all_err(e),
    };
    EXAMPLES.iter().copied().zip(build_plan(flavour, &dir, &plan)).collect()
}

/// The two headers libfuse 3.18.3's meson build generates: the installed `libfuse_config.h`
/// (version numbers, versioned symbols) and the private `fuse_config.h` (feature tests; only
/// what the examples look at, as this machine's glibc 2.36 and kernel answer them).
fn write_318_config(tree: &Path, gen_dir: &Path) -> Result<(), String> {
    let meson = std::fs::read_to_string(tree.join("meson.build")).map_err(|e| e.to_string())?;
    let version = meson
        .lines()
        .find_map(|l| l.trim().strip_prefix("version: '")?.split('\'').next().map(str::to_string))
        .ok_or("no version: in meson.build")?;
    let parts: Vec<&str> = version.split('.').collect();
    if parts.len() != 3 {
        return Err(format!("unexpected version {version:?} in meson.build"));
    }
    let public = format!(
        "#define FUSE_MAJOR_VERSION {}\n#define FUSE_MINOR_VERSION {}\n\
         #define FUSE_HOTFIX_VERSION {}\n#define FUSE_RC_VERSION \n\
         #define LIBFUSE_BUILT_WITH_VERSIONED_SYMBOLS 1\n",
        parts[0], parts[1], parts[2]
    );
    let private = format!(
        "#define PACKAGE_VERSION \"{version}\"\n#define HAVE_COPY_FILE_RANGE 1\n\
         #define HAVE_FALLOCATE 1\n#define HAVE_FSTATAT 1\n#define HAVE_OPENAT 1\n\
         #define HAVE_POSIX_FALLOCATE 1\n#define HAVE_SETXATTR 1\n#define HAVE_SPLICE 1\n\
         #define HAVE_STATX 1\n#define HAVE_STRUCT_STAT_ST_ATIM 1\n#define HAVE_SYS_XATTR_H 1\n\
         #define HAVE_UTIMENSAT 1\n"
    );
    std::fs::write(gen_dir.join("libfuse_config.h"), public).map_err(|e| e.to_string())?;
    std::fs::write(gen_dir.join("fuse_config.h"), private).map_err(|e| e.to_string())
}

/// A do-nothing `libfuse3.so.4` exporting what libfuse 3.18.3 exports, under the same
/// versions: every name of `lib/fuse_versionscript`, and the default/compat versions its
/// sources give with `FUSE_SYMVER("impl", "name@@NODE")`. Linking an example against it
/// records the imports a real 3.18.3 build records; at run time ours stands in for it.
fn build_318_stub(tree: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    let script = tree.join("lib/fuse_versionscript");
    let text = std::fs::read_to_string(&script).map_err(|e| e.to_string())?;
    let mut symver: Vec<(String, String)> = Vec::new(); // (impl, "name@[@]NODE")
    let lib_dir = tree.join("lib");
    for entry in std::fs::read_dir(&lib_dir).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_none_or(|e| e != "c") {
            continue;
        }
        let src = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        for line in src.lines() {
            let Some(rest) = line.trim().strip_prefix("FUSE_SYMVER(\"") else { continue };
            let mut q = rest.split('"');
            let (Some(imp), _, Some(alias)) = (q.next(), q.next(), q.next()) else { continue };
            symver.push((imp.to_string(), alias.to_string()));
        }
    }
    if symver.is_empty() {
        return Err(format!("no FUSE_SYMVER lines found under {}", lib_dir.display()));
    }
    let aliased: BTreeSet<&str> =
        symver.iter().map(|(_, a)| a.split('@').next().unwrap_or("")).collect();
    let mut defined = BTreeSet::new();
    let mut c = String::from("/* generated by tests/ll_examples.rs: a link-time stand-in */\n");
    for line in text.lines() {
        let l = line.trim();
        let Some(name) = l.strip_suffix(';') else { continue };
        let ok = !name.is_empty()
            && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            && !aliased.contains(name);
        if ok && defined.insert(name.to_string()) {
            c.push_str(&format!("void {name}(void) {{}}\n"));
        }
    }
    for (imp, alias) in &symver {
        if defined.insert(imp.clone()) {
            c.push_str(&format!("void {imp}(void) {{}}\n"));
        }
        c.push_str(&format!("__asm__(\".symver {imp},{alias}\");\n"));
    }
    let src = out_dir.join("stub.c");
    std::fs::write(&src, c).map_err(|e| e.to_string())?;
    let so = out_dir.join("libfuse3.so.4");
    run_ok(
        Command::new("gcc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&so)
            .arg(&src)
            .arg("-Wl,-soname,libfuse3.so.4")
            .arg(format!("-Wl,--version-script={}", script.display())),
        BUILD_T,
    )?;
    Ok(out_dir.to_path_buf())
}

// ---------------------------------------------------------------------------------------------
// Recording outcomes

type NamedCheck<C> = (&'static str, fn(&C) -> Check);

/// Run checks in order, each under OP_T; after a hang the rest are not attempted.
fn run_checks<C: Clone + Send + 'static>(ctx: C, checks: &[NamedCheck<C>]) -> Vec<Record> {
    let mut r = Recorder::new(OP_T);
    for (name, f) in checks {
        let (c, f) = (ctx.clone(), *f);
        r.check(name, move || f(&c));
    }
    r.records
}

/// Every check must have come out `Ok`.
fn assert_all_ok(what: &str, records: &[Record]) {
    let bad: Vec<&Record> = records.iter().filter(|r| r.outcome != Outcome::Ok).collect();
    assert!(bad.is_empty(), "{what}: checks failed:\n{}", table(records));
}

/// Ours must have come to the same outcome as the reference, check by check.
fn assert_same(what: &str, reference: &[Record], ours: &[Record]) {
    let r: Vec<(&str, &Outcome)> = reference.iter().map(|r| (r.check, &r.outcome)).collect();
    let o: Vec<(&str, &Outcome)> = ours.iter().map(|r| (r.check, &r.outcome)).collect();
    assert!(
        r == o,
        "{what}: outcomes differ from Debian's libfuse.\nreference:\n{}ours:\n{}",
        table(reference),
        table(ours)
    );
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL in test paths")
}

fn cres(res: libc::c_int) -> std::io::Result<()> {
    if res == -1 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
}

fn errno_of(res: libc::c_int) -> Check {
    Ok(cres(res)?)
}

fn io_err(res: isize) -> Result<usize, Fail> {
    if res < 0 { Err(std::io::Error::last_os_error().into()) } else { Ok(res as usize) }
}

/// Expect `r` to fail with `errno`; any other outcome is reported as-is.
fn expect_errno<T: std::fmt::Debug>(what: &str, r: std::io::Result<T>, errno: i32) -> Check {
    match r {
        Err(e) if e.raw_os_error() == Some(errno) => Ok(()),
        Err(e) => Err(e.into()),
        Ok(v) => Err(wrong(format!("{what}: succeeded ({v:?}), want errno {errno}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// hello_ll

#[derive(Clone)]
struct HelloCtx {
    mnt: PathBuf,
}

fn hello_checks() -> Vec<NamedCheck<HelloCtx>> {
    vec![
        ("readdir", |c| {
            let names: Vec<String> = std::fs::read_dir(&c.mnt)?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<Result<_, _>>()?;
            expect_eq("root entries", names, vec!["hello".to_string()])
        }),
        ("stat", |c| {
            let m = std::fs::metadata(c.mnt.join("hello"))?;
            expect_eq("mode", m.mode(), libc::S_IFREG | 0o444)?;
            expect_eq("size", m.len(), 13)?;
            expect_eq("nlink", m.nlink(), 1)?;
            let root = std::fs::metadata(&c.mnt)?;
            expect_eq("root mode", root.mode(), libc::S_IFDIR | 0o755)
        }),
        ("read", |c| {
            expect_eq(
                "content",
                std::fs::read_to_string(c.mnt.join("hello"))?,
                "Hello World!\n".into(),
            )
        }),
        ("read_offset", |c| {
            let mut f = std::fs::File::open(c.mnt.join("hello"))?;
            f.seek(SeekFrom::Start(6))?;
            let mut s = String::new();
            f.read_to_string(&mut s)?;
            expect_eq("content from offset 6", s, "World!\n".into())
        }),
        ("open_write_eacces", |c| {
            let r = std::fs::OpenOptions::new().read(true).write(true).open(c.mnt.join("hello"));
            expect_errno("open O_RDWR", r, libc::EACCES)
        }),
        ("lookup_enoent", |c| {
            expect_errno("stat missing", std::fs::metadata(c.mnt.join("nope")), libc::ENOENT)?;
            let r =
                std::fs::OpenOptions::new().read(true).write(true).open(c.mnt.join("hellonope"));
            expect_errno("open missing", r, libc::ENOENT)
        }),
        ("create_enosys", |c| {
            // hello_ll has neither create nor mknod: libfuse answers ENOSYS, and the kernel
            // passes that on once its mknod fallback gets it too.
            expect_errno("create", std::fs::File::create(c.mnt.join("new")), libc::ENOSYS)
        }),
        ("statfs", |c| {
            let s = statvfs(&c.mnt)?;
            // hello_ll has no statfs: libfuse's default answer.
            expect_eq("(bsize, namemax)", (s.f_bsize, s.f_namemax), (512, 255))
        }),
    ]
}

fn statvfs(p: &Path) -> Result<libc::statvfs, Fail> {
    let cp = cpath(p);
    // SAFETY: zeroed statvfs is a valid out-parameter; cp is NUL-terminated.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: cp lives across the call; s is writable and sized for statvfs.
    errno_of(unsafe { libc::statvfs(cp.as_ptr(), &mut s) })?;
    Ok(s)
}

/// Mount `flavour`'s hello_ll on `lib`, run the checks, unmount with `fusermount3 -u` and
/// require exit status 0.
fn hello_run(flavour: Flavour, lib: Lib) -> Vec<Record> {
    hello_run_with(flavour, lib, &[]).0
}

/// `hello_run` with extra daemon arguments; also returns the daemon's stderr.
fn hello_run_with(flavour: Flavour, lib: Lib, extra: &[&str]) -> (Vec<Record>, String) {
    let bin = exe(flavour, "hello_ll");
    let tag = if extra.is_empty() { String::new() } else { "-x".to_string() };
    let dir = scratch_dir(&format!("ll_examples-hello-{}-{}{tag}", flavour.name(), lib.name()));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mut cmd = Command::new(&bin);
    cmd.arg("-f").args(extra).arg(&mnt);
    let m = MountGuard::start(&mut cmd, &mnt, lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    let records = run_checks(HelloCtx { mnt: mnt.clone() }, &hello_checks());
    let (status, o, e) =
        m.unmount().unwrap_or_else(|e| panic!("{e}\nchecks:\n{}", table(&records)));
    assert!(
        status.success(),
        "hello_ll ({}, {}) exited {status} after fusermount3 -u:\n{o}{e}",
        flavour.name(),
        lib.name()
    );
    (records, e)
}

fn hello_reference() -> &'static [Record] {
    static R: OnceLock<Vec<Record>> = OnceLock::new();
    R.get_or_init(|| {
        let r = hello_run(Flavour::Deb314, Lib::System);
        assert_all_ok("hello_ll 3.14 on Debian's libfuse (reference)", &r);
        r
    })
}

#[test]
fn hello_ll_314_system() {
    assert_all_ok("hello_ll 3.14 on Debian's libfuse", hello_reference());
}

#[test]
fn hello_ll_314_ours() {
    let ours = hello_run(Flavour::Deb314, Lib::Ours);
    assert_same("hello_ll 3.14 on ours", hello_reference(), &ours);
}

#[test]
fn hello_ll_ourheaders_ours() {
    let ours = hello_run(Flavour::OurHdr, Lib::Ours);
    assert_same("hello_ll 3.14 built on our headers, on ours", hello_reference(), &ours);
}

#[test]
fn hello_ll_318_ours() {
    let ours = hello_run(Flavour::Sid318, Lib::Ours);
    assert_same("hello_ll 3.18.3 on ours", hello_reference(), &ours);
}

// ---------------------------------------------------------------------------------------------
// passthrough_ll

#[derive(Clone)]
struct PtCtx {
    /// The mount.
    mnt: PathBuf,
    /// What it passes through (`-o source=`).
    src: PathBuf,
}

fn write_file(p: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(p)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Deterministic bytes that are not all alike (xorshift).
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn setxattr(p: &Path, name: &str, value: &[u8]) -> Check {
    let (cp, cn) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: both strings are NUL-terminated and live across the call; value is a valid slice.
    errno_of(unsafe {
        libc::setxattr(cp.as_ptr(), cn.as_ptr(), value.as_ptr().cast(), value.len(), 0)
    })
}

fn getxattr(p: &Path, name: &str) -> Result<Vec<u8>, Fail> {
    let (cp, cn) = (cpath(p), CString::new(name).unwrap());
    let mut buf = vec![0u8; 256];
    // SAFETY: strings NUL-terminated; buf is writable for buf.len() bytes.
    let n = io_err(unsafe {
        libc::getxattr(cp.as_ptr(), cn.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
    })?;
    buf.truncate(n);
    Ok(buf)
}

fn listxattr(p: &Path) -> Result<Vec<String>, Fail> {
    let cp = cpath(p);
    let mut buf = vec![0u8; 4096];
    // SAFETY: cp NUL-terminated; buf writable for its length.
    let n = io_err(unsafe { libc::listxattr(cp.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) })?;
    Ok(buf[..n]
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

fn passthrough_checks() -> Vec<NamedCheck<PtCtx>> {
    vec![
        ("statfs", |c| {
            let (a, b) = (statvfs(&c.mnt)?, statvfs(&c.src)?);
            expect_eq(
                "(bsize, blocks, files)",
                (a.f_bsize, a.f_blocks, a.f_files),
                (b.f_bsize, b.f_blocks, b.f_files),
            )
        }),
        ("create_write_read", |c| {
            write_file(&c.mnt.join("cwr"), b"hello passthrough\n")?;
            expect_eq(
                "via mount",
                std::fs::read(c.mnt.join("cwr"))?,
                b"hello passthrough\n".to_vec(),
            )?;
            expect_eq(
                "in source",
                std::fs::read(c.src.join("cwr"))?,
                b"hello passthrough\n".to_vec(),
            )?;
            expect_errno("create_new again", write_file(&c.mnt.join("cwr"), b""), libc::EEXIST)
        }),
        ("read_source_file", |c| {
            std::fs::write(c.src.join("fromsrc"), b"made in the source\n")?;
            expect_eq(
                "via mount",
                std::fs::read(c.mnt.join("fromsrc"))?,
                b"made in the source\n".to_vec(),
            )
        }),
        ("append", |c| {
            write_file(&c.mnt.join("app"), b"one\n")?;
            let mut f = std::fs::OpenOptions::new().append(true).open(c.mnt.join("app"))?;
            f.write_all(b"two\n")?;
            drop(f);
            expect_eq("content", std::fs::read(c.mnt.join("app"))?, b"one\ntwo\n".to_vec())
        }),
        ("overwrite_middle", |c| {
            write_file(&c.mnt.join("ow"), b"abcdefgh")?;
            let mut f = std::fs::OpenOptions::new().write(true).open(c.mnt.join("ow"))?;
            f.seek(SeekFrom::Start(3))?;
            f.write_all(b"XY")?;
            drop(f);
            expect_eq("content", std::fs::read(c.src.join("ow"))?, b"abcXYfgh".to_vec())
        }),
        ("truncate_path", |c| {
            write_file(&c.mnt.join("trp"), &pattern(1000, 1))?;
            let p = cpath(&c.mnt.join("trp"));
            // SAFETY: p is NUL-terminated and outlives the call.
            errno_of(unsafe { libc::truncate(p.as_ptr(), 100) })?;
            expect_eq("size", std::fs::metadata(c.mnt.join("trp"))?.len(), 100)?;
            expect_eq(
                "content",
                std::fs::read(c.src.join("trp"))?,
                pattern(1000, 1)[..100].to_vec(),
            )
        }),
        ("truncate_fd", |c| {
            write_file(&c.mnt.join("trf"), b"0123456789")?;
            let f = std::fs::OpenOptions::new().write(true).open(c.mnt.join("trf"))?;
            f.set_len(4)?;
            f.set_len(6)?;
            drop(f);
            expect_eq("content", std::fs::read(c.mnt.join("trf"))?, b"0123\0\0".to_vec())
        }),
        ("open_trunc", |c| {
            write_file(&c.mnt.join("otr"), b"old content")?;
            std::fs::write(c.mnt.join("otr"), b"new")?;
            expect_eq("content", std::fs::read(c.src.join("otr"))?, b"new".to_vec())
        }),
        ("mkdir_rmdir", |c| {
            std::fs::create_dir(c.mnt.join("dir"))?;
            expect_eq("in source", c.src.join("dir").is_dir(), true)?;
            std::fs::write(c.mnt.join("dir/inner"), b"x")?;
            expect_errno(
                "rmdir non-empty",
                std::fs::remove_dir(c.mnt.join("dir")),
                libc::ENOTEMPTY,
            )?;
            std::fs::remove_file(c.mnt.join("dir/inner"))?;
            std::fs::remove_dir(c.mnt.join("dir"))?;
            expect_eq("gone from source", c.src.join("dir").exists(), false)?;
            expect_errno("stat removed", std::fs::metadata(c.mnt.join("dir")), libc::ENOENT)
        }),
        ("rename", |c| {
            write_file(&c.mnt.join("ren-a"), b"moving")?;
            std::fs::rename(c.mnt.join("ren-a"), c.mnt.join("ren-b"))?;
            expect_errno("old name", std::fs::metadata(c.mnt.join("ren-a")), libc::ENOENT)?;
            expect_eq("new name", std::fs::read(c.src.join("ren-b"))?, b"moving".to_vec())?;
            std::fs::create_dir(c.mnt.join("ren-d"))?;
            std::fs::rename(c.mnt.join("ren-b"), c.mnt.join("ren-d/b"))?;
            expect_eq("into a directory", std::fs::read(c.mnt.join("ren-d/b"))?, b"moving".to_vec())
        }),
        ("unlink", |c| {
            write_file(&c.mnt.join("unl"), b"bye")?;
            std::fs::remove_file(c.mnt.join("unl"))?;
            expect_eq("gone from source", c.src.join("unl").exists(), false)?;
            expect_errno("unlink again", std::fs::remove_file(c.mnt.join("unl")), libc::ENOENT)
        }),
        ("open_unlink", |c| {
            let mut f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(c.mnt.join("ou"))?;
            f.write_all(b"still here")?;
            std::fs::remove_file(c.mnt.join("ou"))?;
            f.seek(SeekFrom::Start(0))?;
            let mut s = Vec::new();
            f.read_to_end(&mut s)?;
            expect_eq("content after unlink", s, b"still here".to_vec())
        }),
        ("symlink_readlink", |c| {
            std::os::unix::fs::symlink("some/target", c.mnt.join("sl"))?;
            expect_eq(
                "readlink",
                std::fs::read_link(c.mnt.join("sl"))?,
                PathBuf::from("some/target"),
            )?;
            expect_eq(
                "lstat is a link",
                std::fs::symlink_metadata(c.mnt.join("sl"))?.file_type().is_symlink(),
                true,
            )?;
            expect_eq(
                "in source",
                std::fs::read_link(c.src.join("sl"))?,
                PathBuf::from("some/target"),
            )
        }),
        ("hard_link", |c| {
            write_file(&c.mnt.join("hl-a"), b"linked")?;
            std::fs::hard_link(c.mnt.join("hl-a"), c.mnt.join("hl-b"))?;
            let (a, b) =
                (std::fs::metadata(c.mnt.join("hl-a"))?, std::fs::metadata(c.mnt.join("hl-b"))?);
            expect_eq("nlink", (a.nlink(), b.nlink()), (2, 2))?;
            expect_eq("same inode", a.ino(), b.ino())?;
            expect_eq("content", std::fs::read(c.mnt.join("hl-b"))?, b"linked".to_vec())
        }),
        ("chmod", |c| {
            write_file(&c.mnt.join("chm"), b"")?;
            std::fs::set_permissions(c.mnt.join("chm"), std::fs::Permissions::from_mode(0o640))?;
            expect_eq(
                "mode via mount",
                std::fs::metadata(c.mnt.join("chm"))?.mode() & 0o7777,
                0o640,
            )?;
            expect_eq(
                "mode in source",
                std::fs::metadata(c.src.join("chm"))?.mode() & 0o7777,
                0o640,
            )
        }),
        ("chown", |c| {
            write_file(&c.mnt.join("cho"), b"")?;
            std::os::unix::fs::chown(c.mnt.join("cho"), Some(4242), Some(4343))?;
            let m = std::fs::metadata(c.src.join("cho"))?;
            expect_eq("owner in source", (m.uid(), m.gid()), (4242, 4343))
        }),
        ("utimens", |c| {
            write_file(&c.mnt.join("ut"), b"")?;
            let p = cpath(&c.mnt.join("ut"));
            let ts = [
                libc::timespec { tv_sec: 1_000_000_000, tv_nsec: 123_456_789 },
                libc::timespec { tv_sec: 1_200_000_000, tv_nsec: 987_654_321 },
            ];
            // SAFETY: p is NUL-terminated; ts holds the two timespecs utimensat reads.
            errno_of(unsafe { libc::utimensat(libc::AT_FDCWD, p.as_ptr(), ts.as_ptr(), 0) })?;
            let m = std::fs::metadata(c.mnt.join("ut"))?;
            expect_eq("atime", (m.atime(), m.atime_nsec()), (1_000_000_000, 123_456_789))?;
            expect_eq("mtime", (m.mtime(), m.mtime_nsec()), (1_200_000_000, 987_654_321))
        }),
        ("mkfifo", |c| {
            let p = cpath(&c.mnt.join("fifo"));
            // SAFETY: p is NUL-terminated and outlives the call.
            errno_of(unsafe { libc::mkfifo(p.as_ptr(), 0o600) })?;
            use std::os::unix::fs::FileTypeExt;
            expect_eq(
                "is a fifo in source",
                std::fs::symlink_metadata(c.src.join("fifo"))?.file_type().is_fifo(),
                true,
            )
        }),
        ("xattr", |c| {
            let f = c.mnt.join("xa");
            write_file(&f, b"")?;
            setxattr(&f, "user.ferrofuse", b"value-1")?;
            expect_eq("get", getxattr(&f, "user.ferrofuse")?, b"value-1".to_vec())?;
            expect_eq(
                "get from source",
                getxattr(&c.src.join("xa"), "user.ferrofuse")?,
                b"value-1".to_vec(),
            )?;
            expect_eq("list has it", listxattr(&f)?.contains(&"user.ferrofuse".to_string()), true)?;
            let (cp, cn) = (cpath(&f), CString::new("user.ferrofuse").unwrap());
            // SAFETY: both strings NUL-terminated and live across the call.
            errno_of(unsafe { libc::removexattr(cp.as_ptr(), cn.as_ptr()) })?;
            match getxattr(&f, "user.ferrofuse") {
                Err(Fail(Outcome::Errno(e), _)) if e == libc::ENODATA => Ok(()),
                Err(f) => Err(f),
                Ok(v) => Err(wrong(format!("removed attribute still reads {v:?}"))),
            }
        }),
        ("readdir_300", |c| {
            std::fs::create_dir(c.mnt.join("many"))?;
            let want: BTreeSet<String> =
                (0..300).map(|i| format!("file-{i:03}-{}", "x".repeat(i % 40))).collect();
            for n in &want {
                std::fs::File::create(c.mnt.join("many").join(n))?;
            }
            let got: BTreeSet<String> = std::fs::read_dir(c.mnt.join("many"))?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<Result<_, _>>()?;
            expect_eq("entries via mount", got.len(), 300)?;
            expect_eq("same names", got == want, true)?;
            let src_n = std::fs::read_dir(c.src.join("many"))?.count();
            expect_eq("entries in source", src_n, 300)
        }),
        ("large_file", |c| {
            let data = pattern(6 << 20, 7);
            let mut f = std::fs::File::create(c.mnt.join("big"))?;
            for chunk in data.chunks(123_457) {
                f.write_all(chunk)?;
            }
            f.sync_all()?;
            drop(f);
            let back = std::fs::read(c.mnt.join("big"))?;
            expect_eq("length via mount", back.len(), data.len())?;
            expect_eq("bytes via mount", back == data, true)?;
            expect_eq("bytes in source", std::fs::read(c.src.join("big"))? == data, true)?;
            let mut f = std::fs::File::open(c.mnt.join("big"))?;
            f.seek(SeekFrom::Start(3_000_001))?;
            let mut mid = vec![0u8; 70_000];
            f.read_exact(&mut mid)?;
            expect_eq("random-offset read", mid == data[3_000_001..3_070_001], true)
        }),
        ("seek_data_hole", |c| {
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(c.mnt.join("sparse"))?;
            use std::os::unix::fs::FileExt;
            f.write_all_at(&[1u8; 4096], 0)?;
            f.write_all_at(&[2u8; 4096], 4 << 20)?;
            f.sync_all()?;
            let fd = f.as_raw_fd();
            let sfd = std::fs::File::open(c.src.join("sparse"))?;
            let mut got = Vec::new();
            let mut want = Vec::new();
            for (whence, off) in
                [(libc::SEEK_DATA, 0), (libc::SEEK_HOLE, 0), (libc::SEEK_DATA, 8192)]
            {
                // SAFETY: lseek on fds we own.
                got.push(unsafe { libc::lseek(fd, off, whence) });
                // SAFETY: as above.
                want.push(unsafe { libc::lseek(sfd.as_raw_fd(), off, whence) });
            }
            if got.contains(&-1) {
                return Err(std::io::Error::last_os_error().into());
            }
            expect_eq("SEEK_DATA/SEEK_HOLE offsets vs the source's", got, want)
        }),
        ("flock", |c| {
            write_file(&c.mnt.join("fl"), b"")?;
            let a = std::fs::File::open(c.mnt.join("fl"))?;
            let b = std::fs::File::open(c.mnt.join("fl"))?;
            // SAFETY: flock on fds we own.
            errno_of(unsafe { libc::flock(a.as_raw_fd(), libc::LOCK_EX) })?;
            // SAFETY: as above.
            let r = cres(unsafe { libc::flock(b.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) });
            expect_errno("second LOCK_EX", r, libc::EWOULDBLOCK)?;
            // SAFETY: as above.
            errno_of(unsafe { libc::flock(a.as_raw_fd(), libc::LOCK_UN) })?;
            // SAFETY: as above.
            errno_of(unsafe { libc::flock(b.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) })
        }),
        ("fcntl_ofd_locks", |c| {
            write_file(&c.mnt.join("lk"), b"0123456789")?;
            let a = std::fs::OpenOptions::new().read(true).write(true).open(c.mnt.join("lk"))?;
            let b = std::fs::OpenOptions::new().read(true).write(true).open(c.mnt.join("lk"))?;
            // SAFETY: a zeroed flock is valid; fields set below.
            let mut l: libc::flock = unsafe { std::mem::zeroed() };
            l.l_type = libc::F_WRLCK as _;
            l.l_whence = libc::SEEK_SET as _;
            l.l_start = 0;
            l.l_len = 5;
            // SAFETY: fcntl with a pointer to a live flock.
            errno_of(unsafe { libc::fcntl(a.as_raw_fd(), libc::F_OFD_SETLK, &l) })?;
            let mut q = l;
            // SAFETY: as above; q is writable.
            errno_of(unsafe { libc::fcntl(b.as_raw_fd(), libc::F_OFD_GETLK, &mut q) })?;
            expect_eq("conflicting lock seen", q.l_type as i32, libc::F_WRLCK)?;
            // SAFETY: as above.
            let r = unsafe { libc::fcntl(b.as_raw_fd(), libc::F_OFD_SETLK, &l) };
            if r != -1 {
                return Err(wrong("second write lock on the same range was granted".into()));
            }
            let e = std::io::Error::last_os_error().raw_os_error();
            expect_eq("errno of conflicting lock", e, Some(libc::EAGAIN))
        }),
        ("fsync", |c| {
            let mut f = std::fs::File::create(c.mnt.join("fs"))?;
            f.write_all(b"durable")?;
            f.sync_data()?;
            f.sync_all()?;
            let d = std::fs::File::open(&c.mnt)?;
            d.sync_all()?; // fsyncdir
            expect_eq("content", std::fs::read(c.src.join("fs"))?, b"durable".to_vec())
        }),
        ("fallocate", |c| {
            let f = std::fs::File::create(c.mnt.join("fa"))?;
            // SAFETY: fallocate on an fd we own.
            errno_of(unsafe { libc::fallocate(f.as_raw_fd(), 0, 0, 1 << 20) })?;
            expect_eq("size", std::fs::metadata(c.src.join("fa"))?.len(), 1 << 20)?;
            expect_eq(
                "blocks allocated in source",
                std::fs::metadata(c.src.join("fa"))?.blocks() >= 2048,
                true,
            )
        }),
        ("copy_file_range", |c| {
            let data = pattern(300_000, 3);
            write_file(&c.mnt.join("cfr-a"), &data)?;
            let a = std::fs::File::open(c.mnt.join("cfr-a"))?;
            let b = std::fs::File::create(c.mnt.join("cfr-b"))?;
            let mut left = data.len();
            while left > 0 {
                // SAFETY: fds we own; NULL offsets use and advance the file positions.
                let n = io_err(unsafe {
                    libc::copy_file_range(
                        a.as_raw_fd(),
                        std::ptr::null_mut(),
                        b.as_raw_fd(),
                        std::ptr::null_mut(),
                        left,
                        0,
                    )
                })?;
                if n == 0 {
                    break;
                }
                left -= n;
            }
            drop(b);
            expect_eq("copy", std::fs::read(c.src.join("cfr-b"))? == data, true)
        }),
    ]
}

fn passthrough_run(flavour: Flavour, lib: Lib) -> Vec<Record> {
    passthrough_run_with(flavour, lib, &[]).0
}

/// `passthrough_run` with extra daemon arguments; also returns the daemon's stderr.
fn passthrough_run_with(flavour: Flavour, lib: Lib, extra: &[&str]) -> (Vec<Record>, String) {
    let tag = if extra.is_empty() { "" } else { "-x" };
    passthrough_run_env(flavour, lib, extra, None, tag)
}

/// `passthrough_run_with` where the test decides `FUSE_URING_ENABLE` (`Some(None)`: removed,
/// so the daemon sees none); `tag` names the scratch directory.
fn passthrough_run_env(
    flavour: Flavour,
    lib: Lib,
    extra: &[&str],
    uring_env: Option<Option<&str>>,
    tag: &str,
) -> (Vec<Record>, String) {
    let bin = exe(flavour, "passthrough_ll");
    let dir = scratch_dir(&format!("ll_examples-pt-{}-{}{tag}", flavour.name(), lib.name()));
    let (mnt, src) = (dir.join("mnt"), dir.join("src"));
    std::fs::create_dir(&mnt).unwrap();
    std::fs::create_dir(&src).unwrap();
    // Debian's test_examples.py mounts passthrough_ll with no options (so it passes `/`
    // through). Both 3.14 and 3.18.3 take `-o source=`, which keeps the test to its own
    // directory. `-o xattr` turns on the example's xattr handlers (off by default).
    let mut cmd = Command::new(&bin);
    cmd.arg("-f")
        .arg("-o")
        .arg(format!("source={}", src.display()))
        .args(["-o", "xattr"])
        .args(extra)
        .arg(&mnt);
    match uring_env {
        Some(Some(v)) => cmd.env(common::mount::URING_ENV, v),
        Some(None) => cmd.env_remove(common::mount::URING_ENV),
        None => &mut cmd,
    };
    let m = MountGuard::start(&mut cmd, &mnt, lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    let records = run_checks(PtCtx { mnt: mnt.clone(), src }, &passthrough_checks());
    let (status, o, e) =
        m.unmount().unwrap_or_else(|e| panic!("{e}\nchecks:\n{}", table(&records)));
    assert!(
        status.success(),
        "passthrough_ll ({}, {}) exited {status} after fusermount3 -u:\n{o}{e}\nchecks:\n{}",
        flavour.name(),
        lib.name(),
        table(&records)
    );
    (records, e)
}

/// Where an example's build, not the library, decides the outcome. Debian's 3.14 examples are
/// built the way its examples Makefile builds them, from `pkg-config` flags alone: with no
/// `HAVE_FALLOCATE`/`HAVE_POSIX_FALLOCATE`, `lo_fallocate` answers EOPNOTSUPP. The 3.18.3
/// build gets meson's `fuse_config.h`, which defines `HAVE_FALLOCATE`, so there it works.
fn passthrough_expected(flavour: Flavour, check: &str) -> Outcome {
    match (flavour, check) {
        (Flavour::Deb314 | Flavour::OurHdr, "fallocate") => Outcome::Errno(libc::EOPNOTSUPP),
        _ => Outcome::Ok,
    }
}

/// Debian's run must meet the expectations exactly.
fn assert_expected(what: &str, flavour: Flavour, records: &[Record]) {
    let bad = records.iter().any(|r| r.outcome != passthrough_expected(flavour, r.check));
    assert!(!bad, "{what}: outcomes differ from the expected ones:\n{}", table(records));
}

/// The 3.14 reference, its outcomes adjusted for `flavour`'s build (see passthrough_expected).
fn passthrough_reference_for(flavour: Flavour) -> Vec<Record> {
    passthrough_reference()
        .iter()
        .map(|r| Record { outcome: passthrough_expected(flavour, r.check), ..r.clone() })
        .collect()
}

fn passthrough_reference() -> &'static [Record] {
    static R: OnceLock<Vec<Record>> = OnceLock::new();
    R.get_or_init(|| {
        let r = passthrough_run(Flavour::Deb314, Lib::System);
        assert_expected("passthrough_ll 3.14 on Debian's libfuse (reference)", Flavour::Deb314, &r);
        r
    })
}

#[test]
fn passthrough_ll_314_system() {
    assert_expected(
        "passthrough_ll 3.14 on Debian's libfuse",
        Flavour::Deb314,
        passthrough_reference(),
    );
}

#[test]
fn passthrough_ll_314_ours() {
    let ours = passthrough_run(Flavour::Deb314, Lib::Ours);
    assert_same("passthrough_ll 3.14 on ours", passthrough_reference(), &ours);
}

#[test]
fn passthrough_ll_ourheaders_ours() {
    let ours = passthrough_run(Flavour::OurHdr, Lib::Ours);
    assert_same(
        "passthrough_ll 3.14 built on our headers, on ours",
        passthrough_reference(),
        &ours,
    );
}

#[test]
fn passthrough_ll_318_ours() {
    let ours = passthrough_run(Flavour::Sid318, Lib::Ours);
    let reference = passthrough_reference_for(Flavour::Sid318);
    assert_same("passthrough_ll 3.18.3 on ours", &reference, &ours);
}

// ---------------------------------------------------------------------------------------------
// hello_ll_uds
//
// hello_ll_uds never mounts: it listens on an AF_UNIX stream socket, accepts one connection and
// hands it to the session with fuse_session_custom_io(); whoever connects plays the kernel.
// libfuse's own test (test/test_custom_io.py in 3.14) connects and speaks one FUSE INIT. We go
// further and act as a small kernel: INIT, then lookups, getattr, open, read, readdir, statfs
// and an unknown opcode, checking each reply; ours must send the same bytes as Debian's for
// everything after INIT (whose reply legitimately differs in capability fields).
//
// The 3.14 example hard-codes /tmp/libfuse-hello-ll.sock, so runs of the 3.14 source hold
// UDS_314_SOCKET; 3.18.3's takes --socket=PATH and gets one of its own.

const UDS_314_SOCKET: &str = "/tmp/libfuse-hello-ll.sock";
static UDS_314_LOCK: Mutex<()> = Mutex::new(());

struct FuseClient {
    sock: std::os::unix::net::UnixStream,
    unique: u64,
}

impl FuseClient {
    /// Send one request; return (error, payload) of its reply.
    fn call(&mut self, opcode: u32, nodeid: u64, body: &[u8]) -> std::io::Result<(i32, Vec<u8>)> {
        self.unique += 2;
        let mut req = Vec::with_capacity(40 + body.len());
        req.extend_from_slice(&(40 + body.len() as u32).to_le_bytes()); // len
        req.extend_from_slice(&opcode.to_le_bytes());
        req.extend_from_slice(&self.unique.to_le_bytes());
        req.extend_from_slice(&nodeid.to_le_bytes());
        req.extend_from_slice(&0u32.to_le_bytes()); // uid
        req.extend_from_slice(&0u32.to_le_bytes()); // gid
        req.extend_from_slice(&std::process::id().to_le_bytes()); // pid
        req.extend_from_slice(&0u32.to_le_bytes()); // total_extlen, padding
        req.extend_from_slice(body);
        self.sock.write_all(&req)?;
        let mut hdr = [0u8; 16];
        self.sock.read_exact(&mut hdr)?;
        let len = u32::from_le_bytes(hdr[0..4].try_into().unwrap()) as usize;
        let error = i32::from_le_bytes(hdr[4..8].try_into().unwrap());
        let unique = u64::from_le_bytes(hdr[8..16].try_into().unwrap());
        if unique != self.unique || len < 16 {
            return Err(std::io::Error::other(format!(
                "reply header len {len} unique {unique}, want unique {}",
                self.unique
            )));
        }
        let mut payload = vec![0u8; len - 16];
        self.sock.read_exact(&mut payload)?;
        Ok((error, payload))
    }
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}
fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// One step of the conversation: name, what we sent, and a judgement of the reply.
struct UdsStep {
    name: &'static str,
    opcode: u32,
    nodeid: u64,
    body: Vec<u8>,
    judge: fn(i32, &[u8]) -> Check,
}

fn read_in(offset: u64, size: u32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0u64.to_le_bytes()); // fh
    b.extend_from_slice(&offset.to_le_bytes());
    b.extend_from_slice(&size.to_le_bytes());
    b.extend_from_slice(&[0u8; 20]); // read_flags, lock_owner, flags, padding
    b
}

fn open_in(flags: i32) -> Vec<u8> {
    [(flags as u32).to_le_bytes(), 0u32.to_le_bytes()].concat()
}

fn want_err(error: i32, errno: i32) -> Check {
    if error == -errno {
        Ok(())
    } else {
        Err(Fail(Outcome::Errno(-error), format!("reply error {error}")))
    }
}

fn want_ok(error: i32) -> Check {
    if error == 0 {
        Ok(())
    } else {
        Err(Fail(Outcome::Errno(-error), format!("reply error {error}")))
    }
}

// fuse_attr starts at 40 in fuse_entry_out and at 16 in fuse_attr_out; mode is at 60 in it,
// size at 8, nlink at 64.
fn judge_attr(b: &[u8], at: usize, mode: u32, size: u64, nlink: u32) -> Check {
    if b.len() < at + 88 {
        return Err(wrong(format!("reply of {} bytes is too short for an attr at {at}", b.len())));
    }
    expect_eq(
        "(mode, size, nlink)",
        (le32(b, at + 60), le64(b, at + 8), le32(b, at + 64)),
        (mode, size, nlink),
    )
}

fn uds_steps() -> Vec<UdsStep> {
    let mut init = Vec::new();
    for v in [7u32, 38, 0, 0, 0] {
        init.extend_from_slice(&v.to_le_bytes()); // major, minor, max_readahead, flags, flags2
    }
    init.extend_from_slice(&[0u8; 44]);
    let getattr = vec![0u8; 16]; // getattr_flags, dummy, fh
    let readdir = read_in(0, 4096);
    vec![
        UdsStep {
            name: "init",
            opcode: 26,
            nodeid: 0,
            body: init,
            judge: |e, b| {
                want_ok(e)?;
                if b.len() < 8 {
                    return Err(wrong(format!("INIT reply of {} bytes", b.len())));
                }
                // Major 7 is what libfuse's own test requires. libfuse answers with its own
                // minor whatever the kernel asked: 31 for Debian's 3.14, 45 for 3.19 and ours.
                expect_eq("major", le32(b, 0), 7)?;
                let minor = le32(b, 4);
                expect_eq("minor in 31..=45", (31..=45).contains(&minor), true)
            },
        },
        UdsStep {
            name: "lookup_hello",
            opcode: 1,
            nodeid: 1,
            body: b"hello\0".to_vec(),
            judge: |e, b| {
                want_ok(e)?;
                expect_eq("nodeid", le64(b, 0), 2)?;
                judge_attr(b, 40, libc::S_IFREG | 0o444, 13, 1)
            },
        },
        UdsStep {
            name: "lookup_missing",
            opcode: 1,
            nodeid: 1,
            body: b"nope\0".to_vec(),
            judge: |e, _| want_err(e, libc::ENOENT),
        },
        UdsStep {
            name: "getattr_root",
            opcode: 3,
            nodeid: 1,
            body: getattr.clone(),
            judge: |e, b| {
                want_ok(e)?;
                judge_attr(b, 16, libc::S_IFDIR | 0o755, 0, 2)
            },
        },
        UdsStep {
            name: "getattr_hello",
            opcode: 3,
            nodeid: 2,
            body: getattr,
            judge: |e, b| {
                want_ok(e)?;
                judge_attr(b, 16, libc::S_IFREG | 0o444, 13, 1)
            },
        },
        UdsStep {
            name: "open_rdonly",
            opcode: 14,
            nodeid: 2,
            body: open_in(libc::O_RDONLY),
            judge: |e, _| want_ok(e),
        },
        UdsStep {
            name: "open_rdwr_eacces",
            opcode: 14,
            nodeid: 2,
            body: open_in(libc::O_RDWR),
            judge: |e, _| want_err(e, libc::EACCES),
        },
        UdsStep {
            name: "read",
            opcode: 15,
            nodeid: 2,
            body: read_in(0, 4096),
            judge: |e, b| {
                want_ok(e)?;
                expect_eq("data", b, b"Hello World!\n".as_slice())
            },
        },
        UdsStep {
            name: "read_offset",
            opcode: 15,
            nodeid: 2,
            body: read_in(6, 3),
            judge: |e, b| {
                want_ok(e)?;
                expect_eq("data", b, b"Wor".as_slice())
            },
        },
        UdsStep {
            name: "opendir",
            opcode: 27,
            nodeid: 1,
            body: open_in(libc::O_RDONLY | libc::O_DIRECTORY),
            judge: |e, _| want_ok(e),
        },
        UdsStep {
            name: "readdir",
            opcode: 28,
            nodeid: 1,
            body: readdir,
            judge: |e, b| {
                want_ok(e)?;
                // fuse_dirent: ino, off, namelen, type, name padded to 8.
                let mut names = Vec::new();
                let mut at = 0;
                while at + 24 <= b.len() {
                    let n = le32(b, at + 16) as usize;
                    if at + 24 + n > b.len() {
                        return Err(wrong(format!("dirent at {at} overruns the reply")));
                    }
                    names.push(String::from_utf8_lossy(&b[at + 24..at + 24 + n]).into_owned());
                    at += (24 + n).div_ceil(8) * 8;
                }
                expect_eq("names", names, vec![".".to_string(), "..".into(), "hello".into()])
            },
        },
        UdsStep {
            name: "statfs",
            opcode: 17,
            nodeid: 1,
            body: Vec::new(),
            judge: |e, b| {
                want_ok(e)?;
                // fuse_kstatfs: five u64 counts, then bsize, namelen.
                expect_eq("(bsize, namelen)", (le32(b, 40), le32(b, 44)), (512, 255))
            },
        },
        UdsStep {
            name: "unknown_opcode",
            opcode: 9999,
            nodeid: 1,
            body: Vec::new(),
            judge: |e, _| want_err(e, libc::ENOSYS),
        },
    ]
}

/// Run the conversation with `flavour`'s hello_ll_uds on `lib`: records and the raw replies.
/// A conversation's records and raw replies (error, payload).
type UdsRun = (Vec<Record>, Vec<(i32, Vec<u8>)>);

fn uds_run(flavour: Flavour, lib: Lib) -> UdsRun {
    let bin = exe(flavour, "hello_ll_uds");
    let dir = scratch_dir(&format!("ll_examples-uds-{}-{}", flavour.name(), lib.name()));
    let _serial = (flavour != Flavour::Sid318)
        .then(|| UDS_314_LOCK.lock().unwrap_or_else(|p| p.into_inner()));
    let mut cmd = Command::new(&bin);
    cmd.current_dir(&dir);
    let sock = if flavour == Flavour::Sid318 {
        // Relative: sun_path holds only 108 bytes.
        cmd.arg("--socket=hello.sock");
        dir.join("hello.sock")
    } else {
        let _ = std::fs::remove_file(UDS_314_SOCKET);
        PathBuf::from(UDS_314_SOCKET)
    };
    let mut d = Daemon::spawn(&mut cmd, lib).unwrap_or_else(|e| panic!("{e}"));
    let deadline = std::time::Instant::now() + MOUNT_T;
    let stream = loop {
        match std::os::unix::net::UnixStream::connect(&sock) {
            Ok(s) => break s,
            Err(e) => {
                if let Some(st) = d.try_wait() {
                    let (_, o, er) = d.terminate(Duration::ZERO);
                    panic!(
                        "`{}` exited ({st}) before listening on {}:\n{o}{er}",
                        d.what(),
                        sock.display()
                    );
                }
                if std::time::Instant::now() > deadline {
                    let (_, o, er) = d.terminate(Duration::ZERO);
                    panic!("cannot connect to {}: {e}\n{o}{er}", sock.display());
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    if let Err(e) = check_maps(d.pid().unwrap(), lib) {
        let (_, o, er) = d.terminate(Duration::ZERO);
        panic!("`{}`: {e}\n{o}{er}", d.what());
    }
    stream.set_read_timeout(Some(OP_T)).unwrap();
    let mut client = FuseClient { sock: stream, unique: 8 };
    let mut records = Vec::new();
    let mut replies = Vec::new();
    for step in uds_steps() {
        let (outcome, detail, answered) = match client.call(step.opcode, step.nodeid, &step.body) {
            Ok((e, b)) => {
                let r = (step.judge)(e, &b);
                replies.push((e, b));
                match r {
                    Ok(()) => (Outcome::Ok, String::new(), true),
                    Err(Fail(o, d)) => (o, d, true),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                (Outcome::Hung, e.to_string(), false)
            }
            Err(e) => (Outcome::Wrong, e.to_string(), false),
        };
        records.push(Record { check: step.name, outcome, detail });
        if !answered {
            // The conversation is out of step (or the peer gone): stop here.
            break;
        }
    }
    drop(client);
    let (_, o, e) = d.terminate(Duration::from_secs(2));
    if flavour != Flavour::Sid318 {
        let _ = std::fs::remove_file(UDS_314_SOCKET);
    }
    if records.iter().any(|r| r.outcome != Outcome::Ok) {
        eprintln!("hello_ll_uds ({}, {}) output:\n{o}{e}", flavour.name(), lib.name());
    }
    (records, replies)
}

fn uds_reference() -> &'static UdsRun {
    static R: OnceLock<UdsRun> = OnceLock::new();
    R.get_or_init(|| {
        let r = uds_run(Flavour::Deb314, Lib::System);
        assert_all_ok("hello_ll_uds 3.14 on Debian's libfuse (reference)", &r.0);
        assert_eq!(r.0.len(), uds_steps().len(), "reference conversation cut short");
        r
    })
}

fn uds_compare(what: &str, ours: UdsRun) {
    let (ref_records, ref_replies) = uds_reference();
    assert_same(what, ref_records, &ours.0);
    // Byte for byte after INIT: same answers to the same requests.
    for (i, step) in uds_steps().iter().enumerate().skip(1) {
        assert_eq!(
            ours.1.get(i),
            ref_replies.get(i),
            "{what}: reply to {} differs from Debian's (error, payload)",
            step.name
        );
    }
}

#[test]
fn hello_ll_uds_314_system() {
    assert_all_ok("hello_ll_uds 3.14 on Debian's libfuse", &uds_reference().0);
}

#[test]
fn hello_ll_uds_314_ours() {
    uds_compare("hello_ll_uds 3.14 on ours", uds_run(Flavour::Deb314, Lib::Ours));
}

#[test]
fn hello_ll_uds_ourheaders_ours() {
    uds_compare(
        "hello_ll_uds 3.14 built on our headers, on ours",
        uds_run(Flavour::OurHdr, Lib::Ours),
    );
}

#[test]
fn hello_ll_uds_318_ours() {
    uds_compare("hello_ll_uds 3.18.3 on ours", uds_run(Flavour::Sid318, Lib::Ours));
}

// ---------------------------------------------------------------------------------------------
// `-d`: one line per request, one per reply

/// Mount hello_ll with `-d`, do a few operations, unmount; check the debug log's shape and
/// return the opcodes it names.
fn debug_run(flavour: Flavour, lib: Lib) -> BTreeSet<String> {
    let bin = exe(flavour, "hello_ll");
    let dir = scratch_dir(&format!("ll_examples-debug-{}-{}", flavour.name(), lib.name()));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let m = MountGuard::start(Command::new(&bin).arg("-d").arg(&mnt), &mnt, lib, MOUNT_T)
        .unwrap_or_else(|e| panic!("{e}"));
    let records = run_checks(HelloCtx { mnt: mnt.clone() }, &hello_checks()[..5]);
    let (status, o, e) = m.unmount().unwrap_or_else(|e| panic!("{e}"));
    let what = format!("hello_ll -d ({}, {})", flavour.name(), lib.name());
    assert_all_ok(&what, &records);
    assert!(status.success(), "{what} exited {status} after fusermount3 -u:\n{o}{e}");
    let log = format!("{o}{e}");
    assert!(!log.trim().is_empty(), "{what}: -d printed nothing");

    // Request lines: `unique: N, opcode: NAME (N), nodeid: N, insize: N, pid: N`.
    // Reply lines: `   unique: N, success, outsize: N` or `   unique: N, error: -E (text), outsize: N`.
    let mut requests: BTreeMap<u64, String> = BTreeMap::new();
    let mut replies: BTreeMap<u64, usize> = BTreeMap::new();
    for line in log.lines() {
        if let Some(rest) = line.strip_prefix("unique: ") {
            let f: Vec<&str> = rest.split(", ").collect();
            let ok = f.len() == 5
                && f[1].starts_with("opcode: ")
                && f[2].starts_with("nodeid: ")
                && f[3].starts_with("insize: ")
                && f[4].starts_with("pid: ");
            assert!(ok, "{what}: malformed request line {line:?}\n{log}");
            let unique: u64 =
                f[0].parse().unwrap_or_else(|_| panic!("{what}: bad unique in {line:?}"));
            let op = f[1]["opcode: ".len()..].split(' ').next().unwrap().to_string();
            assert!(
                requests.insert(unique, op).is_none(),
                "{what}: two request lines for unique {unique}\n{log}"
            );
        } else if let Some(rest) = line.strip_prefix("   unique: ") {
            let f: Vec<&str> = rest.split(", ").collect();
            let ok = f.len() >= 3
                && (f[1] == "success" || f[1].starts_with("error: -"))
                && f.last().unwrap().starts_with("outsize: ");
            assert!(ok, "{what}: malformed reply line {line:?}\n{log}");
            let unique: u64 =
                f[0].parse().unwrap_or_else(|_| panic!("{what}: bad unique in {line:?}"));
            assert!(
                requests.contains_key(&unique),
                "{what}: reply line before its request: {line:?}\n{log}"
            );
            *replies.entry(unique).or_default() += 1;
        }
    }
    for (unique, op) in &requests {
        let want = usize::from(!matches!(op.as_str(), "FORGET" | "BATCH_FORGET" | "INTERRUPT"));
        let got = replies.get(unique).copied().unwrap_or(0);
        assert_eq!(got, want, "{what}: {op} (unique {unique}) has {got} reply lines\n{log}");
    }
    let ops: BTreeSet<String> = requests.into_values().collect();
    for op in ["INIT", "LOOKUP", "GETATTR", "OPENDIR", "READDIR", "OPEN", "READ", "RELEASE"] {
        assert!(ops.contains(op), "{what}: no {op} request in the log\n{log}");
    }
    ops
}

#[test]
fn debug_output_314_system() {
    debug_run(Flavour::Deb314, Lib::System);
}

#[test]
fn debug_output_314_ours() {
    debug_run(Flavour::Deb314, Lib::Ours);
}

#[test]
fn debug_output_318_ours() {
    debug_run(Flavour::Sid318, Lib::Ours);
}

// ---------------------------------------------------------------------------------------------
// `-o badopt`: refused, with a message naming the option

fn badopt_run(flavour: Flavour, lib: Lib, example: &str) -> (Option<i32>, String) {
    let bin = exe(flavour, example);
    let dir =
        scratch_dir(&format!("ll_examples-badopt-{example}-{}-{}", flavour.name(), lib.name()));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    // If it mounts after all (a bug), the timeout kills it and this removes the mount.
    let _cleanup = UnmountOnDrop(mnt.clone());
    let mut cmd = Command::new(&bin);
    cmd.args(["-f", "-o", "badopt"]).arg(&mnt);
    lib.apply(&mut cmd);
    let ran = run(&mut cmd, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    let what = format!("{example} -o badopt ({}, {})", flavour.name(), lib.name());
    assert!(!ran.ok(), "{what} succeeded:\n{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stderr.contains("badopt"),
        "{what}: stderr does not name the option:\n{}",
        ran.stderr
    );
    (ran.status.code(), ran.stderr)
}

const BADOPT_EXAMPLES: [&str; 2] = ["hello_ll", "passthrough_ll"];

/// Debian's answer, computed once per example (tests run in parallel and share it).
fn badopt_reference(i: usize) -> &'static (Option<i32>, String) {
    static R: [OnceLock<(Option<i32>, String)>; 2] = [OnceLock::new(), OnceLock::new()];
    R[i].get_or_init(|| badopt_run(Flavour::Deb314, Lib::System, BADOPT_EXAMPLES[i]))
}

fn badopt_compare(flavour: Flavour) {
    for (i, example) in BADOPT_EXAMPLES.iter().enumerate() {
        let reference = badopt_reference(i);
        let ours = badopt_run(flavour, Lib::Ours, example);
        assert_eq!(
            &ours,
            reference,
            "{example} -o badopt ({}) on ours: (exit code, stderr) differ from Debian's",
            flavour.name()
        );
    }
}

#[test]
fn badopt_314_system() {
    for (i, example) in BADOPT_EXAMPLES.iter().enumerate() {
        let (code, err) = badopt_reference(i);
        assert_eq!(*code, Some(1), "{example}: {err}");
    }
}

#[test]
fn badopt_314_ours() {
    badopt_compare(Flavour::Deb314);
}

#[test]
fn badopt_ourheaders_ours() {
    badopt_compare(Flavour::OurHdr);
}

#[test]
fn badopt_318_ours() {
    badopt_compare(Flavour::Sid318);
}

// ---------------------------------------------------------------------------------------------
// FUSE-over-io_uring (issue 11)
//
// The same examples and checks with `-o io_uring` on ours (Debian's libfuse 3.14 has no
// io_uring and refuses the option: its runs without it are the reference). `-d` makes the
// daemon say where each request came from: libfuse's and our debug output prefix requests
// taken from a ring entry with "cqe ". Everything except INIT (before the rings exist) and
// FORGET/BATCH_FORGET/INTERRUPT/DESTROY (which the kernel never puts on the ring) must arrive
// that way.

use common::uring::UringParam;

/// From a `-d` log: how many requests came over the ring; Err names any request that came
/// through /dev/fuse but should not have.
fn ring_requests(log: &str) -> Result<usize, String> {
    let mut ring = 0;
    let mut stray = Vec::new();
    for line in log.lines() {
        if line.starts_with("cqe unique: ") {
            ring += 1;
        } else if let Some(rest) = line.strip_prefix("unique: ") {
            let op = rest.split(", opcode: ").nth(1).and_then(|o| o.split(' ').next());
            if !matches!(op, Some("INIT" | "FORGET" | "BATCH_FORGET" | "INTERRUPT" | "DESTROY")) {
                stray.push(line.to_string());
            }
        }
    }
    if stray.is_empty() {
        Ok(ring)
    } else {
        Err(format!(
            "{} requests came through /dev/fuse: {:?}",
            stray.len(),
            &stray[..stray.len().min(10)]
        ))
    }
}

fn assert_ring_used(what: &str, log: &str, at_least: usize) {
    let tail: String = log.lines().filter(|l| l.contains("uring")).collect::<Vec<_>>().join("\n");
    match ring_requests(log) {
        Ok(n) => assert!(
            n >= at_least,
            "{what}: only {n} requests came over io_uring (want >= {at_least}); io_uring lines:\n{tail}"
        ),
        Err(e) => panic!("{what}: {e}\nio_uring lines:\n{tail}"),
    }
}

#[test]
fn passthrough_ll_314_ours_io_uring() {
    let _p = UringParam::set(true);
    let (ours, log) = passthrough_run_with(Flavour::Deb314, Lib::Ours, &["-o", "io_uring", "-d"]);
    drop(_p);
    assert_same("passthrough_ll 3.14 on ours over io_uring", passthrough_reference(), &ours);
    assert_ring_used("passthrough_ll 3.14 on ours over io_uring", &log, 200);
}

#[test]
fn passthrough_ll_318_ours_io_uring_depth_2() {
    // A shallow queue: more requests than entries at once must wait, not fail.
    let _p = UringParam::set(true);
    let (ours, log) = passthrough_run_with(
        Flavour::Sid318,
        Lib::Ours,
        &["-o", "io_uring", "-o", "io_uring_q_depth=2", "-d"],
    );
    drop(_p);
    let reference = passthrough_reference_for(Flavour::Sid318);
    assert_same("passthrough_ll 3.18.3 on ours over io_uring", &reference, &ours);
    assert_ring_used("passthrough_ll 3.18.3 on ours over io_uring", &log, 200);
}

#[test]
fn hello_ll_318_clearing_want_still_gets_io_uring() {
    // 3.18.3's hello_ll sets `conn->want` to ASYNC_READ and clears that again in init(): with
    // libfuse the io_uring bit goes with it. The command line must win.
    let _p = UringParam::set(true);
    let (ours, log) = hello_run_with(Flavour::Sid318, Lib::Ours, &["-o", "io_uring", "-d"]);
    drop(_p);
    assert_same("hello_ll 3.18.3 on ours over io_uring", hello_reference(), &ours);
    assert_ring_used("hello_ll 3.18.3 (clears want) over io_uring", &log, 5);
}

#[test]
fn io_uring_falls_back_to_dev_fuse_when_the_kernel_does_not_offer_it() {
    let _p = UringParam::set(false);
    let (ours, log) = passthrough_run_with(Flavour::OurHdr, Lib::Ours, &["-o", "io_uring", "-d"]);
    drop(_p);
    assert_same(
        "passthrough_ll on ours, io_uring off in the kernel",
        passthrough_reference(),
        &ours,
    );
    let msg: Vec<&str> = log.lines().filter(|l| l.contains("io_uring not offered")).collect();
    assert_eq!(msg.len(), 1, "want one clear fallback line, got {msg:?}");
    assert!(msg[0].contains("enable_uring"), "the line should say how to enable it: {}", msg[0]);
    let ring = log.lines().filter(|l| l.starts_with("cqe unique: ")).count();
    assert_eq!(ring, 0, "no request can come over a ring that was never set up");
}

#[test]
fn auto_unmount_over_io_uring_after_kill() {
    // libfuse 3.19 over io_uring leaves the mount behind here. When the daemon dies, its ring
    // keeps the device open a moment longer, so a look at the mountpoint fails with
    // ECONNABORTED instead of ENOTCONN; Debian's 3.14 helper takes that for "not our mount"
    // and leaves. Ours must unmount.
    let _p = UringParam::set(true);
    let bin = exe(Flavour::Deb314, "passthrough_ll");
    let dir = scratch_dir("ll_examples-uring-autounmount");
    let (mnt, src) = (dir.join("mnt"), dir.join("src"));
    std::fs::create_dir(&mnt).unwrap();
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"x").unwrap();
    let mut cmd = Command::new(&bin);
    cmd.env("FUSERMOUNT_PROG", common::target_profile_dir().join("fusermount3"))
        .arg("-f")
        .args(["-o", &format!("source={},io_uring,auto_unmount", src.display())])
        .arg(&mnt);
    let m = MountGuard::start(&mut cmd, &mnt, Lib::Ours, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    let seen = with_timeout("read through the mount", OP_T, {
        let f = mnt.join("f");
        move || std::fs::read(f).map_err(|e| e.to_string())
    });
    assert_eq!(seen, Ok(Ok(b"x".to_vec())));
    m.signal(libc::SIGKILL);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while common::mount::fuse_mount_type(&mnt).is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} still mounted 10 s after the io_uring daemon was killed",
            mnt.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(m);
}

#[test]
fn passthrough_ll_single_issuer_over_io_uring() {
    // 3.19's FUSE_CONN_FLAG_SINGLE_ISSUER: Debian's passthrough_ll with one added line in its
    // init(), built on our headers. Each ring is then made single-issuer and only its thread
    // submits; the checks must pass as on /dev/fuse.
    let dir = scratch_dir("ll_examples-uring-single-issuer");
    let bin = patched_passthrough_ll(
        &dir,
        "pt_single_issuer",
        "fuse_set_conn_flag(conn, FUSE_CONN_FLAG_SINGLE_ISSUER);",
    );
    let (mnt, src) = (dir.join("mnt"), dir.join("src"));
    std::fs::create_dir(&mnt).unwrap();
    std::fs::create_dir(&src).unwrap();
    let _p = UringParam::set(true);
    let mut cmd = Command::new(&bin);
    cmd.arg("-f")
        .arg("-o")
        .arg(format!("source={},io_uring", src.display()))
        .args(["-o", "xattr", "-d"])
        .arg(&mnt);
    let m = MountGuard::start(&mut cmd, &mnt, Lib::Ours, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    let records = run_checks(PtCtx { mnt: mnt.clone(), src }, &passthrough_checks());
    let (status, o, e) =
        m.unmount().unwrap_or_else(|e| panic!("{e}\nchecks:\n{}", table(&records)));
    drop(_p);
    assert!(status.success(), "exited {status}:\n{o}{e}");
    assert_same("single-issuer passthrough_ll over io_uring", passthrough_reference(), &records);
    assert!(
        e.contains("io_uring: started, queue depth 8, single issuer"),
        "not single issuer:\n{e}"
    );
    assert_ring_used("single-issuer passthrough_ll over io_uring", &e, 200);
}

/// Debian's passthrough_ll with `line` added at the start of its init(), built on our headers
/// as `dir/name`.
fn patched_passthrough_ll(dir: &Path, name: &str, line: &str) -> PathBuf {
    let source = std::fs::read_to_string(Path::new(DEBIAN_EXAMPLES).join("passthrough_ll.c"))
        .expect("Debian's passthrough_ll.c (libfuse3-dev)");
    let anchor = "\tstruct lo_data *lo = (struct lo_data*) userdata;\n";
    let at =
        source.find("static void lo_init").and_then(|i| source[i..].find(anchor).map(|j| i + j));
    let at = at.expect("lo_init's first line") + anchor.len();
    let patched = format!("{}\t{line}\n{}", &source[..at], &source[at..]);
    let src_file = dir.join(format!("{name}.c"));
    std::fs::write(&src_file, patched).unwrap();
    let bin = dir.join(name);
    build_c(Pc::Ours, &["-Wall", "-Werror", "-O2", "-I", DEBIAN_EXAMPLES], &src_file, &bin)
        .unwrap_or_else(|e| panic!("{e}"));
    bin
}

// ---------------------------------------------------------------------------------------------
// io_uring by default: the multithreaded loop gets the rings when the kernel offers them and
// nothing opted out (FUSE_URING_ENABLE=0, -o no_io_uring, or init() unsetting the capability);
// the single-threaded loop keeps /dev/fuse. The daemons here start with FUSE_URING_ENABLE
// removed from their environment (the harness otherwise pins them to /dev/fuse).

/// From a `-d` log: every request after INIT came through /dev/fuse (none from a ring), and
/// there were at least `at_least` of them.
fn assert_dev_fuse_only(what: &str, log: &str, at_least: usize) {
    let ring: Vec<&str> = log.lines().filter(|l| l.starts_with("cqe unique: ")).collect();
    assert!(
        ring.is_empty(),
        "{what}: {} requests came over io_uring: {:?}",
        ring.len(),
        &ring[..ring.len().min(5)]
    );
    let dev = log.lines().filter(|l| l.starts_with("unique: ")).count();
    assert!(dev >= at_least, "{what}: only {dev} requests in the -d log (want >= {at_least})");
}

/// Lines of `log` that mention io_uring.
fn uring_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.contains("uring")).collect()
}

#[test]
fn io_uring_is_the_multithreaded_loops_default() {
    // Debian's unmodified passthrough_ll, no option, no variable: the rings carry the requests.
    let _p = UringParam::set(true);
    let (ours, log) =
        passthrough_run_env(Flavour::Deb314, Lib::Ours, &["-d"], Some(None), "-uring-default");
    drop(_p);
    assert_same("passthrough_ll on ours, io_uring by default", passthrough_reference(), &ours);
    assert_ring_used("passthrough_ll on ours, io_uring by default", &log, 200);
    assert!(
        log.contains("io_uring: started, queue depth 8 (default: multithreaded loop)"),
        "-d should say the rings started by default: {:?}",
        uring_lines(&log)
    );
    let errors: Vec<&str> =
        log.lines().filter(|l| l.starts_with("fuse: ") && l.contains("uring")).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn io_uring_is_not_the_single_threaded_loops_default() {
    let _p = UringParam::set(true);
    let (ours, log) =
        passthrough_run_env(Flavour::Deb314, Lib::Ours, &["-s", "-d"], Some(None), "-uring-s");
    drop(_p);
    assert_same("passthrough_ll -s on ours, io_uring offered", passthrough_reference(), &ours);
    assert_dev_fuse_only("passthrough_ll -s, io_uring offered", &log, 200);
    assert_eq!(uring_lines(&log), Vec::<&str>::new(), "-s: nothing to say about io_uring");
}

#[test]
fn fuse_uring_enable_0_opts_out_of_the_default() {
    let _p = UringParam::set(true);
    let (ours, log) =
        passthrough_run_env(Flavour::Deb314, Lib::Ours, &["-d"], Some(Some("0")), "-uring-env0");
    drop(_p);
    assert_same("passthrough_ll, FUSE_URING_ENABLE=0", passthrough_reference(), &ours);
    assert_dev_fuse_only("passthrough_ll, FUSE_URING_ENABLE=0", &log, 200);
    assert_eq!(uring_lines(&log), Vec::<&str>::new());
}

#[test]
fn no_io_uring_option_opts_out_of_the_default() {
    let _p = UringParam::set(true);
    let (ours, log) = passthrough_run_env(
        Flavour::Deb314,
        Lib::Ours,
        &["-o", "no_io_uring", "-d"],
        Some(None),
        "-uring-off",
    );
    drop(_p);
    assert_same("passthrough_ll -o no_io_uring", passthrough_reference(), &ours);
    assert_dev_fuse_only("passthrough_ll -o no_io_uring", &log, 200);
    assert_eq!(uring_lines(&log), Vec::<&str>::new());
}

#[test]
fn the_default_is_silent_when_the_kernel_does_not_offer_io_uring() {
    // Only an explicit -o io_uring explains a fallback; the default says nothing, -d or not.
    let _p = UringParam::set(false);
    let (ours, log) =
        passthrough_run_env(Flavour::Deb314, Lib::Ours, &["-d"], Some(None), "-uring-n");
    drop(_p);
    assert_same("passthrough_ll, io_uring not offered", passthrough_reference(), &ours);
    assert_dev_fuse_only("passthrough_ll, io_uring not offered", &log, 200);
    assert_eq!(uring_lines(&log), Vec::<&str>::new(), "no io_uring message at all");
}

#[test]
fn init_unsetting_the_capability_opts_out_of_the_default_not_of_the_option() {
    // The program's own fuse_unset_feature_flag beats the library's default; -o io_uring (the
    // user) beats the program.
    let dir = scratch_dir("ll_examples-uring-unset");
    let bin = patched_passthrough_ll(
        &dir,
        "pt_unset",
        "fuse_unset_feature_flag(conn, FUSE_CAP_OVER_IO_URING);",
    );
    let _p = UringParam::set(true);
    let mut logs = Vec::new();
    for (i, extra) in [&[][..], &["-o", "io_uring"][..]].into_iter().enumerate() {
        let (mnt, src) = (dir.join(format!("mnt{i}")), dir.join(format!("src{i}")));
        std::fs::create_dir(&mnt).unwrap();
        std::fs::create_dir(&src).unwrap();
        let mut cmd = Command::new(&bin);
        cmd.arg("-f")
            .args(["-o", &format!("source={}", src.display()), "-o", "xattr", "-d"])
            .args(extra)
            .arg(&mnt)
            .env_remove(common::mount::URING_ENV);
        let m =
            MountGuard::start(&mut cmd, &mnt, Lib::Ours, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
        let records = run_checks(PtCtx { mnt: mnt.clone(), src }, &passthrough_checks());
        let (status, o, e) =
            m.unmount().unwrap_or_else(|e| panic!("{e}\nchecks:\n{}", table(&records)));
        assert!(status.success(), "{extra:?}: exited {status}:\n{o}{e}");
        assert_same(
            &format!("unsetting passthrough_ll {extra:?}"),
            passthrough_reference(),
            &records,
        );
        logs.push(e);
    }
    drop(_p);
    assert_dev_fuse_only("init() unset FUSE_CAP_OVER_IO_URING", &logs[0], 200);
    assert!(
        logs[0].contains("io_uring: init() turned it off; reading /dev/fuse"),
        "-d should say why: {:?}",
        uring_lines(&logs[0])
    );
    assert_ring_used("init() unset it, -o io_uring given", &logs[1], 200);
}

#[test]
fn the_harness_keeps_other_tests_on_dev_fuse_while_the_switch_is_on() {
    // What keeps a parallel test's transport unchanged while an io_uring test holds the switch
    // on: a daemon whose test did not choose gets FUSE_URING_ENABLE=0 from the harness.
    let _p = UringParam::set(true);
    let (ours, log) = passthrough_run_env(Flavour::Deb314, Lib::Ours, &["-d"], None, "-pinned");
    drop(_p);
    assert_same("passthrough_ll started by the harness, switch on", passthrough_reference(), &ours);
    assert_dev_fuse_only("passthrough_ll started by the harness, switch on", &log, 200);
}
