//! Real Debian programs, unchanged, mounted on Debian's libfuse and on ours.
//!
//! - `squashfuse_ll` (package squashfuse): a read-only low-level filesystem on `fuse_session_loop`;
//!   the mounted image is compared entry by entry with the tree it was built from.
//! - `fuse-overlayfs` (package fuse-overlayfs): low-level, copy-up and whiteouts; once on its
//!   default single-threaded loop and once with `-o threaded=1` (`fuse_session_loop_mt@FUSE_3.2`).
//! - pyfuse3 (package python3-pyfuse3): our in-memory filesystem tests/py/memfs.py, which drives
//!   the session itself (`fuse_session_receive_buf`/`fuse_session_process_buf` from a trio loop).
//!
//! Each run is a list of named checks, every filesystem operation under a deadline. On the system
//! library every check must pass. A `*_ours` test first makes a reference run on the system
//! library, then requires each check on ours to give the same outcome and observation. A missing
//! program fails the test naming the Debian package that provides it.

mod common;

use common::mount::{Lib, MountGuard, fuse_mount_type, with_timeout};
use common::{run_ok, scratch_dir, target_profile_dir};
use std::ffi::CString;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How long a daemon may take to mount.
const MOUNT_T: Duration = Duration::from_secs(20);
/// How long one check (a handful of filesystem operations) may take.
const OP_T: Duration = Duration::from_secs(30);
/// mksquashfs and other setup tools.
const TOOL_T: Duration = Duration::from_secs(120);

/// Debian's libfuse 3.14, which a `Lib::Ours` daemon must not map.
const DEBIAN_LIBFUSE: &str = "/usr/lib/x86_64-linux-gnu/libfuse3.so.3";

// ---------------------------------------------------------------------------------------------
// Recording checks

/// A check's outcome: Ok(what was observed) or Err(what went wrong).
type Outcome = Result<String, String>;

struct Report {
    program: String,
    lib: Lib,
    checks: Vec<(String, Outcome)>,
    /// Set once a check times out: the mount is presumably wedged, later checks are not run.
    stalled: Option<String>,
    /// The daemon's output, for failure messages.
    log: String,
}

impl Report {
    fn new(program: &str, lib: Lib) -> Report {
        Report {
            program: program.to_string(),
            lib,
            checks: Vec::new(),
            stalled: None,
            log: String::new(),
        }
    }

    fn record(&mut self, name: &str, outcome: Outcome) {
        self.checks.push((name.to_string(), outcome));
    }

    /// Run one check on its own thread with a deadline.
    fn check(&mut self, name: &str, f: impl FnOnce() -> Outcome + Send + 'static) {
        if let Some(prev) = &self.stalled {
            let why = format!("not run: `{prev}` timed out");
            self.record(name, Err(why));
            return;
        }
        let outcome = match with_timeout(name, OP_T, f) {
            Ok(o) => o,
            Err(e) => {
                self.stalled = Some(name.to_string());
                Err(e)
            }
        };
        self.record(name, outcome);
    }

    fn render(&self) -> String {
        let mut s = format!("{} on {} libfuse:\n", self.program, self.lib.name());
        for (name, o) in &self.checks {
            match o {
                Ok(obs) => writeln!(s, "  ok   {name}: {obs}"),
                Err(e) => writeln!(s, "  FAIL {name}: {e}"),
            }
            .unwrap();
        }
        if !self.log.trim().is_empty() {
            writeln!(s, "daemon output:\n{}", self.log.trim_end()).unwrap();
        }
        s
    }

    fn all_pass(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|(_, o)| o.is_ok())
    }
}

fn assert_all_pass(r: &Report) {
    assert!(r.all_pass(), "every check must pass\n{}", r.render());
}

/// Ours must match the reference (system) run check by check, observation included.
fn assert_same(reference: &Report, ours: &Report) {
    assert!(
        reference.all_pass(),
        "the reference run on Debian's libfuse must pass before ours is compared\n{}",
        reference.render()
    );
    let mut diffs = String::new();
    for (i, (name, want)) in reference.checks.iter().enumerate() {
        match ours.checks.get(i) {
            Some((n, got)) if n == name && got == want => {}
            Some((n, got)) => {
                writeln!(
                    diffs,
                    "  {name}: system {want:?}\n  {:width$}  ours ({n}) {got:?}",
                    "",
                    width = name.len()
                )
                .unwrap();
            }
            None => {
                writeln!(diffs, "  {name}: system {want:?}, ours did not get this far").unwrap()
            }
        }
    }
    for (name, got) in ours.checks.iter().skip(reference.checks.len()) {
        writeln!(diffs, "  {name}: only ours ran it: {got:?}").unwrap();
    }
    assert!(
        diffs.is_empty(),
        "{} behaves differently on our libfuse:\n{diffs}\n{}\n{}",
        ours.program,
        ours.render(),
        reference.render()
    );
}

/// The libfuse3 files a process maps.
fn mapped_libfuse(pid: u32) -> Result<Vec<String>, String> {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| format!("cannot read /proc/{pid}/maps: {e}"))?;
    let mut libs: Vec<String> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| p.contains("libfuse3"))
        .map(str::to_string)
        .collect();
    libs.sort();
    libs.dedup();
    Ok(libs)
}

/// Our own look at the daemon's maps, on top of MountGuard's: on ours, only files from our
/// target directory and never Debian's; on the system library, Debian's.
fn check_mapped_library(pid: u32, lib: Lib) -> Outcome {
    let libs = mapped_libfuse(pid)?;
    let debian_dir = fs::canonicalize(Path::new(DEBIAN_LIBFUSE).parent().unwrap())
        .map_err(|e| format!("{DEBIAN_LIBFUSE}: {e}"))?;
    let ours_dir = fs::canonicalize(target_profile_dir()).map_err(|e| e.to_string())?;
    let is_debian = |p: &String| {
        let p = Path::new(p);
        p.starts_with(&debian_dir)
            && p.file_name().is_some_and(|n| n.as_bytes().starts_with(b"libfuse3.so.3"))
    };
    let ok = match lib {
        Lib::System => {
            libs.iter().any(is_debian) && !libs.iter().any(|p| Path::new(p).starts_with(&ours_dir))
        }
        Lib::Ours => {
            !libs.is_empty()
                && libs.iter().all(|p| Path::new(p).starts_with(&ours_dir))
                && !libs.iter().any(is_debian)
        }
    };
    if ok {
        Ok("the expected libfuse is mapped, and no other".into())
    } else {
        Err(format!("on {} libfuse the daemon maps {libs:?}", lib.name()))
    }
}

/// Mount with `cmd` and record the mount and library checks; None if it did not mount.
fn mount(report: &mut Report, cmd: &mut Command, mnt: &Path) -> Option<MountGuard> {
    match MountGuard::start(cmd, mnt, report.lib, MOUNT_T) {
        Ok(g) => {
            let fstype = fuse_mount_type(mnt).unwrap_or_default();
            report.record("mount", Ok(format!("mounted as {fstype}")));
            let pid = g.pid().expect("running daemon");
            report.record("mapped libfuse", check_mapped_library(pid, report.lib));
            Some(g)
        }
        Err(e) => {
            report.record("mount", Err(e));
            None
        }
    }
}

/// Unmount the way a user does and require the daemon to exit 0 by itself.
fn unmount(report: &mut Report, guard: MountGuard) {
    if let Some(prev) = report.stalled.clone() {
        report.record("unmount", Err(format!("not run: `{prev}` timed out")));
        drop(guard);
        return;
    }
    match guard.unmount() {
        Ok((status, o, e)) => {
            report.log = format!("{o}{e}");
            let outcome = if status.success() {
                Ok("daemon exited 0".to_string())
            } else {
                Err(format!("daemon exited with {status}"))
            };
            report.record("unmount", outcome);
        }
        Err(e) => report.record("unmount", Err(e)),
    }
}

/// A program our tests need, by absolute path; panics naming the package to install.
fn program(path: &str, package: &str) -> PathBuf {
    let p = PathBuf::from(path);
    assert!(
        p.is_file(),
        "{path} is missing: install the Debian package `{package}` (apt-get install {package})"
    );
    p
}

fn require_our_library() {
    let so = target_profile_dir().join("libfuse3.so.3");
    assert!(so.exists(), "{} is missing: run `cargo build --workspace` first", so.display());
}

// ---------------------------------------------------------------------------------------------
// Small helpers for checks

fn errno_name(e: &io::Error) -> String {
    let name = match e.raw_os_error() {
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::EEXIST) => "EEXIST",
        Some(libc::ENOTEMPTY) => "ENOTEMPTY",
        Some(libc::ENOTDIR) => "ENOTDIR",
        Some(libc::EISDIR) => "EISDIR",
        Some(libc::EROFS) => "EROFS",
        Some(libc::ENOSYS) => "ENOSYS",
        Some(libc::EACCES) => "EACCES",
        Some(libc::EPERM) => "EPERM",
        Some(libc::EIO) => "EIO",
        Some(libc::ENOTCONN) => "ENOTCONN",
        Some(libc::EXDEV) => "EXDEV",
        Some(libc::ENODATA) => "ENODATA",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::EOPNOTSUPP) => "EOPNOTSUPP",
        Some(n) => return format!("errno {n}"),
        None => return e.to_string(),
    };
    name.to_string()
}

trait Ctx<T> {
    fn ctx(self, what: impl std::fmt::Display) -> Result<T, String>;
}

impl<T> Ctx<T> for io::Result<T> {
    fn ctx(self, what: impl std::fmt::Display) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {} ({e})", errno_name(&e)))
    }
}

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// The operation must fail with exactly `errno`.
fn expect_errno<T: std::fmt::Debug>(
    r: io::Result<T>,
    errno: i32,
    what: &str,
) -> Result<(), String> {
    match r {
        Ok(v) => Err(format!(
            "{what}: succeeded ({v:?}), expected {}",
            errno_name(&io::Error::from_raw_os_error(errno))
        )),
        Err(e) if e.raw_os_error() == Some(errno) => Ok(()),
        Err(e) => Err(format!(
            "{what}: {} ({e}), expected {}",
            errno_name(&e),
            errno_name(&io::Error::from_raw_os_error(errno))
        )),
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), so observations are the same every run.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    v.truncate(len);
    v
}

/// FNV-1a, to fold a listing or a file into a short observation.
fn fnv(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("path without NUL")
}

fn lsetxattr(p: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let (cp, cn) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: both strings are NUL-terminated and live across the call; value is a valid slice.
    let r =
        unsafe { libc::lsetxattr(cp.as_ptr(), cn.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if r == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

fn lgetxattr(p: &Path, name: &str) -> io::Result<Vec<u8>> {
    let (cp, cn) = (cpath(p), CString::new(name).unwrap());
    let mut buf = vec![0u8; 65536];
    // SAFETY: both strings are NUL-terminated; buf is writable for buf.len() bytes.
    let r =
        unsafe { libc::lgetxattr(cp.as_ptr(), cn.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(r as usize);
    Ok(buf)
}

/// getxattr with a zero-sized buffer: the value's size.
fn lgetxattr_size(p: &Path, name: &str) -> io::Result<usize> {
    let (cp, cn) = (cpath(p), CString::new(name).unwrap());
    // SAFETY: both strings are NUL-terminated; a NULL buffer of size 0 asks for the size only.
    let r = unsafe { libc::lgetxattr(cp.as_ptr(), cn.as_ptr(), std::ptr::null_mut(), 0) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r as usize) }
}

/// listxattr with a zero-sized buffer: the size of the name list.
fn llistxattr_size(p: &Path) -> io::Result<usize> {
    let cp = cpath(p);
    // SAFETY: cp is NUL-terminated; a NULL buffer of size 0 asks for the size only.
    let r = unsafe { libc::llistxattr(cp.as_ptr(), std::ptr::null_mut(), 0) };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(r as usize) }
}

/// Extended attribute names, sorted.
fn llistxattr(p: &Path) -> io::Result<Vec<String>> {
    let cp = cpath(p);
    let mut buf = vec![0u8; 65536];
    // SAFETY: cp is NUL-terminated; buf is writable for buf.len() bytes.
    let r = unsafe { libc::llistxattr(cp.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(r as usize);
    let mut names: Vec<String> = buf
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    names.sort();
    Ok(names)
}

/// readdir of one directory, in the order the filesystem returns it.
fn readdir(dir: &Path) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    for e in fs::read_dir(dir).ctx(format!("opendir {}", dir.display()))? {
        let e = e.ctx(format!("readdir {}", dir.display()))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Every path under `root` (relative, sorted), not following symlinks; `root` itself is "".
fn walk(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![PathBuf::new()];
    let mut i = 0;
    while i < out.len() {
        let rel = out[i].clone();
        let abs = root.join(&rel);
        if fs::symlink_metadata(&abs).ctx(format!("lstat {}", abs.display()))?.is_dir() {
            for name in sorted(readdir(&abs)?) {
                out.push(rel.join(name));
            }
        }
        i += 1;
    }
    out.sort();
    Ok(out)
}

fn write_file(p: &Path, data: &[u8], mode: u32) {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(p)
        .unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
    f.write_all(data).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

// ---------------------------------------------------------------------------------------------
// squashfuse_ll

const BIG: usize = 3 * 1024 * 1024 + 17;

/// A tree with files of many sizes, nested directories, a 600-entry directory, symlinks, a hard
/// link, a FIFO, odd modes and extended attributes.
fn build_squash_source(src: &Path) {
    fs::create_dir_all(src.join("a/b/c/d")).unwrap();
    fs::create_dir_all(src.join("many")).unwrap();
    fs::create_dir_all(src.join("private")).unwrap();
    fs::create_dir_all(src.join("emptydir")).unwrap();
    for (name, len) in [
        ("empty", 0),
        ("one", 1),
        ("page-1", 4095),
        ("page", 4096),
        ("page+1", 4097),
        ("block", 131072),
        ("block+1", 131073),
    ] {
        write_file(&src.join(name), &noise(len, len as u64 + 7), 0o644);
    }
    write_file(&src.join("big.bin"), &noise(BIG, 42), 0o644);
    let text: Vec<u8> = b"squashfuse compresses this line well. ".repeat(2 * 1024 * 1024 / 38);
    write_file(&src.join("a/text.txt"), &text, 0o640);
    write_file(&src.join("a/zeros"), &vec![0u8; 1 << 20], 0o600);
    write_file(&src.join("a/b/c/d/deep.txt"), b"deep\n", 0o444);
    write_file(&src.join("a/b/run.sh"), b"#!/bin/sh\necho hi\n", 0o755);
    write_file(&src.join("a/b/setuid"), b"s", 0o4755);
    write_file(&src.join("private/secret"), b"secret\n", 0o600);
    fs::set_permissions(src.join("private"), fs::Permissions::from_mode(0o700)).unwrap();
    for i in 0..600 {
        // Names from 1 to 200 bytes, so readdir needs several buffers.
        let name = format!("{i:04}-{}", "n".repeat(i % 197));
        write_file(&src.join("many").join(name), format!("{i}\n").as_bytes(), 0o644);
    }
    std::os::unix::fs::symlink("a/b", src.join("link-rel")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", src.join("link-abs")).unwrap();
    std::os::unix::fs::symlink("does/not/exist", src.join("link-dangling")).unwrap();
    std::os::unix::fs::symlink("x".repeat(250), src.join("link-long")).unwrap();
    fs::hard_link(src.join("one"), src.join("one-hardlink")).unwrap();
    nix::unistd::mkfifo(&src.join("fifo"), nix::sys::stat::Mode::from_bits_truncate(0o644))
        .unwrap();
    lsetxattr(&src.join("one"), "user.colour", b"blue").unwrap();
    lsetxattr(&src.join("one"), "user.empty", b"").unwrap();
    lsetxattr(&src.join("a"), "user.dir", b"on a directory").unwrap();
    lsetxattr(&src.join("big.bin"), "user.binary", &noise(300, 3)).unwrap();
}

/// Compare one property of every entry of `src` and `mnt`; `f` gives the property.
fn compare_tree(
    src: &Path,
    mnt: &Path,
    what: &str,
    f: impl Fn(&Path) -> Result<Option<String>, String>,
) -> Outcome {
    let paths = walk(src)?;
    let mut compared = 0;
    for rel in &paths {
        let want = f(&src.join(rel))?;
        let got = f(&mnt.join(rel))?;
        ensure!(want == got, "{what} of /{}: source {want:?}, mounted {got:?}", rel.display());
        compared += usize::from(want.is_some());
    }
    Ok(format!("{what} equal for {compared} entries"))
}

fn squashfuse_ll_run(lib: Lib, tag: &str) -> Report {
    let exe = program("/usr/bin/squashfuse_ll", "squashfuse");
    let mksquashfs = program("/usr/bin/mksquashfs", "squashfs-tools");
    let mut report = Report::new("squashfuse_ll", lib);
    let dir = scratch_dir(&format!("real_programs/squashfuse_ll-{tag}"));
    let (src, img, mnt) = (dir.join("src"), dir.join("tree.sqfs"), dir.join("mnt"));
    fs::create_dir(&mnt).unwrap();
    build_squash_source(&src);
    // Default options keep xattrs, owners and modes.
    if let Err(e) = run_ok(
        Command::new(&mksquashfs).arg(&src).arg(&img).args([
            "-noappend",
            "-quiet",
            "-no-progress",
            "-processors",
            "1",
        ]),
        TOOL_T,
    ) {
        report.record("mksquashfs", Err(e));
        return report;
    }
    let Some(guard) = mount(&mut report, Command::new(&exe).arg("-f").arg(&img).arg(&mnt), &mnt)
    else {
        return report;
    };

    let (s, m) = (src.clone(), mnt.clone());
    report.check("readdir names", move || {
        let mut entries = 0;
        let mut order = Vec::new();
        for rel in walk(&s)? {
            if !fs::symlink_metadata(s.join(&rel)).unwrap().is_dir() {
                continue;
            }
            let want = sorted(readdir(&s.join(&rel))?);
            let got = readdir(&m.join(&rel))?;
            ensure!(
                want == sorted(got.clone()),
                "readdir /{}: source {want:?}, mounted {got:?}",
                rel.display()
            );
            entries += got.len();
            order.extend(got);
        }
        Ok(format!(
            "{entries} entries, readdir order hash {:016x}",
            fnv(order.join("/").as_bytes())
        ))
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("file types and modes", move || {
        compare_tree(&s, &m, "mode", |p| {
            Ok(Some(format!("{:o}", fs::symlink_metadata(p).ctx(p.display())?.mode())))
        })
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("sizes of files and symlinks", move || {
        compare_tree(&s, &m, "size", |p| {
            let md = fs::symlink_metadata(p).ctx(p.display())?;
            Ok((!md.is_dir()).then(|| md.size().to_string()))
        })
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("owners and mtimes", move || {
        compare_tree(&s, &m, "uid:gid mtime", |p| {
            let md = fs::symlink_metadata(p).ctx(p.display())?;
            Ok(Some(format!("{}:{} {}", md.uid(), md.gid(), md.mtime())))
        })
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("file contents", move || {
        let mut bytes = 0u64;
        let r = compare_tree(&s, &m, "contents", |p| {
            let md = fs::symlink_metadata(p).ctx(p.display())?;
            if !md.is_file() {
                return Ok(None);
            }
            let data = fs::read(p).ctx(format!("read {}", p.display()))?;
            Ok(Some(format!("{} bytes, hash {:016x}", data.len(), fnv(&data))))
        })?;
        for rel in walk(&s)? {
            let md = fs::symlink_metadata(s.join(&rel)).unwrap();
            if md.is_file() {
                bytes += md.size();
            }
        }
        Ok(format!("{r}, {bytes} bytes"))
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("pread across block boundaries", move || {
        let want = fs::read(s.join("big.bin")).ctx("read source big.bin")?;
        let f = fs::File::open(m.join("big.bin")).ctx("open mounted big.bin")?;
        let mut n = 0;
        for (off, len) in [
            (0, 1),
            (131_000, 1000),
            (131_071, 2),
            (262_144, 131_072),
            (BIG - 10, 10),
            (BIG - 3, 100),
        ] {
            let mut buf = vec![0u8; len];
            let mut got = 0;
            while got < len {
                let r = f
                    .read_at(&mut buf[got..], (off + got) as u64)
                    .ctx(format!("pread at {off}"))?;
                if r == 0 {
                    break;
                }
                got += r;
            }
            let end = (off + len).min(BIG);
            ensure!(buf[..got] == want[off..end], "pread({off}, {len}) returned different bytes");
            n += 1;
        }
        let mut buf = [0u8; 16];
        let r = f.read_at(&mut buf, BIG as u64 + 100).ctx("pread past EOF")?;
        ensure!(r == 0, "pread past EOF returned {r} bytes");
        Ok(format!("{n} preads match, past EOF reads 0"))
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("symlink targets", move || {
        compare_tree(&s, &m, "readlink", |p| {
            if !fs::symlink_metadata(p).ctx(p.display())?.file_type().is_symlink() {
                return Ok(None);
            }
            Ok(Some(
                fs::read_link(p).ctx(format!("readlink {}", p.display()))?.display().to_string(),
            ))
        })
    });
    let m = mnt.clone();
    report.check("follow symlink to a directory", move || {
        let got = fs::read(m.join("link-rel/c/d/deep.txt")).ctx("read link-rel/c/d/deep.txt")?;
        ensure!(got == b"deep\n", "read through the link gave {got:?}");
        expect_errno(
            fs::metadata(m.join("link-dangling")),
            libc::ENOENT,
            "stat through a dangling link",
        )?;
        Ok("read through link-rel; dangling link gives ENOENT".into())
    });
    let m = mnt.clone();
    report.check("hard link", move || {
        let a = fs::symlink_metadata(m.join("one")).ctx("lstat one")?;
        let b = fs::symlink_metadata(m.join("one-hardlink")).ctx("lstat one-hardlink")?;
        ensure!(a.ino() == b.ino(), "one and one-hardlink have inodes {} and {}", a.ino(), b.ino());
        ensure!(a.nlink() == 2, "one has nlink {}", a.nlink());
        Ok("same inode, nlink 2".into())
    });
    let m = mnt.clone();
    report.check("fifo", move || {
        let md = fs::symlink_metadata(m.join("fifo")).ctx("lstat fifo")?;
        ensure!(md.mode() & libc::S_IFMT == libc::S_IFIFO, "fifo has mode {:o}", md.mode());
        Ok("fifo is a FIFO".into())
    });
    let (s, m) = (src.clone(), mnt.clone());
    report.check("xattrs", move || {
        let r = compare_tree(&s, &m, "xattrs", |p| {
            let names = llistxattr(p).ctx(format!("listxattr {}", p.display()))?;
            let mut v = Vec::new();
            // user.empty has an empty value: the next check looks at it.
            for n in names.iter().filter(|n| n.starts_with("user.") && *n != "user.empty") {
                let val = lgetxattr(p, n).ctx(format!("getxattr {} {n}", p.display()))?;
                v.push(format!("{n}={:016x}/{}", fnv(&val), val.len()));
            }
            Ok((!v.is_empty()).then(|| v.join(",")))
        })?;
        let got = lgetxattr(&m.join("one"), "user.colour").ctx("getxattr one user.colour")?;
        ensure!(got == b"blue", "user.colour is {got:?}");
        expect_errno(
            lgetxattr(&m.join("one"), "user.nope"),
            libc::ENODATA,
            "getxattr of a missing name",
        )?;
        let size = lgetxattr_size(&m.join("big.bin"), "user.binary").ctx("getxattr size query")?;
        ensure!(size == 300, "size query for user.binary gives {size}");
        let list = llistxattr_size(&m.join("one")).ctx("listxattr size query")?;
        let want = llistxattr_size(&s.join("one")).ctx("listxattr size query on the source")?;
        ensure!(list == want, "listxattr size query gives {list}, source {want}");
        Ok(format!(
            "{r}; user.colour reads blue; a missing name gives ENODATA; size queries {size}, {list}"
        ))
    });
    let m = mnt.clone();
    report.check("empty xattr value", move || {
        // Whatever squashfuse_ll answers (an empty value or ENODATA), ours must answer the same.
        let listed = llistxattr(&m.join("one")).ctx("listxattr one")?;
        let value = match lgetxattr(&m.join("one"), "user.empty") {
            Ok(v) => format!("{} bytes", v.len()),
            Err(e) => errno_name(&e),
        };
        Ok(format!("listed {listed:?}; getxattr user.empty: {value}"))
    });
    let m = mnt.clone();
    report.check("errors", move || {
        expect_errno(
            fs::symlink_metadata(m.join("no-such-file")),
            libc::ENOENT,
            "lstat of a missing name",
        )?;
        expect_errno(fs::File::create(m.join("new-file")), libc::EROFS, "create")?;
        expect_errno(
            fs::OpenOptions::new().write(true).open(m.join("one")),
            libc::EROFS,
            "open for writing",
        )?;
        expect_errno(fs::read_dir(m.join("one")), libc::ENOTDIR, "opendir of a file")?;
        Ok("ENOENT, EROFS, EROFS, ENOTDIR".into())
    });
    let m = mnt.clone();
    report.check("access checks (root)", move || {
        let data = fs::read(m.join("private/secret")).ctx("read private/secret")?;
        ensure!(data == b"secret\n", "private/secret reads {data:?}");
        Ok("0700 directory and 0600 file readable".into())
    });
    let m = mnt.clone();
    report.check("statfs", move || {
        let st = nix::sys::statvfs::statvfs(&m).map_err(|e| format!("statvfs: {e}"))?;
        ensure!(st.files() > 600, "statfs reports {} inodes", st.files());
        // Not the block count: it follows the image's size, which its mtimes can nudge.
        ensure!(st.blocks() > 0, "statfs reports no blocks");
        Ok(format!("bsize {}, files {}, namemax {}", st.block_size(), st.files(), st.name_max()))
    });
    unmount(&mut report, guard);
    report
}

#[test]
fn squashfuse_ll_system() {
    assert_all_pass(&squashfuse_ll_run(Lib::System, "system"));
}

#[test]
fn squashfuse_ll_ours() {
    require_our_library();
    let reference = squashfuse_ll_run(Lib::System, "ours-reference");
    let ours = squashfuse_ll_run(Lib::Ours, "ours");
    assert_same(&reference, &ours);
}

// ---------------------------------------------------------------------------------------------
// fuse-overlayfs

struct Overlay {
    lower: PathBuf,
    upper: PathBuf,
    mnt: PathBuf,
}

fn build_overlay_layers(lower: &Path, upper: &Path) {
    for d in ["dir/sub", "both", "emptydir", "many"] {
        fs::create_dir_all(lower.join(d)).unwrap();
    }
    fs::create_dir_all(upper.join("both")).unwrap();
    write_file(&lower.join("f.txt"), b"lower f\n", 0o644);
    write_file(&lower.join("keep.txt"), b"kept\n", 0o644);
    write_file(&lower.join("shadow.txt"), b"from lower\n", 0o644);
    write_file(&lower.join("del.txt"), b"delete me\n", 0o644);
    write_file(&lower.join("ren.txt"), b"rename me\n", 0o644);
    write_file(&lower.join("chmod.txt"), b"chmod me\n", 0o644);
    write_file(&lower.join("trunc.txt"), &noise(10_000, 5), 0o644);
    write_file(&lower.join("big.bin"), &noise(BIG, 9), 0o644);
    write_file(&lower.join("dir/a.txt"), b"a\n", 0o644);
    write_file(&lower.join("dir/sub/b.txt"), b"b\n", 0o644);
    write_file(&lower.join("both/lower_only.txt"), b"lower only\n", 0o644);
    write_file(&lower.join("both/common.txt"), b"lower\n", 0o644);
    for i in 0..300 {
        write_file(&lower.join(format!("many/{i:03}-{}", "m".repeat(i % 100))), b"m", 0o644);
    }
    std::os::unix::fs::symlink("f.txt", lower.join("lnk")).unwrap();
    write_file(&upper.join("shadow.txt"), b"from upper\n", 0o644);
    write_file(&upper.join("upper_only.txt"), b"upper only\n", 0o644);
    write_file(&upper.join("both/upper_only.txt"), b"upper only\n", 0o644);
    write_file(&upper.join("both/common.txt"), b"upper\n", 0o644);
}

/// How `name` in `dir` of the upper layer is whited out, if it is.
fn whiteout(dir: &Path, name: &str) -> Option<&'static str> {
    if let Ok(md) = fs::symlink_metadata(dir.join(name)) {
        if md.file_type().is_char_device() && md.rdev() == 0 {
            return Some("0/0 character device");
        }
    }
    fs::symlink_metadata(dir.join(format!(".wh.{name}"))).ok().map(|_| ".wh. file")
}

fn overlay_run(lib: Lib, tag: &str, threaded: bool) -> Report {
    let exe = program("/usr/bin/fuse-overlayfs", "fuse-overlayfs");
    let name = if threaded { "fuse-overlayfs -o threaded=1" } else { "fuse-overlayfs" };
    let mut report = Report::new(name, lib);
    let dir = scratch_dir(&format!("real_programs/fuse-overlayfs-{tag}"));
    let o = Overlay { lower: dir.join("lower"), upper: dir.join("upper"), mnt: dir.join("mnt") };
    let work = dir.join("work");
    for d in [&o.lower, &o.upper, &work, &o.mnt] {
        fs::create_dir_all(d).unwrap();
    }
    build_overlay_layers(&o.lower, &o.upper);
    let mut opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        o.lower.display(),
        o.upper.display(),
        work.display()
    );
    if threaded {
        opts.push_str(",threaded=1");
    }
    let Some(guard) =
        mount(&mut report, Command::new(&exe).arg("-f").arg("-o").arg(&opts).arg(&o.mnt), &o.mnt)
    else {
        return report;
    };
    let pid = guard.pid().expect("running daemon");
    let probe = o.mnt.join("f.txt");
    report.check("event loop threads", move || {
        let count = || -> Result<usize, String> {
            Ok(fs::read_dir(format!("/proc/{pid}/task")).ctx("list /proc/PID/task")?.count())
        };
        // The mount shows before the loop has started its workers: give them a moment.
        let mut threads = count()?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while threaded && threads == 1 && std::time::Instant::now() < deadline {
            let _ = fs::metadata(&probe);
            std::thread::sleep(std::time::Duration::from_millis(20));
            threads = count()?;
        }
        match (threaded, threads) {
            (false, 1) => Ok("single-threaded loop".into()),
            (true, n) if n > 1 => Ok("multi-threaded loop".into()),
            (_, n) => Err(format!("threaded={threaded} but the daemon has {n} threads")),
        }
    });
    let o = std::sync::Arc::new(o);

    let v = o.clone();
    report.check("read lower files", move || {
        for (rel, want) in
            [("f.txt", &b"lower f\n"[..]), ("dir/sub/b.txt", b"b\n"), ("lnk", b"lower f\n")]
        {
            let got = fs::read(v.mnt.join(rel)).ctx(format!("read {rel}"))?;
            ensure!(got == want, "{rel} reads {got:?}");
        }
        let big = fs::read(v.mnt.join("big.bin")).ctx("read big.bin")?;
        ensure!(big == noise(BIG, 9), "big.bin differs from the lower file");
        let target = fs::read_link(v.mnt.join("lnk")).ctx("readlink lnk")?;
        ensure!(target == Path::new("f.txt"), "lnk points at {}", target.display());
        Ok("three files, a symlink and a 3 MiB file read as in lower".into())
    });
    let v = o.clone();
    report.check("upper shadows lower", move || {
        let got = fs::read(v.mnt.join("shadow.txt")).ctx("read shadow.txt")?;
        ensure!(got == b"from upper\n", "shadow.txt reads {got:?}");
        let got = fs::read(v.mnt.join("both/common.txt")).ctx("read both/common.txt")?;
        ensure!(got == b"upper\n", "both/common.txt reads {got:?}");
        Ok("upper copies win".into())
    });
    let v = o.clone();
    report.check("readdir merges layers", move || {
        let root = sorted(readdir(&v.mnt)?);
        let want = [
            "big.bin",
            "both",
            "chmod.txt",
            "del.txt",
            "dir",
            "emptydir",
            "f.txt",
            "keep.txt",
            "lnk",
            "many",
            "ren.txt",
            "shadow.txt",
            "trunc.txt",
            "upper_only.txt",
        ];
        ensure!(root == want, "root lists {root:?}");
        let both = sorted(readdir(&v.mnt.join("both"))?);
        ensure!(both == ["common.txt", "lower_only.txt", "upper_only.txt"], "both/ lists {both:?}");
        let many = readdir(&v.mnt.join("many"))?;
        ensure!(many.len() == 300, "many/ lists {} entries", many.len());
        for name in many.iter().step_by(37) {
            fs::symlink_metadata(v.mnt.join("many").join(name))
                .ctx(format!("lstat many/{name}"))?;
        }
        Ok(format!("root {} entries, both/ 3, many/ 300", root.len()))
    });
    let v = o.clone();
    report.check("append copies up", move || {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(v.mnt.join("f.txt"))
            .ctx("open f.txt for append")?;
        f.write_all(b"more\n").ctx("append to f.txt")?;
        drop(f);
        let got = fs::read(v.mnt.join("f.txt")).ctx("read f.txt")?;
        ensure!(got == b"lower f\nmore\n", "f.txt reads {got:?}");
        let up = fs::read(v.upper.join("f.txt")).ctx("read upper/f.txt")?;
        ensure!(up == b"lower f\nmore\n", "upper/f.txt holds {up:?}");
        let low = fs::read(v.lower.join("f.txt")).ctx("read lower/f.txt")?;
        ensure!(low == b"lower f\n", "lower/f.txt changed to {low:?}");
        Ok("new content in upper, lower unchanged".into())
    });
    let v = o.clone();
    report.check("pwrite into a large lower file", move || {
        let f = fs::OpenOptions::new()
            .write(true)
            .open(v.mnt.join("big.bin"))
            .ctx("open big.bin for writing")?;
        f.write_all_at(b"PATCH", 1_500_000).ctx("pwrite big.bin")?;
        drop(f);
        let mut want = noise(BIG, 9);
        want[1_500_000..1_500_005].copy_from_slice(b"PATCH");
        ensure!(
            fs::read(v.mnt.join("big.bin")).ctx("read big.bin")? == want,
            "mounted big.bin is wrong"
        );
        ensure!(
            fs::read(v.upper.join("big.bin")).ctx("read upper/big.bin")? == want,
            "upper/big.bin is wrong"
        );
        ensure!(
            fs::read(v.lower.join("big.bin")).ctx("read lower/big.bin")? == noise(BIG, 9),
            "lower changed"
        );
        Ok("whole file copied up and patched, lower unchanged".into())
    });
    let v = o.clone();
    report.check("chmod copies up", move || {
        fs::set_permissions(v.mnt.join("chmod.txt"), fs::Permissions::from_mode(0o600))
            .ctx("chmod chmod.txt")?;
        let m =
            fs::symlink_metadata(v.mnt.join("chmod.txt")).ctx("lstat chmod.txt")?.mode() & 0o7777;
        let u =
            fs::symlink_metadata(v.upper.join("chmod.txt")).ctx("lstat upper/chmod.txt")?.mode()
                & 0o7777;
        let l =
            fs::symlink_metadata(v.lower.join("chmod.txt")).ctx("lstat lower/chmod.txt")?.mode()
                & 0o7777;
        ensure!(
            (m, u, l) == (0o600, 0o600, 0o644),
            "modes mounted {m:o}, upper {u:o}, lower {l:o}"
        );
        Ok("0600 on the mount and in upper, lower 0644".into())
    });
    let v = o.clone();
    report.check("truncate copies up", move || {
        fs::OpenOptions::new()
            .write(true)
            .open(v.mnt.join("trunc.txt"))
            .ctx("open trunc.txt")?
            .set_len(100)
            .ctx("ftruncate")?;
        let got = fs::read(v.mnt.join("trunc.txt")).ctx("read trunc.txt")?;
        ensure!(got == noise(10_000, 5)[..100], "trunc.txt reads {} bytes, wrong", got.len());
        let l =
            fs::symlink_metadata(v.lower.join("trunc.txt")).ctx("lstat lower/trunc.txt")?.size();
        ensure!(l == 10_000, "lower/trunc.txt is {l} bytes");
        fs::write(v.mnt.join("trunc.txt"), b"").ctx("open O_TRUNC")?;
        let s = fs::symlink_metadata(v.mnt.join("trunc.txt")).ctx("lstat trunc.txt")?.size();
        ensure!(s == 0, "O_TRUNC left {s} bytes");
        Ok("100 bytes then 0 on the mount, lower 10000".into())
    });
    let v = o.clone();
    report.check("create new file", move || {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(v.mnt.join("new.txt"))
            .ctx("create new.txt")?;
        f.write_all(b"new\n").ctx("write new.txt")?;
        drop(f);
        ensure!(
            fs::read(v.mnt.join("new.txt")).ctx("read new.txt")? == b"new\n",
            "new.txt reads wrong"
        );
        ensure!(
            fs::read(v.upper.join("new.txt")).ctx("read upper/new.txt")? == b"new\n",
            "upper/new.txt wrong"
        );
        ensure!(!v.lower.join("new.txt").exists(), "new.txt appeared in lower");
        expect_errno(
            fs::OpenOptions::new().write(true).create_new(true).open(v.mnt.join("new.txt")),
            libc::EEXIST,
            "O_EXCL create of an existing name",
        )?;
        Ok("in upper only; O_EXCL gives EEXIST".into())
    });
    let v = o.clone();
    report.check("rename a lower file", move || {
        fs::rename(v.mnt.join("ren.txt"), v.mnt.join("renamed.txt"))
            .ctx("rename ren.txt renamed.txt")?;
        ensure!(
            fs::read(v.mnt.join("renamed.txt")).ctx("read renamed.txt")? == b"rename me\n",
            "content lost"
        );
        expect_errno(fs::symlink_metadata(v.mnt.join("ren.txt")), libc::ENOENT, "lstat old name")?;
        ensure!(v.upper.join("renamed.txt").exists(), "renamed.txt is not in upper");
        let wh = whiteout(&v.upper, "ren.txt")
            .ok_or_else(|| "no whiteout for ren.txt in upper".to_string())?;
        ensure!(
            fs::read(v.lower.join("ren.txt")).ctx("read lower/ren.txt")? == b"rename me\n",
            "lower changed"
        );
        Ok(format!("new name in upper, old name whited out ({wh}), lower unchanged"))
    });
    let v = o.clone();
    report.check("rename into a lower directory", move || {
        fs::write(v.mnt.join("move.txt"), b"moving\n").ctx("create move.txt")?;
        fs::rename(v.mnt.join("move.txt"), v.mnt.join("dir/moved.txt"))
            .ctx("rename move.txt dir/moved.txt")?;
        ensure!(
            fs::read(v.mnt.join("dir/moved.txt")).ctx("read dir/moved.txt")? == b"moving\n",
            "content lost"
        );
        let d = sorted(readdir(&v.mnt.join("dir"))?);
        ensure!(d == ["a.txt", "moved.txt", "sub"], "dir/ lists {d:?}");
        ensure!(v.upper.join("dir/moved.txt").exists(), "dir/moved.txt not in upper");
        Ok("moved into the copied-up directory".into())
    });
    let v = o.clone();
    report.check("delete a lower file", move || {
        fs::remove_file(v.mnt.join("del.txt")).ctx("unlink del.txt")?;
        expect_errno(
            fs::symlink_metadata(v.mnt.join("del.txt")),
            libc::ENOENT,
            "lstat deleted file",
        )?;
        ensure!(!readdir(&v.mnt)?.contains(&"del.txt".to_string()), "del.txt still listed");
        let wh = whiteout(&v.upper, "del.txt")
            .ok_or_else(|| "no whiteout for del.txt in upper".to_string())?;
        ensure!(v.lower.join("del.txt").exists(), "lower/del.txt was removed");
        Ok(format!("gone from the mount, whiteout in upper ({wh}), lower kept"))
    });
    let v = o.clone();
    report.check("mkdir and rmdir", move || {
        let d = v.mnt.join("newdir");
        fs::create_dir(&d).ctx("mkdir newdir")?;
        expect_errno(fs::create_dir(&d), libc::EEXIST, "mkdir of an existing name")?;
        fs::write(d.join("inner"), b"x").ctx("create newdir/inner")?;
        ensure!(readdir(&d)? == ["inner"], "newdir lists {:?}", readdir(&d)?);
        expect_errno(fs::remove_dir(&d), libc::ENOTEMPTY, "rmdir of a non-empty directory")?;
        fs::remove_file(d.join("inner")).ctx("unlink newdir/inner")?;
        fs::remove_dir(&d).ctx("rmdir newdir")?;
        expect_errno(fs::symlink_metadata(&d), libc::ENOENT, "lstat removed directory")?;
        // fuse-overlayfs leaves a whiteout even for a directory only upper had.
        let left = match fs::symlink_metadata(v.upper.join("newdir")) {
            Err(_) => "nothing",
            Ok(_) => whiteout(&v.upper, "newdir")
                .ok_or_else(|| "upper/newdir survived rmdir".to_string())?,
        };
        Ok(format!("EEXIST, ENOTEMPTY, then removed; upper keeps {left}"))
    });
    let v = o.clone();
    report.check("rmdir a lower directory", move || {
        fs::remove_dir(v.mnt.join("emptydir")).ctx("rmdir emptydir")?;
        expect_errno(
            fs::symlink_metadata(v.mnt.join("emptydir")),
            libc::ENOENT,
            "lstat removed directory",
        )?;
        let wh = whiteout(&v.upper, "emptydir")
            .ok_or_else(|| "no whiteout for emptydir in upper".to_string())?;
        ensure!(v.lower.join("emptydir").is_dir(), "lower/emptydir was removed");
        Ok(format!("whited out ({wh}), lower kept"))
    });
    let v = o.clone();
    report.check("symlink and hard link", move || {
        std::os::unix::fs::symlink("new.txt", v.mnt.join("sl")).ctx("symlink sl")?;
        let t = fs::read_link(v.mnt.join("sl")).ctx("readlink sl")?;
        ensure!(t == Path::new("new.txt"), "sl points at {}", t.display());
        fs::hard_link(v.mnt.join("new.txt"), v.mnt.join("hl.txt")).ctx("link new.txt hl.txt")?;
        let a = fs::symlink_metadata(v.mnt.join("new.txt")).ctx("lstat new.txt")?;
        let b = fs::symlink_metadata(v.mnt.join("hl.txt")).ctx("lstat hl.txt")?;
        ensure!(a.nlink() == 2 && b.nlink() == 2, "nlink {} and {}", a.nlink(), b.nlink());
        ensure!(
            fs::read(v.mnt.join("hl.txt")).ctx("read hl.txt")? == b"new\n",
            "hl.txt reads wrong"
        );
        Ok("readlink matches, nlink 2".into())
    });
    let v = o.clone();
    report.check("xattrs", move || {
        lsetxattr(&v.mnt.join("keep.txt"), "user.test", b"value").ctx("setxattr keep.txt")?;
        let got = lgetxattr(&v.mnt.join("keep.txt"), "user.test").ctx("getxattr keep.txt")?;
        ensure!(got == b"value", "user.test reads {got:?}");
        let names = llistxattr(&v.mnt.join("keep.txt")).ctx("listxattr keep.txt")?;
        ensure!(names.contains(&"user.test".to_string()), "listxattr gives {names:?}");
        expect_errno(
            lgetxattr(&v.mnt.join("keep.txt"), "user.none"),
            libc::ENODATA,
            "getxattr of a missing name",
        )?;
        ensure!(
            llistxattr(&v.lower.join("keep.txt")).ctx("listxattr lower")?.is_empty(),
            "xattr reached lower"
        );
        Ok(format!("set, get, list ({}), ENODATA; lower untouched", names.join(",")))
    });
    let v = o.clone();
    report.check("statfs", move || {
        let st = nix::sys::statvfs::statvfs(&v.mnt).map_err(|e| format!("statvfs: {e}"))?;
        ensure!(st.blocks() > 0, "statfs reports no blocks");
        Ok(format!("namemax {}", st.name_max()))
    });
    unmount(&mut report, guard);
    report
}

#[test]
fn fuse_overlayfs_system() {
    assert_all_pass(&overlay_run(Lib::System, "system", false));
}

#[test]
fn fuse_overlayfs_ours() {
    require_our_library();
    let reference = overlay_run(Lib::System, "ours-reference", false);
    let ours = overlay_run(Lib::Ours, "ours", false);
    assert_same(&reference, &ours);
}

#[test]
fn fuse_overlayfs_threaded_system() {
    assert_all_pass(&overlay_run(Lib::System, "threaded-system", true));
}

#[test]
fn fuse_overlayfs_threaded_ours() {
    require_our_library();
    let reference = overlay_run(Lib::System, "threaded-ours-reference", true);
    let ours = overlay_run(Lib::Ours, "threaded-ours", true);
    assert_same(&reference, &ours);
}

// ---------------------------------------------------------------------------------------------
// pyfuse3

const PYTHON: &str = "/usr/bin/python3";

fn pyfuse3_run(lib: Lib, tag: &str) -> Report {
    // Debian's interpreter: pyfuse3 is installed for it, not for a pyenv python3 on PATH.
    let python = program(PYTHON, "python3");
    // Without cargo's LD_LIBRARY_PATH (it includes target/<profile>): this probes the install.
    let probe = run_ok(
        Command::new(&python).args(["-c", "import pyfuse3, trio"]).env_remove("LD_LIBRARY_PATH"),
        TOOL_T,
    );
    assert!(
        probe.is_ok(),
        "{PYTHON} cannot import pyfuse3: install the Debian package `python3-pyfuse3`\n{probe:?}"
    );
    let script = common::repo_root().join("tests/py/memfs.py");
    let mut report = Report::new("pyfuse3 memfs.py", lib);
    let dir = scratch_dir(&format!("real_programs/pyfuse3-{tag}"));
    let mnt = dir.join("mnt");
    fs::create_dir(&mnt).unwrap();
    let Some(guard) = mount(&mut report, Command::new(&python).arg(&script).arg(&mnt), &mnt) else {
        return report;
    };

    let m = mnt.clone();
    report.check("create, write, read", move || {
        fs::write(m.join("hello.txt"), b"hello, world\n").ctx("write hello.txt")?;
        let got = fs::read(m.join("hello.txt")).ctx("read hello.txt")?;
        ensure!(got == b"hello, world\n", "hello.txt reads {got:?}");
        let big = noise((1 << 20) + 7, 11);
        fs::write(m.join("big.bin"), &big).ctx("write big.bin")?;
        ensure!(
            fs::read(m.join("big.bin")).ctx("read big.bin")? == big,
            "big.bin reads back different"
        );
        let f = fs::File::open(m.join("big.bin")).ctx("open big.bin")?;
        let mut buf = vec![0u8; 5000];
        let n = f.read_at(&mut buf, 700_000).ctx("pread big.bin")?;
        ensure!(buf[..n] == big[700_000..700_000 + n] && n > 0, "pread at 700000 gave wrong bytes");
        Ok("13 bytes and 1 MiB + 7 read back; pread matches".into())
    });
    let m = mnt.clone();
    report.check("getattr", move || {
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o640)
            .open(m.join("attr.txt"))
            .ctx("create attr.txt")?;
        f.write_all_at(b"12345", 0).ctx("write attr.txt")?;
        drop(f);
        let md = fs::symlink_metadata(m.join("attr.txt")).ctx("lstat attr.txt")?;
        ensure!(md.is_file() && md.size() == 5 && md.nlink() == 1, "attr.txt: {md:?}");
        ensure!(md.uid() == nix::unistd::getuid().as_raw(), "uid {}", md.uid());
        let root = fs::symlink_metadata(&m).ctx("lstat root")?;
        ensure!(root.is_dir() && root.ino() == 1, "root is ino {}", root.ino());
        Ok(format!("regular, 5 bytes, mode {:o}, root ino 1", md.mode() & 0o7777))
    });
    let m = mnt.clone();
    report.check("setattr", move || {
        let p = m.join("attr.txt");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o604)).ctx("chmod")?;
        let mode = fs::symlink_metadata(&p).ctx("lstat")?.mode() & 0o7777;
        ensure!(mode == 0o604, "mode {mode:o} after chmod 604");
        let f = fs::OpenOptions::new().write(true).open(&p).ctx("open attr.txt")?;
        f.set_len(2).ctx("ftruncate 2")?;
        f.set_len(10).ctx("ftruncate 10")?;
        drop(f);
        let data = fs::read(&p).ctx("read")?;
        ensure!(data == b"12\0\0\0\0\0\0\0\0", "after truncates: {data:?}");
        let when = std::time::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
        let f = fs::File::open(&p).ctx("open")?;
        f.set_times(fs::FileTimes::new().set_modified(when).set_accessed(when)).ctx("futimens")?;
        drop(f);
        let md = fs::symlink_metadata(&p).ctx("lstat")?;
        ensure!(
            md.mtime() == 1_000_000_000 && md.mtime_nsec() == 123_456_789,
            "mtime {}.{}",
            md.mtime(),
            md.mtime_nsec()
        );
        ensure!(md.atime() == 1_000_000_000, "atime {}", md.atime());
        nix::unistd::chown(
            &p,
            Some(nix::unistd::Uid::from_raw(1234)),
            Some(nix::unistd::Gid::from_raw(5678)),
        )
        .map_err(|e| format!("chown: {e}"))?;
        let md = fs::symlink_metadata(&p).ctx("lstat")?;
        ensure!((md.uid(), md.gid()) == (1234, 5678), "owner {}:{}", md.uid(), md.gid());
        Ok("chmod, truncate down and up, utimens (ns), chown".into())
    });
    let m = mnt.clone();
    report.check("readdir", move || {
        let d = m.join("list");
        fs::create_dir(&d).ctx("mkdir list")?;
        let mut want = Vec::new();
        for i in 0..300 {
            let name = format!("{i:03}-{}", "p".repeat(i % 120));
            fs::write(d.join(&name), b"").ctx(format!("create {name}"))?;
            want.push(name);
        }
        let got = readdir(&d)?;
        ensure!(
            got == want,
            "list/ gives {} names, not the 300 created (in name order)",
            got.len()
        );
        let root = sorted(readdir(&m)?);
        ensure!(root == ["attr.txt", "big.bin", "hello.txt", "list"], "root lists {root:?}");
        Ok("300 entries over several readdir calls, in order; root 4".into())
    });
    let m = mnt.clone();
    report.check("unlink", move || {
        fs::remove_file(m.join("hello.txt")).ctx("unlink hello.txt")?;
        expect_errno(
            fs::symlink_metadata(m.join("hello.txt")),
            libc::ENOENT,
            "lstat after unlink",
        )?;
        expect_errno(fs::remove_file(m.join("hello.txt")), libc::ENOENT, "second unlink")?;
        // An open file survives its unlink.
        let f = fs::File::open(m.join("big.bin")).ctx("open big.bin")?;
        fs::remove_file(m.join("big.bin")).ctx("unlink big.bin")?;
        let mut buf = [0u8; 4];
        ensure!(
            f.read_at(&mut buf, 0).ctx("read unlinked file")? == 4,
            "short read of an unlinked file"
        );
        Ok("ENOENT afterwards; an open file stays readable".into())
    });
    let m = mnt.clone();
    report.check("mkdir and rmdir", move || {
        let d = m.join("a");
        fs::create_dir(&d).ctx("mkdir a")?;
        fs::create_dir(d.join("b")).ctx("mkdir a/b")?;
        expect_errno(fs::create_dir(&d), libc::EEXIST, "mkdir of an existing name")?;
        let nlink = fs::symlink_metadata(&d).ctx("lstat a")?.nlink();
        ensure!(nlink == 3, "a has nlink {nlink}");
        expect_errno(fs::remove_dir(&d), libc::ENOTEMPTY, "rmdir non-empty")?;
        expect_errno(fs::remove_dir(m.join("attr.txt")), libc::ENOTDIR, "rmdir of a file")?;
        fs::remove_dir(d.join("b")).ctx("rmdir a/b")?;
        fs::remove_dir(&d).ctx("rmdir a")?;
        expect_errno(fs::symlink_metadata(&d), libc::ENOENT, "lstat removed dir")?;
        Ok("EEXIST, nlink 3, ENOTEMPTY, ENOTDIR, removed".into())
    });
    let m = mnt.clone();
    report.check("rename", move || {
        fs::write(m.join("r1"), b"one").ctx("create r1")?;
        fs::write(m.join("r2"), b"two").ctx("create r2")?;
        fs::rename(m.join("r1"), m.join("r1b")).ctx("rename r1 r1b")?;
        fs::rename(m.join("r1b"), m.join("list/r1c")).ctx("rename r1b list/r1c")?;
        fs::rename(m.join("r2"), m.join("list/r1c")).ctx("rename r2 over list/r1c")?;
        ensure!(
            fs::read(m.join("list/r1c")).ctx("read list/r1c")? == b"two",
            "rename over did not replace"
        );
        expect_errno(fs::symlink_metadata(m.join("r2")), libc::ENOENT, "old name after rename")?;
        fs::create_dir(m.join("dd")).ctx("mkdir dd")?;
        fs::rename(m.join("dd"), m.join("list/dd")).ctx("rename a directory")?;
        ensure!(
            fs::symlink_metadata(m.join("list/dd")).ctx("lstat list/dd")?.is_dir(),
            "list/dd is not a dir"
        );
        Ok("within a dir, across dirs, over an existing file, a directory".into())
    });
    let m = mnt.clone();
    report.check("symlink", move || {
        std::os::unix::fs::symlink("attr.txt", m.join("sl")).ctx("symlink")?;
        ensure!(
            fs::read_link(m.join("sl")).ctx("readlink")? == Path::new("attr.txt"),
            "wrong target"
        );
        ensure!(fs::read(m.join("sl")).ctx("read through sl")?.len() == 10, "read through sl");
        Ok("readlink and follow".into())
    });
    let m = mnt.clone();
    report.check("statfs", move || {
        let st = nix::sys::statvfs::statvfs(&m).map_err(|e| format!("statvfs: {e}"))?;
        ensure!(
            st.block_size() == 4096 && st.name_max() == 255,
            "bsize {} namemax {}",
            st.block_size(),
            st.name_max()
        );
        Ok(format!("bsize {}, blocks {}, namemax {}", st.block_size(), st.blocks(), st.name_max()))
    });
    let m = mnt.clone();
    report.check("errors", move || {
        expect_errno(fs::File::open(m.join("missing")), libc::ENOENT, "open of a missing name")?;
        expect_errno(fs::read_dir(m.join("attr.txt")), libc::ENOTDIR, "opendir of a file")?;
        // memfs has no getxattr: the library answers ENOSYS, which the kernel reports as EOPNOTSUPP.
        expect_errno(lgetxattr(&m.join("attr.txt"), "user.x"), libc::EOPNOTSUPP, "getxattr")?;
        Ok("ENOENT, ENOTDIR, getxattr EOPNOTSUPP".into())
    });
    unmount(&mut report, guard);
    report
}

#[test]
fn pyfuse3_system() {
    assert_all_pass(&pyfuse3_run(Lib::System, "system"));
}

#[test]
fn pyfuse3_ours() {
    require_our_library();
    let reference = pyfuse3_run(Lib::System, "ours-reference");
    let ours = pyfuse3_run(Lib::Ours, "ours");
    assert_same(&reference, &ours);
}

// ---------------------------------------------------------------------------------------------
// The guard itself

/// A daemon that loads Debian's libfuse although started as `Lib::Ours` (LD_PRELOAD wins over
/// LD_LIBRARY_PATH for the same soname) must be refused, and its mount removed.
#[test]
fn mount_guard_refuses_debian_libfuse_under_ours() {
    let exe = program("/usr/bin/squashfuse_ll", "squashfuse");
    let mksquashfs = program("/usr/bin/mksquashfs", "squashfs-tools");
    require_our_library();
    let dir = scratch_dir("real_programs/guard");
    let (src, img, mnt) = (dir.join("src"), dir.join("t.sqfs"), dir.join("mnt"));
    fs::create_dir(&src).unwrap();
    fs::create_dir(&mnt).unwrap();
    fs::write(src.join("f"), b"f").unwrap();
    run_ok(
        Command::new(&mksquashfs).arg(&src).arg(&img).args(["-noappend", "-quiet", "-no-progress"]),
        TOOL_T,
    )
    .unwrap();
    let mut cmd = Command::new(&exe);
    cmd.arg("-f").arg(&img).arg(&mnt).env("LD_PRELOAD", DEBIAN_LIBFUSE);
    match MountGuard::start(&mut cmd, &mnt, Lib::Ours, MOUNT_T) {
        Ok(g) => {
            let libs = g.pid().map(mapped_libfuse);
            panic!("MountGuard accepted a Lib::Ours daemon that maps {libs:?}");
        }
        Err(e) => assert!(
            e.contains("should run on ours libfuse") && e.contains("libfuse3.so.3.14"),
            "expected the library check to refuse Debian's libfuse, got: {e}"
        ),
    }
    assert!(fuse_mount_type(&mnt).is_none(), "the refused daemon's mount was left behind");
}
