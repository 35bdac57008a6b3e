//! Debian 12's high-level (`fuse.h`, `fuse_main()`) examples, unchanged: hello, passthrough,
//! passthrough_fh and invalidate_path, each built twice, with Debian's headers (as Debian's
//! examples Makefile builds them: NEEDED `libfuse3.so.3`) and with our headers through our
//! `fuse3.pc` (NEEDED `libfuse3.so.4`). The Debian build runs on Debian's libfuse (the
//! reference: every check must pass) and on ours, the other on ours; every check must come out
//! the same. (poll, ioctl and null are in tests/ll_notify_examples.rs; libfuse's own
//! test_syscalls over the passthroughs is in tests/conformance.rs.)
//!
//! The passthroughs mirror `/`; the checks work in a scratch directory through the mount and
//! look at the real directory next to it, as libfuse's test_examples.py does. They cover what
//! the high-level layer adds to the kernel's view: paths from inode numbers, renames, hard
//! links, a file unlinked (or renamed over) while open (libfuse hides it as `.fuse_hidden...`
//! and removes it on the last close), large directories, permissions and sizes.

mod common;

use common::cbuild::{self, BUILD_T, Built, Flavour, Pc, STRICT, build_c, debian_examples, gcc};
use common::mount::{Lib, MountGuard, with_timeout};
use common::{libfuse_318_build, parallel_map, scratch_dir, target_profile_dir};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const MOUNT_T: Duration = Duration::from_secs(20);
/// For all the checks of one run; a broken mount hangs instead of failing.
const CHECKS_T: Duration = Duration::from_secs(60);
const EXAMPLES: [&str; 4] = ["hello", "passthrough", "passthrough_fh", "invalidate_path"];

fn built(flavour: Flavour) -> &'static Built {
    static CACHE: [OnceLock<Built>; 2] = [OnceLock::new(), OnceLock::new()];
    CACHE[flavour as usize]
        .get_or_init(|| debian_examples(flavour, &EXAMPLES, "hl_examples", |_| vec![], &[]))
}

fn exe(flavour: Flavour, name: &str) -> PathBuf {
    cbuild::exe(built(flavour), flavour, name)
}

/// One check's outcome: "ok", or what went wrong (an errno or a wrong result).
type Outcomes = Vec<(&'static str, String)>;
type CheckFn = fn(&Path, &Path) -> Result<(), String>;

fn io<T>(r: std::io::Result<T>) -> Result<T, String> {
    r.map_err(|e| match e.raw_os_error() {
        Some(n) => format!("errno {n}"),
        None => format!("error {e}"),
    })
}

fn eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what}: got {got:?}, want {want:?}")) }
}

fn errno_of<T: std::fmt::Debug>(r: std::io::Result<T>) -> Result<i32, String> {
    match r {
        Ok(v) => Err(format!("succeeded ({v:?})")),
        Err(e) => e.raw_os_error().ok_or_else(|| e.to_string()),
    }
}

/// Mount `bin args... mnt` on `lib`, run `checks` (each gets the mount and a scratch source
/// directory), unmount with `fusermount3 -u`; the daemon must exit 0.
fn mount_and_check(
    bin: &Path,
    args: &[&str],
    lib: Lib,
    tag: &str,
    checks: &'static [(&'static str, CheckFn)],
    mirror: bool,
) -> Outcomes {
    let dir = scratch_dir(&format!("hl_examples-{tag}-{}", lib.name()));
    let mnt = dir.join("mnt");
    let src = dir.join("src");
    std::fs::create_dir_all(&mnt).unwrap();
    std::fs::create_dir_all(&src).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(args).arg(&mnt);
    let m = MountGuard::start(&mut cmd, &mnt, lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    // A passthrough of `/`: the directory as seen through the mount.
    let work = if mirror { mnt.join(src.strip_prefix("/").unwrap()) } else { mnt.clone() };
    let (w, s) = (work.clone(), src.clone());
    let outcomes = with_timeout(tag, CHECKS_T, move || {
        checks
            .iter()
            .map(|(name, f)| (*name, f(&w, &s).map_or_else(|e| e, |()| "ok".to_string())))
            .collect::<Outcomes>()
    })
    .unwrap_or_else(|e| vec![("checks", format!("hung: {e}"))]);
    let (status, o, e) = m.unmount().unwrap_or_else(|e| panic!("{e}\n{outcomes:#?}"));
    assert!(status.success(), "{tag} on {}: exit {status}\n{o}{e}\n{outcomes:#?}", lib.name());
    outcomes
}

/// Reference (Debian build, Debian's libfuse) all ok; both builds on ours the same. `variant`
/// names this run's scratch directories (tests run in parallel).
fn compare(
    name: &str,
    variant: &str,
    args: &[&str],
    checks: &'static [(&'static str, CheckFn)],
    mirror: bool,
) {
    let runs = parallel_map(
        &[
            (Lib::System, Flavour::Deb314),
            (Lib::Ours, Flavour::Deb314),
            (Lib::Ours, Flavour::OurHdr),
        ],
        |(lib, fl)| {
            let tag = format!("{name}-{variant}-{}", fl.name());
            mount_and_check(&exe(*fl, name), args, *lib, &tag, checks, mirror)
        },
    );
    let bad: Vec<_> = runs[0].iter().filter(|(_, o)| o != "ok").collect();
    assert!(bad.is_empty(), "{name} on Debian's libfuse (reference) failed: {bad:#?}");
    assert_eq!(runs[1], runs[0], "{name} (Debian's headers) on ours vs Debian's libfuse");
    assert_eq!(runs[2], runs[0], "{name} (our headers) on ours vs Debian's libfuse");
}

// ---------------------------------------------------------------------------------------------
// hello

const HELLO_CHECKS: &[(&str, CheckFn)] = &[
    ("readdir", |m, _| {
        let names: Vec<String> = io(std::fs::read_dir(m))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        eq("names", names, vec!["greeting".to_string()])
    }),
    ("stat", |m, _| {
        let md = io(std::fs::metadata(m.join("greeting")))?;
        eq("mode", md.mode(), libc::S_IFREG | 0o444)?;
        eq("size", md.len(), 6)?;
        eq("root mode", io(std::fs::metadata(m))?.mode(), libc::S_IFDIR | 0o755)
    }),
    ("read", |m, _| {
        eq("content", io(std::fs::read_to_string(m.join("greeting")))?, "howdy\n".into())
    }),
    ("write", |m, _| {
        let r = std::fs::OpenOptions::new().write(true).open(m.join("greeting"));
        eq("errno", errno_of(r)?, libc::EACCES)
    }),
    ("missing", |m, _| eq("errno", errno_of(std::fs::metadata(m.join("nope")))?, libc::ENOENT)),
    ("create", |m, _| eq("errno", errno_of(std::fs::File::create(m.join("new")))?, libc::ENOSYS)),
];

#[test]
fn hello_with_options() {
    compare("hello", "mt", &["-f", "--name=greeting", "--contents=howdy\n"], HELLO_CHECKS, false);
}

#[test]
fn hello_single_threaded() {
    compare(
        "hello",
        "st",
        &["-f", "-s", "--name=greeting", "--contents=howdy\n"],
        HELLO_CHECKS,
        false,
    );
}

// ---------------------------------------------------------------------------------------------
// passthrough, passthrough_fh

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn hidden_names(dir: &Path) -> Result<Vec<String>, String> {
    Ok(io(std::fs::read_dir(dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".fuse_hidden"))
        .collect())
}

const PT_CHECKS: &[(&str, CheckFn)] = &[
    ("write+read", |w, s| {
        let data = pattern(200_000, 1);
        io(std::fs::write(w.join("a"), &data))?;
        eq("through mount", io(std::fs::read(w.join("a")))? == data, true)?;
        eq("in source", io(std::fs::read(s.join("a")))? == data, true)
    }),
    ("pread", |w, _| {
        let mut f = io(std::fs::File::open(w.join("a")))?;
        io(f.seek(SeekFrom::Start(123_457)))?;
        let mut b = [0u8; 8];
        io(f.read_exact(&mut b))?;
        eq("bytes", b.to_vec(), pattern(200_000, 1)[123_457..123_465].to_vec())
    }),
    ("append", |w, _| {
        let mut f = io(std::fs::OpenOptions::new().append(true).open(w.join("a")))?;
        io(f.write_all(b"tail"))?;
        eq("size", io(std::fs::metadata(w.join("a")))?.len(), 200_004)
    }),
    ("truncate", |w, s| {
        let f = io(std::fs::OpenOptions::new().write(true).open(w.join("a")))?;
        io(f.set_len(1000))?;
        eq("size", io(std::fs::metadata(s.join("a")))?.len(), 1000)
    }),
    ("chmod", |w, s| {
        io(std::fs::set_permissions(w.join("a"), std::fs::Permissions::from_mode(0o640)))?;
        eq("mode", io(std::fs::metadata(s.join("a")))?.mode() & 0o7777, 0o640)
    }),
    ("rename", |w, s| {
        io(std::fs::rename(w.join("a"), w.join("b")))?;
        eq("old", errno_of(std::fs::metadata(w.join("a")))?, libc::ENOENT)?;
        eq("new size", io(std::fs::metadata(w.join("b")))?.len(), 1000)?;
        eq("in source", s.join("b").exists(), true)
    }),
    ("link", |w, _| {
        io(std::fs::hard_link(w.join("b"), w.join("c")))?;
        eq("nlink", io(std::fs::metadata(w.join("b")))?.nlink(), 2)?;
        io(std::fs::remove_file(w.join("c")))?;
        eq("nlink after", io(std::fs::metadata(w.join("b")))?.nlink(), 1)
    }),
    ("symlink", |w, _| {
        io(std::os::unix::fs::symlink("b", w.join("l")))?;
        eq("target", io(std::fs::read_link(w.join("l")))?, PathBuf::from("b"))?;
        eq("through", io(std::fs::metadata(w.join("l")))?.len(), 1000)
    }),
    ("mkdir+rmdir", |w, s| {
        io(std::fs::create_dir(w.join("d")))?;
        io(std::fs::write(w.join("d/x"), b"x"))?;
        eq("nonempty", errno_of(std::fs::remove_dir(w.join("d")))?, libc::ENOTEMPTY)?;
        io(std::fs::remove_file(w.join("d/x")))?;
        io(std::fs::remove_dir(w.join("d")))?;
        eq("gone", s.join("d").exists(), false)
    }),
    ("unlink while open", |w, s| {
        io(std::fs::write(w.join("u"), b"still here"))?;
        let mut f = io(std::fs::File::open(w.join("u")))?;
        io(std::fs::remove_file(w.join("u")))?;
        eq("name gone", errno_of(std::fs::metadata(w.join("u")))?, libc::ENOENT)?;
        eq("fstat nlink", io(f.metadata())?.nlink(), 0)?;
        let mut text = String::new();
        io(f.read_to_string(&mut text))?;
        eq("read after unlink", text.as_str(), "still here")?;
        drop(f);
        // The hidden name goes with the last close (RELEASE is asynchronous: wait a little).
        for _ in 0..50 {
            if hidden_names(s)?.is_empty() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("left behind: {:?}", hidden_names(s)?))
    }),
    ("rename over open", |w, s| {
        io(std::fs::write(w.join("old"), b"old data"))?;
        io(std::fs::write(w.join("new"), b"new data"))?;
        let mut f = io(std::fs::File::open(w.join("old")))?;
        io(std::fs::rename(w.join("new"), w.join("old")))?;
        let mut text = String::new();
        io(f.read_to_string(&mut text))?;
        eq("old fd", text.as_str(), "old data")?;
        eq("new name", io(std::fs::read_to_string(w.join("old")))?, "new data".to_string())?;
        drop(f);
        for _ in 0..50 {
            if hidden_names(s)?.is_empty() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("left behind: {:?}", hidden_names(s)?))
    }),
    ("big readdir", |w, s| {
        io(std::fs::create_dir(w.join("many")))?;
        for i in 0..400 {
            io(std::fs::write(w.join(format!("many/file-with-a-longish-name-{i:04}")), b""))?;
        }
        let list = |d: &Path| -> Result<Vec<String>, String> {
            let mut v: Vec<String> = io(std::fs::read_dir(d))?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<Result<_, _>>()
                .map_err(|e| e.to_string())?;
            v.sort();
            Ok(v)
        };
        let through = list(&w.join("many"))?;
        eq("count", through.len(), 400)?;
        eq("same as source", through, list(&s.join("many"))?)
    }),
    ("inode numbers", |w, _| {
        // Without use_ino the library numbers the inodes itself; a name keeps its number while
        // the kernel holds it, and two names of one file (a hard link) share it.
        io(std::fs::hard_link(w.join("b"), w.join("b2")))?;
        let (x, y) = (io(std::fs::metadata(w.join("b")))?, io(std::fs::metadata(w.join("b2")))?);
        eq("same file, same ino", x.ino() == y.ino(), true)?;
        io(std::fs::remove_file(w.join("b2")))
    }),
    ("statfs", |w, _| {
        let c = std::ffi::CString::new(w.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: all-zero is a valid statvfs; `c` is a C string alive across the call.
        let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
        // SAFETY: as above; `st` is writable.
        let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
        eq("rc", rc, 0)?;
        eq("has blocks", st.f_blocks > 0, true)
    }),
];

#[test]
fn passthrough_mirrors() {
    compare("passthrough", "base", &["-f"], PT_CHECKS, true);
}

#[test]
fn passthrough_plus_mirrors() {
    compare("passthrough", "plus", &["-f", "--plus"], PT_CHECKS, true);
}

#[test]
fn passthrough_fh_mirrors() {
    compare("passthrough_fh", "mt", &["-f"], PT_CHECKS, true);
}

#[test]
fn passthrough_fh_single_threaded() {
    compare("passthrough_fh", "st", &["-f", "-s"], PT_CHECKS, true);
}

// ---------------------------------------------------------------------------------------------
// invalidate_path

const INVAL_CHECKS: &[(&str, CheckFn)] = &[
    ("names", |m, _| {
        let mut names: Vec<String> = io(std::fs::read_dir(m))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        names.sort();
        eq("names", names, vec!["current_time".to_string(), "growing".to_string()])
    }),
    ("time changes", |m, _| {
        // The file's content changes every second and fuse_invalidate_path() makes the kernel
        // drop its cache (the example keeps the kernel cache otherwise): a read 2.5 s later
        // shows new content.
        let first = io(std::fs::read_to_string(m.join("current_time")))?;
        if !first.starts_with("The current time is ") {
            return Err(format!("content {first:?}"));
        }
        std::thread::sleep(Duration::from_millis(2500));
        let second = io(std::fs::read_to_string(m.join("current_time")))?;
        eq("changed", second != first, true)
    }),
];

#[test]
fn invalidate_path_refreshes() {
    compare("invalidate_path", "notify", &["-f", "--update-interval=1"], INVAL_CHECKS, false);
}

// ---------------------------------------------------------------------------------------------
// fuse_config.intr (tests/c/hl_intr.c)

/// A read stuck in the filesystem, whose reader is killed: with `intr` set by init() the
/// library signals the thread serving it, the callback's sleep() ends early and it sees
/// `fuse_interrupted()`. Built with Debian's headers and with ours, on ours.
///
/// Not compared with Debian's libfuse, which cannot pass: libfuse 3 installs the handler for
/// the interrupt signal in `fuse_new()` only if `intr` is set then (lib/fuse.c, its
/// `fuse_init_intr_signal` call), but since 3.0 `intr` can only be set later, by `init()` (it
/// refuses `-o intr`). So its first interrupt kills the filesystem with SIGUSR1 (checked here
/// by hand: "exit signal: 10"). Ours installs the handler once `init()` has set `intr`.
#[test]
fn intr_option_interrupts_a_blocked_read() {
    let src = common::repo_root().join("tests/c/hl_intr.c");
    let dir = scratch_dir("hl_examples-intr");
    let runs =
        parallel_map(&[(Lib::Ours, Flavour::Deb314), (Lib::Ours, Flavour::OurHdr)], |(lib, fl)| {
            let exe = dir.join(format!("hl_intr-{}", fl.name()));
            build_c(fl.pc(), &STRICT, &src, &exe).unwrap();
            let mnt = dir.join(format!("mnt-{}-{}", lib.name(), fl.name()));
            std::fs::create_dir_all(&mnt).unwrap();
            let mut cmd = Command::new(&exe);
            cmd.arg("-f").arg(&mnt);
            let m =
                MountGuard::start(&mut cmd, &mnt, *lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
            let started = std::time::Instant::now();
            let mut reader = Command::new("cat").arg(mnt.join("slow")).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(700));
            reader.kill().unwrap();
            let w = with_timeout("reader exit", Duration::from_secs(30), move || reader.wait());
            let took = started.elapsed();
            let (status, o, e) = m.unmount().unwrap_or_else(|e| panic!("{e}"));
            assert!(status.success(), "hl_intr on {}: exit {status}\n{o}{e}", lib.name());
            assert!(w.is_ok(), "the reader never ended");
            (took < Duration::from_secs(10), e.contains("fuse_interrupted()=1"), e)
        });
    for (run, what) in runs.iter().zip(["Debian's headers on ours", "our headers on ours"]) {
        assert_eq!((run.0, run.1), (true, true), "{what}: (quick, saw fuse_interrupted) {run:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad arguments (tests/c/hl_badargs.c)

/// NULL and bad arguments, and the connection-option helpers: what libfuse survives gives the
/// same results on ours (help text wording aside: indented lines are the option lists, in our
/// own words); what libfuse crashes on is refused by ours with an error.
#[test]
fn bad_arguments_are_errors() {
    let dir = scratch_dir("hl_examples-badargs");
    let exe = dir.join("hl_badargs");
    let src = common::repo_root().join("tests/c/hl_badargs.c");
    build_c(Pc::Debian, &STRICT, &src, &exe).unwrap();
    let lib = target_profile_dir();
    let run_on = |mode: &str, ours: bool| {
        let mut c = Command::new(&exe);
        c.arg(mode);
        if ours {
            c.env("LD_LIBRARY_PATH", &lib);
        } else {
            c.env_remove("LD_LIBRARY_PATH");
        }
        common::run(&mut c, BUILD_T).unwrap()
    };
    let keep = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("    ") && !l.is_empty() && !l.starts_with("Options for"))
            .map(String::from)
            .collect()
    };
    let (sys, ours) = (run_on("common", false), run_on("common", true));
    assert!(sys.ok() && ours.ok(), "system: {sys:?}\nours: {ours:?}");
    assert!(sys.stdout.contains("fuse_main(no mountpoint) = 2"), "{}", sys.stdout);
    assert!(
        sys.stdout.contains("applied: max_write 4096, posix locks 0, flock 0, readdirplus 0"),
        "{}",
        sys.stdout
    );
    assert_eq!(keep(&ours.stdout), keep(&sys.stdout), "stdout differs");
    assert_eq!(ours.stderr, sys.stderr, "stderr differs");

    let r = run_on("ours", true);
    assert!(r.ok(), "{r:?}");
    for want in [
        "fuse_new(NULL args) = NULL",
        "fuse_new(NULL ops) = NULL",
        "fuse_mount(NULL) = -1",
        "fuse_loop(NULL) = -1",
        "fuse_loop_mt(NULL) = -1",
        "fuse_invalidate_path(NULL) = -22",
        "fuse_fs_getattr(NULL fs) = -22",
        "fuse_fs_new(NULL ops) = NULL",
        "fuse_getgroups outside a request = -22",
        "fuse_main(0, NULL) = 1",
        "fuse_fs_getattr(\"/\") = 0",
        "fuse_fs_unlink (no op) = -38",
        "fuse_fs_statfs (default) = 0, bsize 512, namemax 255",
    ] {
        assert!(r.stdout.lines().any(|l| l == want), "missing {want:?} in:\n{}", r.stdout);
    }
}

/// The `fuse_config` switches libfuse 3 only takes from `init()` are unknown options on the
/// command line, on both libraries: an error naming them, a non-zero exit, no mount.
#[test]
fn init_only_switches_are_unknown_options() {
    let mnt = scratch_dir("hl_examples-initonly");
    let lib = target_profile_dir();
    for opt in ["hard_remove", "use_ino", "readdir_ino", "direct_io", "nullpath_ok", "intr"] {
        let mut outs = Vec::new();
        for ours in [false, true] {
            let mut c = Command::new(exe(Flavour::Deb314, "hello"));
            c.args(["-f", "-o", opt]).arg(&mnt);
            if ours {
                c.env("LD_LIBRARY_PATH", &lib);
            } else {
                c.env_remove("LD_LIBRARY_PATH");
            }
            let r = common::run(&mut c, BUILD_T).unwrap();
            assert!(!r.ok(), "-o {opt} accepted (ours: {ours}): {r:?}");
            assert!(r.stderr.contains("unknown option"), "-o {opt} (ours: {ours}): {}", r.stderr);
            assert!(common::mount::fuse_mount_type(&mnt).is_none(), "-o {opt} mounted");
            outs.push((r.status.code(), r.stderr));
        }
        assert_eq!(outs[0], outs[1], "-o {opt}: Debian's libfuse and ours differ");
    }
}

// ---------------------------------------------------------------------------------------------
// Path locks (tests/c/hl_slow_rename.c)

/// A stat of `/a/x` that arrives while `/a` is being renamed (the filesystem has renamed it but
/// not answered yet) waits for the rename and then succeeds under the new name, as on libfuse
/// (its path locks); without them the library would pass the old path and get ENOENT.
#[test]
fn operations_below_a_directory_wait_for_its_rename() {
    let src = common::repo_root().join("tests/c/hl_slow_rename.c");
    let dir = scratch_dir("hl_examples-slow-rename");
    let runs = parallel_map(
        &[
            (Lib::System, Flavour::Deb314),
            (Lib::Ours, Flavour::Deb314),
            (Lib::Ours, Flavour::OurHdr),
        ],
        |(lib, fl)| {
            let tag = format!("{}-{}", lib.name(), fl.name());
            let exe = dir.join(format!("hl_slow_rename-{tag}"));
            build_c(fl.pc(), &STRICT, &src, &exe).unwrap();
            let (mnt, data) = (dir.join(format!("mnt-{tag}")), dir.join(format!("data-{tag}")));
            std::fs::create_dir_all(&mnt).unwrap();
            let _ = std::fs::remove_dir_all(&data);
            std::fs::create_dir_all(data.join("a")).unwrap();
            std::fs::write(data.join("a/x"), b"x").unwrap();
            let mut cmd = Command::new(&exe);
            cmd.arg("-f").arg(&mnt);
            let m =
                MountGuard::start(&mut cmd, &mnt, *lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
            let work = mnt.join(data.strip_prefix("/").unwrap());
            let outcome = with_timeout("slow rename", Duration::from_secs(30), move || {
                // Look both up first, so the kernel holds their dentries.
                io(std::fs::metadata(work.join("a/x")))?;
                let w = work.clone();
                let renamer =
                    std::thread::spawn(move || io(std::fs::rename(w.join("a"), w.join("b"))));
                std::thread::sleep(Duration::from_millis(300));
                let during = std::fs::metadata(work.join("a/x")).map(|m| m.len());
                let renamed = renamer.join().unwrap();
                Ok::<_, String>(format!(
                    "rename {renamed:?}; stat during it: {}",
                    match during {
                        Ok(n) => format!("ok, {n} bytes"),
                        Err(e) => format!("errno {}", e.raw_os_error().unwrap_or(-1)),
                    }
                ))
            })
            .unwrap_or_else(|e| Err(format!("hung: {e}")));
            let (status, o, e) = m.unmount().unwrap_or_else(|e| panic!("{e}"));
            assert!(status.success(), "{tag}: exit {status}\n{o}{e}");
            outcome
        },
    );
    assert_eq!(
        runs[0],
        Ok("rename Ok(()); stat during it: ok, 1 bytes".to_string()),
        "reference (Debian's libfuse)"
    );
    assert_eq!(runs[1], runs[0], "Debian's headers on ours");
    assert_eq!(runs[2], runs[0], "our headers on ours");
}

// ---------------------------------------------------------------------------------------------
// statx (tests/c/hl_statx.c, the 3.18 high-level operation)

/// The birth time only statx() can report: built against libfuse 3.18.3 (run on it and on
/// ours) and against our headers (on ours), a statx(2) for STATX_BTIME reaches the filesystem's
/// statx operation on each.
#[test]
fn statx_reaches_the_statx_operation() {
    let src = common::repo_root().join("tests/c/hl_statx.c");
    let dir = scratch_dir("hl_examples-statx");
    let build = libfuse_318_build();
    let tree = common::libfuse_318_tree().unwrap_or_else(|e| panic!("{e}"));
    let exe_318 = dir.join("hl_statx_318");
    let includes =
        [format!("-I{}", build.display()), format!("-I{}", tree.join("include").display())];
    let lib_318 = build.join("lib");
    gcc(
        STRICT.iter().map(|s| s.to_string()).chain(includes),
        &src,
        &exe_318,
        [
            format!("-L{}", lib_318.display()),
            "-l:libfuse3.so.4".into(),
            format!("-Wl,-rpath,{}", lib_318.display()),
        ],
    )
    .unwrap();
    let exe_ours = dir.join("hl_statx_ours");
    build_c(Pc::Ours, &STRICT, &src, &exe_ours).unwrap();
    let runs = parallel_map(
        &[
            (Lib::System, &exe_318, "318-on-318"),
            (Lib::Ours, &exe_318, "318-on-ours"),
            (Lib::Ours, &exe_ours, "ours"),
        ],
        |(lib, exe, tag)| {
            let mnt = dir.join(format!("mnt-{tag}"));
            std::fs::create_dir_all(&mnt).unwrap();
            let mut cmd = Command::new(exe);
            cmd.arg("-f").arg(&mnt);
            let m =
                MountGuard::start(&mut cmd, &mnt, *lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
            let f = mnt.join("f");
            let got = with_timeout("statx", Duration::from_secs(20), move || {
                let c = std::ffi::CString::new(f.as_os_str().as_encoded_bytes()).unwrap();
                // SAFETY: all-zero is a valid statx buffer.
                let mut stx: libc::statx = unsafe { std::mem::zeroed() };
                // SAFETY: `c` is a C string and `stx` writable, both alive across the call.
                let rc = unsafe {
                    libc::statx(
                        libc::AT_FDCWD,
                        c.as_ptr(),
                        0,
                        libc::STATX_BASIC_STATS | libc::STATX_BTIME,
                        &mut stx,
                    )
                };
                if rc != 0 {
                    return format!(
                        "errno {}",
                        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
                    );
                }
                format!(
                    "btime in mask {}, btime {}, size {}",
                    stx.stx_mask & libc::STATX_BTIME != 0,
                    stx.stx_btime.tv_sec,
                    stx.stx_size
                )
            })
            .unwrap_or_else(|e| format!("hung: {e}"));
            let (status, o, e) = m.unmount().unwrap_or_else(|e| panic!("{e}"));
            assert!(status.success(), "{tag}: exit {status}\n{o}{e}");
            got
        },
    );
    assert_eq!(runs[0], "btime in mask true, btime 1234567, size 5", "libfuse 3.18.3 (reference)");
    assert_eq!(runs[1], runs[0], "3.18.3-built program on ours");
    assert_eq!(runs[2], runs[0], "our headers on ours");
}
