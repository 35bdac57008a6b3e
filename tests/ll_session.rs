//! Low-level session behaviour that libfuse's examples do not exercise: misbehaving
//! filesystems (double replies, garbage request handles), NULL arguments to the C API, mount
//! errors, `/dev/fd/N` mountpoints, signals, daemonizing, interrupts and the request context.
//!
//! Each case runs on Debian's libfuse (the reference) and on ours, with the same binary (built
//! against Debian's headers; ours is picked with `LD_LIBRARY_PATH`), and requires the same
//! observable behaviour. Where libfuse would crash (NULL dereference, use after free) only
//! ours runs, and a comment says why.
//!
//! The C programs (tests/c/ll_misbehave.c, ll_badargs.c, fdmount.c, and Debian's hello_ll
//! example) are built once per test run into a scratch directory.

mod common;

use common::cbuild::{DEBIAN_EXAMPLES, Pc, STRICT, built_once, fuse3_flags, gcc};
use common::mount::{Daemon, Lib, MountGuard, UnmountOnDrop, check_maps, force_unmount};
use common::mount::{fuse_mount_type, with_timeout};
use common::{
    parallel_map, repo_root, run, run_ok, scratch_dir, target_profile_dir, wait_for_file,
};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MOUNT_T: Duration = Duration::from_secs(20);
/// Per file operation or process run; a broken mount hangs instead of failing.
const OP_T: Duration = Duration::from_secs(30);
const EXIT_T: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------------
// Building

struct Built {
    /// tests/c/ll_misbehave.c against Debian's headers.
    misbehave: PathBuf,
    /// tests/c/ll_badargs.c against Debian's headers.
    badargs: PathBuf,
    /// tests/c/ll_badargs.c with -DVERSIONED against our headers (FUSE_USE_VERSION 317).
    badargs_versioned: PathBuf,
    /// tests/c/fdmount.c (no libfuse).
    fdmount: PathBuf,
    /// Debian's hello_ll example against Debian's headers.
    hello_ll: PathBuf,
    /// tests/c/openchan.c, linked with -lfuse3 (Debian's).
    openchan: PathBuf,
}

fn build_all() -> Result<Built, String> {
    let dir = scratch_dir("ll_session-build");
    let ours = target_profile_dir();
    if !ours.join("fuse3.pc").is_file() || !ours.join("libfuse3.so.3").exists() {
        return Err(format!(
            "ferrofuse's fuse3.pc or libfuse3.so.3 missing from {}: run `cargo build --workspace`",
            ours.display()
        ));
    }
    let deb = fuse3_flags(Pc::Debian)?;
    let our = fuse3_flags(Pc::Ours)?;
    let c = repo_root().join("tests/c");
    let hello = Path::new(DEBIAN_EXAMPLES).join("hello_ll.c");
    if !hello.is_file() {
        return Err(format!("{} missing: apt-get install libfuse3-dev", hello.display()));
    }
    let strict: Vec<String> = STRICT.iter().map(|s| s.to_string()).collect();
    // (source, output, flags before the source, flags after it)
    let plan: Vec<(PathBuf, PathBuf, Vec<String>, Vec<String>)> = vec![
        (c.join("ll_misbehave.c"), dir.join("ll_misbehave"), strict.clone(), {
            let mut v = deb.clone();
            v.push("-lpthread".into());
            v
        }),
        (c.join("ll_badargs.c"), dir.join("ll_badargs"), strict.clone(), deb.clone()),
        (
            c.join("ll_badargs.c"),
            dir.join("ll_badargs_versioned"),
            {
                let mut v = strict.clone();
                v.push("-DVERSIONED".into());
                v
            },
            our,
        ),
        (c.join("fdmount.c"), dir.join("fdmount"), strict.clone(), vec![]),
        // libfuse's example, not ours: its own warning level (it has unused parameters).
        (hello, dir.join("hello_ll"), vec!["-Wall".into()], deb.clone()),
        (c.join("openchan.c"), dir.join("openchan"), strict.clone(), deb),
    ];
    let results = parallel_map(&plan, |(src, out, pre, post)| gcc(pre, src, out, post));
    let mut it = results.into_iter();
    let mut next = || it.next().expect("one result per plan entry");
    Ok(Built {
        misbehave: next()?,
        badargs: next()?,
        badargs_versioned: next()?,
        fdmount: next()?,
        hello_ll: next()?,
        openchan: next()?,
    })
}

fn built() -> &'static Built {
    static B: OnceLock<Result<Built, String>> = OnceLock::new();
    built_once(&B, "the test programs", build_all)
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/// A fresh mountpoint directory, mode 0755 (other users must be able to reach it).
fn mountpoint(name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch_dir(name);
    let mp = dir.join("mnt");
    std::fs::create_dir(&mp).unwrap();
    for d in [&dir, &mp] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (dir, mp)
}

fn read_file(p: PathBuf) -> Result<String, String> {
    let what = format!("reading {}", p.display());
    with_timeout(&what, OP_T, move || std::fs::read_to_string(&p))?
        .map_err(|e| format!("{what}: {e}"))
}

/// `statx(path, AT_STATX_FORCE_SYNC)`: always sends GETATTR, whatever the cached attributes.
fn statx_sync(p: &Path) -> Result<(), i32> {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let r = with_timeout("statx", OP_T, move || {
        // SAFETY: zeroed statx is a valid out buffer.
        let mut sx: libc::statx = unsafe { std::mem::zeroed() };
        // SAFETY: c is a C string, sx a writable statx.
        let r = unsafe {
            libc::statx(
                libc::AT_FDCWD,
                c.as_ptr(),
                libc::AT_STATX_FORCE_SYNC,
                libc::STATX_BASIC_STATS,
                &mut sx,
            )
        };
        if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error().raw_os_error().unwrap()) }
    });
    r.unwrap_or_else(|e| panic!("{e}"))
}

/// The exit status as something comparable: ("exit", code) or ("signal", n).
fn status_key(st: ExitStatus) -> (&'static str, i32) {
    match (st.code(), st.signal()) {
        (Some(c), _) => ("exit", c),
        (None, Some(s)) => ("signal", s),
        _ => ("unknown", -1),
    }
}

/// stderr without the line libfuse 3.14 prints when hello_ll passes UINT_MAX idle threads
/// (ours follows 3.19, which takes UINT_MAX as "no limit" silently; checked in
/// misc_compare.rs).
fn stderr_lines(e: &str) -> Vec<String> {
    e.lines()
        .filter(|l| !l.starts_with("Ignoring invalid max threads value"))
        .map(String::from)
        .collect()
}

fn mount_daemon(prog: &Path, args: &[&str], mp: &Path, lib: Lib) -> MountGuard {
    let mut cmd = Command::new(prog);
    cmd.args(args).arg(mp);
    MountGuard::start(&mut cmd, mp, lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------------------
// 1. Double replies and garbage request handles

/// Ours only: on libfuse a second reply to the same request frees it twice (use after free),
/// and a reply to a made-up handle dereferences it. Ours keeps requests in a table behind
/// their handles and refuses both with -EINVAL and a log line.
#[test]
fn double_reply_is_refused_and_fs_keeps_serving_ours() {
    let b = built();
    let (_dir, mp) = mountpoint("ll_session-double");
    for single in [true, false] {
        let args: &[&str] = if single { &["-f", "-s"] } else { &["-f"] };
        let m = mount_daemon(&b.misbehave, args, &mp, Lib::Ours);
        assert_eq!(read_file(mp.join("hello")).unwrap(), "hello, session\n");
        // The first answer (the attributes) is what the kernel gets.
        assert_eq!(statx_sync(&mp.join("double")), Ok(()), "getattr of double");
        assert_eq!(statx_sync(&mp.join("double")), Ok(()), "getattr of double, again");
        assert_eq!(read_file(mp.join("hello")).unwrap(), "hello, session\n", "after double");
        let (st, _o, e) = m.unmount().unwrap();
        assert!(st.success(), "exit {st} (single={single}):\n{e}");
        let want = "double: first=0 second=-22 garbage=-22 null=-22";
        assert_eq!(e.matches(want).count(), 2, "want twice {want:?} in:\n{e}");
        assert!(
            e.contains("fuse: fuse_reply_err: request already answered or not a request"),
            "no log line about the refused reply:\n{e}"
        );
    }
}

/// How often `needle` occurs in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// Ours only (on libfuse each of these reaches the kernel, which refuses the answer or fails
/// the whole listing, or shows names no program can use): a filesystem that answers with the
/// wrong reply type, an impossible errno, an over-long symlink target, illegal directory entry
/// names, and never answers one read. Each is refused with one log line per occurrence, the
/// caller gets an error, and the filesystem keeps serving; a SIGTERM with the unanswered read
/// still outstanding ends the daemon promptly, unmounts, and frees the blocked reader.
#[test]
fn misbehaving_answers_are_refused_and_fs_keeps_serving_ours() {
    let b = built();
    for single in [true, false] {
        let (dir, mp) = mountpoint(&format!("ll_session-misbehave-{single}"));
        let _guard = UnmountOnDrop(mp.clone());
        let marks = dir.join("marks");
        std::fs::create_dir(&marks).unwrap();
        let mut cmd = Command::new(&b.misbehave);
        cmd.args(if single { &["-f", "-s"][..] } else { &["-f"][..] }).arg(&mp);
        cmd.env("LL_MARKS", &marks);
        let m = MountGuard::start(&mut cmd, &mp, Lib::Ours, MOUNT_T).unwrap();
        let hello = || read_file(mp.join("hello")).unwrap();
        assert_eq!(hello(), "hello, session\n");

        assert_eq!(statx_sync(&mp.join("wrongtype")), Err(libc::EIO), "wrong reply type");
        assert_eq!(hello(), "hello, session\n", "after the wrong reply type");
        assert_eq!(statx_sync(&mp.join("errno")), Err(libc::ERANGE), "impossible errno");
        let link = mp.join("longlink");
        let rl = with_timeout("readlink", OP_T, move || std::fs::read_link(&link)).unwrap();
        assert_eq!(rl.map_err(|e| e.raw_os_error()), Err(Some(libc::ENAMETOOLONG)));
        let ln = mp.join("longnames");
        let names = with_timeout("readdir", OP_T, move || -> std::io::Result<Vec<String>> {
            std::fs::read_dir(&ln)?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap()
        .expect("listing longnames");
        assert_eq!(names, ["good1", "good2"], "illegal names left out, the rest listed");
        assert_eq!(hello(), "hello, session\n", "after the bad listing");

        // A read the filesystem never answers blocks its caller, not the filesystem.
        let mut reader = Command::new("cat")
            .arg(mp.join("noreply"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        assert!(wait_for_file(&marks.join("noreply.waiting"), OP_T), "noreply read not seen");
        assert_eq!(hello(), "hello, session\n", "with a read left unanswered");
        assert!(reader.try_wait().unwrap().is_none(), "the unanswered reader returned");
        m.signal(libc::SIGTERM);
        let (st, _o, e) = m.wait_exit(EXIT_T).unwrap_or_else(|e| panic!("single={single}: {e}"));
        let deadline = Instant::now() + EXIT_T;
        let freed = loop {
            if let Some(st) = reader.try_wait().unwrap() {
                break Some(st);
            }
            if Instant::now() > deadline {
                let _ = reader.kill();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(freed.is_some_and(|s| !s.success()), "blocked reader not freed: {freed:?}");
        // As on libfuse, the loop returns the signal's number after a signal, which
        // ll_misbehave turns into exit status 1.
        assert_eq!(st.code(), Some(1), "single={single}: exit {st}:\n{e}");
        assert!(e.contains("loop returned 15\n"), "{e}");
        assert!(fuse_mount_type(&mp).is_none(), "still mounted after SIGTERM");

        let n_wrong = count(&e, "wrongtype: reply_open to getattr returned -22");
        assert!(n_wrong >= 1, "{e}");
        assert_eq!(
            count(&e, "fuse: fuse_reply_open: not an answer to a GETATTR request; answering EIO"),
            n_wrong,
            "one log line per wrong answer:\n{e}"
        );
        let n_errno = count(&e, "errno: reply_err(123456) returned");
        assert!(n_errno >= 1, "{e}");
        assert_eq!(count(&e, "fuse: bad error value: -123456"), n_errno, "{e}");
        let n_link = count(&e, "longlink: reply_readlink(8000 bytes) returned -36");
        assert!(n_link >= 1, "{e}");
        assert_eq!(count(&e, "fuse: fuse_reply_readlink: target of 8000 bytes"), n_link, "{e}");
        let n_list = count(&e, "longnames: listing built");
        assert!(n_list >= 1, "{e}");
        for name_len in [300, 0] {
            let line = format!("fuse_add_direntry: entry name of {name_len} bytes");
            assert_eq!(count(&e, &line), n_list, "{line:?} once per listing:\n{e}");
        }
        assert_eq!(
            count(&e, "fuse: 1 request(s) never answered by the filesystem were dropped"),
            1,
            "{e}"
        );
    }
}

/// One run of the lazy-unmount case: (exit status, the reader's output, daemon stderr).
fn unmount_in_flight_run(lib: Lib, single: bool) -> ((&'static str, i32), String, String) {
    let b = built();
    let (dir, mp) = mountpoint(&format!("ll_session-inflight-{}-{single}", lib.name()));
    let _guard = UnmountOnDrop(mp.clone());
    let marks = dir.join("marks");
    std::fs::create_dir(&marks).unwrap();
    let mut cmd = Command::new(&b.misbehave);
    cmd.args(if single { &["-f", "-s"][..] } else { &["-f"][..] }).arg(&mp);
    cmd.env("LL_MARKS", &marks);
    let m = MountGuard::start(&mut cmd, &mp, lib, MOUNT_T).unwrap();
    let reader = Command::new("cat")
        .arg(mp.join("slow"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for_file(&marks.join("slow.waiting"), OP_T), "{}: read not seen", lib.name());
    let um = run(Command::new("fusermount3").args(["-u", "-z"]).arg(&mp), OP_T).unwrap();
    assert!(um.ok(), "{}: lazy unmount with a read in flight: {um:?}", lib.name());
    assert!(fuse_mount_type(&mp).is_none(), "{}: still mounted after -z", lib.name());
    // The open file keeps the connection: the daemon serves on until the read is answered.
    std::thread::sleep(Duration::from_millis(200));
    let pid = m.pid().unwrap();
    assert!(!process_ended(pid), "{}: daemon left with a read in flight", lib.name());
    std::fs::write(marks.join("slow.go"), b"").unwrap();
    let out = with_timeout("reader", OP_T, move || reader.wait_with_output()).unwrap().unwrap();
    assert!(out.status.success(), "{}: reader: {out:?}", lib.name());
    let (st, _o, e) = m.wait_exit(EXIT_T).unwrap_or_else(|e| panic!("{}: {e}", lib.name()));
    (status_key(st), String::from_utf8_lossy(&out.stdout).into_owned(), e)
}

/// `fusermount3 -u -z` while a read is in flight: the mount leaves the namespace at once, the
/// read is still answered (the reader gets its data), then the daemon sees the connection end
/// and exits by itself, as on libfuse.
#[test]
fn lazy_unmount_with_a_request_in_flight_like_debian() {
    for single in [true, false] {
        let sys = unmount_in_flight_run(Lib::System, single);
        let ours = unmount_in_flight_run(Lib::Ours, single);
        assert_eq!(sys.1, "slow\n", "Debian's reader");
        assert_eq!((&ours.0, &ours.1), (&sys.0, &sys.1), "single={single}: ours vs Debian's");
        assert_eq!(ours.0, ("exit", 0), "single={single}:\n{}", ours.2);
        assert!(ours.2.contains("reply returned 0"), "the late answer was sent:\n{}", ours.2);
        assert!(!ours.2.contains("never answered"), "{}", ours.2);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. NULL and bad arguments, no mount

#[test]
fn bad_args_common_match_debian() {
    let b = built();
    let sys =
        run(Command::new(&b.badargs).arg("common").env_remove("LD_LIBRARY_PATH"), OP_T).unwrap();
    let ours = run(
        Command::new(&b.badargs).arg("common").env("LD_LIBRARY_PATH", target_profile_dir()),
        OP_T,
    )
    .unwrap();
    assert!(sys.ok() && sys.stdout.ends_with("done\n"), "on Debian's: {sys:?}");
    assert_eq!(status_key(ours.status), status_key(sys.status), "ours: {ours:?}");
    assert_eq!(ours.stdout, sys.stdout, "stdout (left ours, right Debian's)");
    assert_eq!(ours.stderr, sys.stderr, "stderr (left ours, right Debian's)");
    for want in [
        "session_new argc 0: NULL",
        "session_new NULL ops: session",
        "add_direntry too small: 32, canary intact",
        "add_direntry_plus too small: 160, canary intact",
        "buf_copy: 16 \"0123456789abcdef\"",
        "buf_copy short dst: 12 \"0123456789ab\"",
    ] {
        assert!(sys.stdout.contains(want), "missing {want:?}:\n{}", sys.stdout);
    }
    assert!(sys.stderr.contains("fuse: empty argv passed to fuse_session_new()."), "{sys:?}");
}

/// Ours only: libfuse 3.14 dereferences every one of these NULL sessions, NULL argument
/// vectors, NULL or made-up requests (and a NULL mountpoint in fuse_session_mount).
#[test]
fn bad_args_refused_on_ours() {
    let b = built();
    let ours = run(
        Command::new(&b.badargs).arg("ours").env("LD_LIBRARY_PATH", target_profile_dir()),
        OP_T,
    )
    .unwrap();
    assert!(ours.ok(), "crashed or failed: {ours:?}");
    let want = "\
session_new NULL args: NULL
session_new NULL ops full size: session
  mount NULL: -1
session_fd NULL: -1
session_exited NULL: 1
session_exit NULL: survived
session_destroy NULL: survived
session_mount NULL session: -1
session_loop NULL: -22
reply_err NULL: -22
reply_err 0x1234: -22
reply_buf 0x1234: -22
reply_none 0x1234: survived
req_ctx 0x1234: NULL
req_interrupted 0x1234: 0
req_userdata NULL: NULL
done
";
    assert_eq!(ours.stdout, want);
    for line in [
        "fuse: empty argv passed to fuse_session_new().",
        "Invalid null-ptr mountpoint!",
        "fuse: fuse_reply_err: request already answered or not a request; reply ignored",
        "fuse: fuse_reply_buf: request already answered or not a request; reply ignored",
    ] {
        assert!(ours.stderr.contains(line), "missing {line:?} in stderr:\n{}", ours.stderr);
    }
}

/// fuse_session_new_versioned (3.17+, absent from Debian's 3.14): libfuse 3.17+ refuses a
/// NULL or empty operations table and a missing version with NULL and a warning.
#[test]
fn versioned_session_new_refuses_bad_args_ours() {
    let b = built();
    let ours = run(
        Command::new(&b.badargs_versioned)
            .arg("versioned")
            .env("LD_LIBRARY_PATH", target_profile_dir()),
        OP_T,
    )
    .unwrap();
    assert!(ours.ok(), "{ours:?}");
    assert_eq!(
        ours.stdout,
        "versioned NULL ops: NULL\nversioned op_size 0: NULL\nversioned NULL version: NULL\n\
         versioned good: session\n"
    );
    assert_eq!(
        ours.stderr,
        "fuse: warning: empty op list passed to fuse_session_new()\n\
         fuse: warning: empty op list passed to fuse_session_new()\n\
         fuse: warning: version not passed to fuse_session_new()\n"
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Mount errors

/// What hello_ll does with a bad command line: (status, stderr lines).
fn failed_start(args: &[&Path], lib: Lib) -> ((&'static str, i32), Vec<String>) {
    let b = built();
    let mut cmd = Command::new(&b.hello_ll);
    cmd.arg("-f").args(args);
    lib.apply(&mut cmd);
    let ran = run(&mut cmd, OP_T)
        .unwrap_or_else(|e| panic!("{} ({}): {e}", lib.name(), args[0].display()));
    (status_key(ran.status), stderr_lines(&ran.stderr))
}

#[test]
fn mount_errors_match_debian() {
    let (dir, mp) = mountpoint("ll_session-mount-errors");
    let _guard = UnmountOnDrop(mp.clone());
    let missing = dir.join("missing");
    let cases: [(&str, Vec<&Path>, String); 2] = [
        (
            "missing mountpoint",
            vec![&missing],
            format!("fuse: bad mount point `{}': No such file or directory", missing.display()),
        ),
        ("mountpoint twice", vec![&mp, &mp], format!("fuse: invalid argument `{}'", mp.display())),
    ];
    for (what, args, mention) in &cases {
        let sys = failed_start(args, Lib::System);
        let ours = failed_start(args, Lib::Ours);
        assert_eq!(sys.0, ("exit", 1), "{what} on Debian's: {sys:?}");
        assert!(sys.1.contains(mention), "{what}: Debian's stderr lacks {mention:?}: {sys:?}");
        assert_eq!(ours, sys, "{what}: ours (left) differs from Debian's (right)");
        assert!(fuse_mount_type(&mp).is_none(), "{what}: something got mounted");
    }
}

/// libfuse mounts on a regular file too (the kernel allows it; fusermount3 and the direct
/// mount only check the mountpoint exists). hello_ll's root is a directory, so the kernel
/// then finds the root's type changed and answers EIO. Same on both.
#[test]
fn mount_on_regular_file_matches_debian() {
    let b = built();
    let dir = scratch_dir("ll_session-file-mp");
    let file = dir.join("file");
    std::fs::write(&file, b"not a directory\n").unwrap();
    let mut seen = Vec::new();
    for lib in Lib::BOTH {
        let m = mount_daemon(&b.hello_ll, &["-f"], &file, lib);
        let st = statx_sync(&file);
        let (status, _o, e) = m.unmount().unwrap();
        seen.push((lib, st, status_key(status), stderr_lines(&e)));
    }
    assert_eq!(seen[0].1, Err(libc::EIO), "Debian's: {:?}", seen[0]);
    let key =
        |r: &(Lib, Result<(), i32>, (&'static str, i32), Vec<String>)| (r.1, r.2, r.3.clone());
    assert_eq!(key(&seen[1]), key(&seen[0]), "ours (left) differs from Debian's (right)");
}

// ---------------------------------------------------------------------------------------------
// 4. A /dev/fd/N mountpoint: the parent mounts, the daemon only serves

/// Mount with fdmount, exec hello_ll on /dev/fd/N, read `hello`, `umount`: the daemon must
/// see the unmount and exit. Returns (exit status, stderr lines).
fn fd_mount_run(lib: Lib) -> ((&'static str, i32), Vec<String>) {
    let b = built();
    let (_dir, mp) = mountpoint(&format!("ll_session-fdmount-{}", lib.name()));
    let _guard = UnmountOnDrop(mp.clone());
    let mut cmd = Command::new(&b.fdmount);
    cmd.arg(&mp).arg(&b.hello_ll).arg("-f");
    let mut d = Daemon::spawn(&mut cmd, lib).unwrap();
    let deadline = Instant::now() + MOUNT_T;
    while fuse_mount_type(&mp).is_none() {
        if let Some((st, o, e)) = d.wait_exit(Duration::ZERO) {
            panic!("fdmount ({}) exited {st} before mounting:\n{o}{e}", lib.name());
        }
        assert!(Instant::now() < deadline, "fdmount ({}) did not mount", lib.name());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fuse_mount_type(&mp).as_deref(), Some("fuse.fdtest"));
    assert_eq!(read_file(mp.join("hello")).unwrap(), "Hello World!\n", "{}", lib.name());
    // The daemon answered, so fdmount has exec'd it by now.
    check_maps(d.pid().unwrap(), lib).unwrap();
    run_ok(Command::new("umount").arg(&mp), OP_T).unwrap();
    let (st, _o, e) = d.wait_exit(EXIT_T).unwrap_or_else(|| {
        panic!("hello_ll on /dev/fd/N ({}) did not exit after umount", lib.name())
    });
    assert!(fuse_mount_type(&mp).is_none());
    (status_key(st), stderr_lines(&e))
}

#[test]
fn dev_fd_mountpoint_matches_debian() {
    let sys = fd_mount_run(Lib::System);
    let ours = fd_mount_run(Lib::Ours);
    assert_eq!(sys.0, ("exit", 0), "Debian's: {sys:?}");
    assert_eq!(ours, sys, "ours (left) differs from Debian's (right)");
}

// ---------------------------------------------------------------------------------------------
// 5. Signals end the loop and unmount

/// hello_ll -f [-s], then `sig`: returns the exit status; asserts the mount is gone.
fn signal_run(lib: Lib, sig: i32, single: bool) -> ((&'static str, i32), Vec<String>) {
    let b = built();
    let (_dir, mp) = mountpoint(&format!("ll_session-sig-{}-{sig}-{single}", lib.name()));
    let _guard = UnmountOnDrop(mp.clone());
    let args: &[&str] = if single { &["-f", "-s"] } else { &["-f"] };
    let m = mount_daemon(&b.hello_ll, args, &mp, lib);
    // INIT is answered once a file operation works: the loop is running.
    assert_eq!(read_file(mp.join("hello")).unwrap(), "Hello World!\n");
    m.signal(sig);
    let (st, _o, e) =
        m.wait_exit(EXIT_T).unwrap_or_else(|e| panic!("{} sig {sig}: {e}", lib.name()));
    assert!(
        fuse_mount_type(&mp).is_none(),
        "{} single={single}: still mounted after signal {sig}",
        lib.name()
    );
    (status_key(st), stderr_lines(&e))
}

#[test]
fn sigterm_sigint_and_sighup_end_the_daemon_like_debian() {
    let mut table = Vec::new();
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        for single in [true, false] {
            let sys = signal_run(Lib::System, sig, single);
            let ours = signal_run(Lib::Ours, sig, single);
            table.push(format!("sig {sig} single={single}: Debian's {sys:?}, ours {ours:?}"));
            assert_eq!(ours, sys, "sig {sig} single={single}: ours (left) vs Debian's (right)");
        }
    }
    eprintln!("{}", table.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 6. fuse_daemonize

/// Processes whose command line contains `needle` as one argument.
fn pids_with_arg(needle: &Path) -> Vec<u32> {
    let needle = needle.as_os_str().as_encoded_bytes();
    let mut pids = Vec::new();
    for ent in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = ent.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(ent.path().join("cmdline")) else { continue };
        if cmdline.split(|b| *b == 0).any(|a| a == needle) {
            pids.push(pid);
        }
    }
    pids
}

/// Gone, or a zombie nobody has reaped yet.
fn process_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(s) => s.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

/// Kills a daemonized process and unmounts on Drop (a failing test leaves nothing behind).
struct Daemonized {
    mp: PathBuf,
    pid: Option<u32>,
}

impl Drop for Daemonized {
    fn drop(&mut self) {
        force_unmount(&self.mp);
        if let Some(pid) = self.pid.filter(|p| !process_ended(*p)) {
            // SAFETY: the daemon this test started; no memory is touched.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

fn daemonize_run(lib: Lib) -> (&'static str, i32) {
    let b = built();
    let (_dir, mp) = mountpoint(&format!("ll_session-daemonize-{}", lib.name()));
    let mut g = Daemonized { mp: mp.clone(), pid: None };
    let mut cmd = Command::new(&b.hello_ll);
    cmd.arg(&mp);
    lib.apply(&mut cmd);
    // The launcher must exit once mounted; its stdio pipes close when the daemon moves its
    // own stdio to /dev/null, so `run` returning at all shows the daemon let go of them.
    let ran = run(&mut cmd, MOUNT_T).unwrap_or_else(|e| panic!("{}: {e}", lib.name()));
    let launcher = status_key(ran.status);
    assert_eq!(launcher, ("exit", 0), "{}: launcher {ran:?}", lib.name());
    assert!(fuse_mount_type(&mp).is_some(), "{}: not mounted when the launcher exited", lib.name());
    let pids = pids_with_arg(&mp);
    assert_eq!(pids.len(), 1, "{}: daemons for {}: {pids:?}", lib.name(), mp.display());
    let pid = pids[0];
    g.pid = Some(pid);
    check_maps(pid, lib).unwrap();
    // setsid(): the daemon leads its own session.
    // SAFETY: getsid only reads process state.
    assert_eq!(unsafe { libc::getsid(pid as libc::pid_t) }, pid as libc::pid_t, "{}", lib.name());
    assert_eq!(read_file(mp.join("hello")).unwrap(), "Hello World!\n", "{}", lib.name());
    run_ok(Command::new("fusermount3").arg("-u").arg(&mp), OP_T).unwrap();
    let deadline = Instant::now() + EXIT_T;
    while !process_ended(pid) {
        assert!(Instant::now() < deadline, "{}: daemon {pid} still running after -u", lib.name());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(fuse_mount_type(&mp).is_none());
    launcher
}

#[test]
fn daemonize_matches_debian() {
    let sys = daemonize_run(Lib::System);
    let ours = daemonize_run(Lib::Ours);
    assert_eq!(ours, sys);
}

// ---------------------------------------------------------------------------------------------
// 7. Interrupts

/// Read `file` from a `cat` child, wait until the filesystem holds the request, send the
/// child `sig`, and check the filesystem saw the interrupt and still serves. Returns the
/// child's status and the filesystem's event lines for `file`.
fn interrupt_run(
    lib: Lib,
    file: &str,
    sig: i32,
    single: bool,
) -> ((&'static str, i32), Vec<String>) {
    let b = built();
    let (dir, mp) = mountpoint(&format!("ll_session-intr-{}-{file}", lib.name()));
    let marks = dir.join("marks");
    std::fs::create_dir(&marks).unwrap();
    let args: &[&str] = if single { &["-f", "-s"] } else { &["-f"] };
    let mut cmd = Command::new(&b.misbehave);
    cmd.args(args).arg(&mp).env("LL_MARKS", &marks);
    let m = MountGuard::start(&mut cmd, &mp, lib, MOUNT_T).unwrap();
    assert_eq!(read_file(mp.join("hello")).unwrap(), "hello, session\n");
    let mut cat = Command::new("cat")
        .arg(mp.join(file))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiting = wait_for_file(&marks.join(format!("{file}.waiting")), OP_T);
    // SAFETY: signalling our own child; no memory is touched.
    unsafe { libc::kill(cat.id() as libc::pid_t, sig) };
    let deadline = Instant::now() + OP_T;
    let st = loop {
        if let Some(st) = cat.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = cat.kill();
            panic!("{} {file}: cat did not end after signal {sig}", lib.name());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(waiting, "{} {file}: the read never reached the filesystem", lib.name());
    assert!(
        wait_for_file(&marks.join(format!("{file}.interrupted")), OP_T),
        "{} {file}: no interrupt callback",
        lib.name()
    );
    assert_eq!(read_file(mp.join("hello")).unwrap(), "hello, session\n", "after interrupt");
    let (dst, _o, e) = m.unmount().unwrap();
    assert!(dst.success(), "{} {file}: daemon exit {dst}:\n{e}", lib.name());
    let events: Vec<String> = e.lines().filter(|l| l.starts_with(file)).map(String::from).collect();
    (status_key(st), events)
}

#[test]
fn interrupt_answered_from_callback_matches_debian() {
    // Single-threaded: the loop must get back to reading to see the INTERRUPT at all.
    let sys = interrupt_run(Lib::System, "block_cb", libc::SIGKILL, true);
    let ours = interrupt_run(Lib::Ours, "block_cb", libc::SIGKILL, true);
    assert_eq!(
        sys,
        (
            ("signal", libc::SIGKILL),
            vec![
                "block_cb: read waiting".to_string(),
                "block_cb: interrupt callback ran, interrupted=1".to_string(),
                "block_cb: reply from callback returned 0".to_string(),
            ]
        ),
        "Debian's"
    );
    assert_eq!(ours, sys, "ours (left) vs Debian's (right)");
}

#[test]
fn interrupt_seen_by_worker_thread_matches_debian() {
    let sys = interrupt_run(Lib::System, "block_thr", libc::SIGINT, false);
    let ours = interrupt_run(Lib::Ours, "block_thr", libc::SIGINT, false);
    let mut want_events = vec![
        "block_thr: read waiting".to_string(),
        "block_thr: interrupt callback ran".to_string(),
        "block_thr: worker saw interrupted=1, reply returned 0".to_string(),
    ];
    want_events.sort();
    let sorted = |(st, mut ev): ((&'static str, i32), Vec<String>)| {
        ev.sort();
        (st, ev)
    };
    let (sys, ours) = (sorted(sys), sorted(ours));
    assert_eq!(sys, (("signal", libc::SIGINT), want_events), "Debian's");
    assert_eq!(ours, sys, "ours (left) vs Debian's (right)");
}

// ---------------------------------------------------------------------------------------------
// 8. fuse_req_ctx and fuse_req_getgroups

/// Parse the `ctx` file: uid, gid, pid, groups.
fn parse_ctx(text: &str) -> (u32, u32, u32, Vec<u32>) {
    let mut uid = None;
    let mut gid = None;
    let mut pid = None;
    let mut groups = Vec::new();
    for kv in text.split_whitespace() {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "uid" => uid = v.parse().ok(),
            "gid" => gid = v.parse().ok(),
            "pid" => pid = v.parse().ok(),
            "groups" => {
                groups =
                    v.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
            }
            _ => {}
        }
    }
    (uid.unwrap(), gid.unwrap(), pid.unwrap(), groups)
}

/// Read `ctx` with `cmd` (which must exec `cat` on it as its own pid); returns the parsed
/// content and the reader's pid.
fn read_ctx_with(cmd: &mut Command) -> ((u32, u32, u32, Vec<u32>), u32) {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let out = with_timeout("reading ctx", OP_T, move || child.wait_with_output()).unwrap().unwrap();
    assert!(out.status.success(), "{out:?}");
    (parse_ctx(&String::from_utf8_lossy(&out.stdout)), pid)
}

fn ctx_run(lib: Lib) -> Vec<(u32, u32, Vec<u32>)> {
    let b = built();
    let (_dir, mp) = mountpoint(&format!("ll_session-ctx-{}", lib.name()));
    let m = mount_daemon(&b.misbehave, &["-f", "-o", "allow_other"], &mp, lib);
    let ctx = mp.join("ctx");
    let mut seen = Vec::new();
    // As root, with no supplementary groups.
    let ((uid, gid, pid, groups), reader) =
        read_ctx_with(Command::new("setpriv").args(["--clear-groups", "cat"]).arg(&ctx));
    assert_eq!(pid, reader, "{}: pid of the caller", lib.name());
    seen.push((uid, gid, groups));
    // As another user with two supplementary groups.
    let ((uid, gid, pid, groups), reader) = read_ctx_with(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65533", "--groups=100,4242", "cat"])
            .arg(&ctx),
    );
    assert_eq!(pid, reader, "{}: pid of the caller", lib.name());
    seen.push((uid, gid, groups));
    let (st, _o, e) = m.unmount().unwrap();
    assert!(st.success(), "{e}");
    seen
}

#[test]
fn request_context_matches_debian() {
    let sys = ctx_run(Lib::System);
    let ours = ctx_run(Lib::Ours);
    assert_eq!(sys, vec![(0, 0, vec![]), (65534, 65533, vec![100, 4242])], "Debian's");
    assert_eq!(ours, sys, "ours (left) vs Debian's (right)");
}

// ---------------------------------------------------------------------------------------------
// fuse_open_channel

/// `fuse_open_channel` mounts with the given options and hands back the device fd, on both
/// libraries. An option it does not know is ignored by both (libfuse checks no leftovers here).
#[test]
fn open_channel_mounts_like_debian() {
    let b = built();
    let mut seen = Vec::new();
    for lib in Lib::BOTH {
        let mut outcome = Vec::new();
        for opts in ["fsname=openchan-test,subtype=oc", "no_such_option,subtype=oc2"] {
            let (_dir, mp) = mountpoint(&format!("ll_session-openchan-{}", lib.name()));
            let mut cmd = Command::new(&b.openchan);
            cmd.arg(&mp).arg(opts);
            lib.apply(&mut cmd);
            let ran = run(&mut cmd, Duration::from_secs(20)).unwrap();
            let fstype = fuse_mount_type(&mp);
            force_unmount(&mp);
            outcome.push((ran.status.code(), ran.stdout.clone(), fstype));
        }
        assert_eq!(outcome[0].1, "fd valid\n", "{}: {outcome:?}", lib.name());
        assert_eq!(outcome[0].2.as_deref(), Some("fuse.oc"), "{}: {outcome:?}", lib.name());
        seen.push(outcome);
    }
    assert_eq!(seen[0], seen[1], "Debian's libfuse vs ours");
}
