//! An interrupted blocking read, seen from both ends: the caller's read() returns EINTR, and
//! the filesystem's interrupt callback ran exactly once. On Debian's libfuse and on ours.
//!
//! tests/ll_session.rs interrupts a `cat` with SIGKILL or SIGINT, which end the caller, so
//! nothing there can observe what the caller's read() returned. Here the caller is
//! tests/c/eintr_reader.c, which catches SIGUSR1 without SA_RESTART and prints the result of
//! its read(). The filesystem is tests/c/ll_misbehave.c (`block_cb`: the interrupt callback
//! answers EINTR; `block_thr`: the callback only notes it ran and a worker thread polling
//! fuse_req_interrupted() answers EINTR). Its read handler opens with direct_io, so the read is
//! a synchronous request the kernel interrupts: on a non-fatal signal it sends INTERRUPT and
//! then waits for the filesystem's answer, which it hands to the caller.

mod common;

use common::cbuild::{Pc, STRICT, built_once, fuse3_flags, gcc};
use common::mount::{Lib, MountGuard};
use common::{parallel_map, repo_root, run, scratch_dir, wait_for_file};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MOUNT_T: Duration = Duration::from_secs(20);
const OP_T: Duration = Duration::from_secs(30);

struct Built {
    misbehave: PathBuf,
    reader: PathBuf,
}

fn build_all() -> Result<Built, String> {
    let dir = scratch_dir("ll_interrupts-build");
    let c = repo_root().join("tests/c");
    let deb = fuse3_flags(Pc::Debian)?;
    let plan = [
        (c.join("ll_misbehave.c"), dir.join("ll_misbehave"), true),
        (c.join("eintr_reader.c"), dir.join("eintr_reader"), false),
    ];
    let results = parallel_map(&plan, |(src, out, fuse)| {
        let post: &[String] = if *fuse { &deb } else { &[] };
        gcc(STRICT, src, out, post.iter().map(String::as_str).chain(fuse.then_some("-lpthread")))
    });
    let mut it = results.into_iter();
    Ok(Built { misbehave: it.next().unwrap()?, reader: it.next().unwrap()? })
}

fn built() -> &'static Built {
    static B: OnceLock<Result<Built, String>> = OnceLock::new();
    built_once(&B, "the test programs", build_all)
}

/// Kills and reaps the reader on Drop, should the test fail while it runs.
struct Reader(Option<Child>);

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// What one run came to: the reader's line, and the filesystem's event lines for `file`.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    reader: String,
    events: Vec<String>,
}

fn interrupted_read(lib: Lib, file: &str, single: bool) -> Seen {
    let b = built();
    let dir = scratch_dir(&format!("ll_interrupts-{}-{file}", lib.name()));
    let (mnt, marks) = (dir.join("mnt"), dir.join("marks"));
    std::fs::create_dir(&mnt).unwrap();
    std::fs::create_dir(&marks).unwrap();
    let mut cmd = Command::new(&b.misbehave);
    cmd.arg("-f");
    if single {
        cmd.arg("-s");
    }
    cmd.arg(&mnt).env("LL_MARKS", &marks);
    let m = MountGuard::start(&mut cmd, &mnt, lib, MOUNT_T).unwrap();
    let ready = dir.join("reader.ready");
    let mut reader = Reader(Some(
        Command::new(&b.reader)
            .arg(mnt.join(file))
            .arg(&ready)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .unwrap(),
    ));
    let pid = reader.0.as_ref().unwrap().id() as libc::pid_t;
    assert!(
        wait_for_file(&marks.join(format!("{file}.waiting")), OP_T),
        "{} {file}: the read never reached the filesystem",
        lib.name()
    );
    // SAFETY: signalling our own child; no memory is touched.
    unsafe { libc::kill(pid, libc::SIGUSR1) };
    let deadline = Instant::now() + OP_T;
    let child = reader.0.as_mut().unwrap();
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "{} {file}: the read did not return within {OP_T:?} of SIGUSR1",
            lib.name()
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = reader.0.take().unwrap().wait_with_output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        st.success(),
        "{} {file}: reader {st}: {line} {}",
        lib.name(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_for_file(&marks.join(format!("{file}.interrupted")), OP_T),
        "{} {file}: no interrupt callback",
        lib.name()
    );
    // The filesystem still serves, and then exits cleanly on unmount.
    let hello = mnt.join("hello");
    let r = run(Command::new("cat").arg(&hello), OP_T).unwrap();
    assert_eq!(r.stdout, "hello, session\n", "{} {file}: after the interrupt", lib.name());
    let (dst, _o, e) = m.unmount().unwrap();
    assert!(dst.success(), "{} {file}: daemon exit {dst}:\n{e}", lib.name());
    let events = e.lines().filter(|l| l.starts_with(file)).map(String::from).collect();
    Seen { reader: line, events }
}

fn callbacks(seen: &Seen) -> usize {
    seen.events.iter().filter(|l| l.contains("interrupt callback ran")).count()
}

#[test]
fn interrupted_read_returns_eintr_callback_answers() {
    // Single-threaded loop: the loop must get back to reading to see the INTERRUPT at all.
    let runs = parallel_map(&Lib::BOTH, |lib| interrupted_read(*lib, "block_cb", true));
    for (lib, s) in Lib::BOTH.iter().zip(&runs) {
        assert_eq!(s.reader, "read=-1 errno=EINTR", "{}: what the caller's read() got", lib.name());
        assert_eq!(callbacks(s), 1, "{}: interrupt callback runs: {:?}", lib.name(), s.events);
    }
    assert_eq!(
        runs[0].events,
        vec![
            "block_cb: read waiting".to_string(),
            "block_cb: interrupt callback ran, interrupted=1".to_string(),
            "block_cb: reply from callback returned 0".to_string(),
        ],
        "Debian's"
    );
    assert_eq!(runs[1], runs[0], "ours (left) vs Debian's (right)");
}

#[test]
fn interrupted_read_returns_eintr_worker_answers() {
    let runs = parallel_map(&Lib::BOTH, |lib| interrupted_read(*lib, "block_thr", false));
    let sorted = |s: &Seen| {
        let mut e = s.events.clone();
        e.sort();
        (s.reader.clone(), e)
    };
    for (lib, s) in Lib::BOTH.iter().zip(&runs) {
        assert_eq!(s.reader, "read=-1 errno=EINTR", "{}: what the caller's read() got", lib.name());
        assert_eq!(callbacks(s), 1, "{}: interrupt callback runs: {:?}", lib.name(), s.events);
    }
    let mut want = vec![
        "block_thr: read waiting".to_string(),
        "block_thr: interrupt callback ran".to_string(),
        "block_thr: worker saw interrupted=1, reply returned 0".to_string(),
    ];
    want.sort();
    assert_eq!(sorted(&runs[0]).1, want, "Debian's");
    assert_eq!(sorted(&runs[1]), sorted(&runs[0]), "ours (left) vs Debian's (right)");
}
