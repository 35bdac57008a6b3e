//! The loops' spinning mode (src/session/spin.rs): one reader on a non-blocking clone of the
//! device that handles requests itself, with the other workers parked.
//!
//! - Callbacks that block until other requests arrive still get the threads they need: four
//!   reads of tests/c/ll_barrier.c's /barrier only return when all four are inside the read
//!   callback at once (on Debian's libfuse and on ours, with and without clone_fd, and with
//!   spinning off).
//! - An idle daemon sleeps: no CPU time and no context switches over a second of idleness
//!   right after a burst of requests (the standby stops looking once the reader sleeps).
//! - Where it applies: a second /dev/fuse fd (the clone) in the multithreaded and the
//!   single-threaded loops by default, none with `FERROFUSE_SPIN_US=0`.

mod common;

use common::cbuild::{Pc, STRICT, built_once, fuse3_flags, gcc};
use common::mount::{Lib, MountGuard};
use common::{parallel_map, repo_root, run, scratch_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MOUNT_T: Duration = Duration::from_secs(20);
const OP_T: Duration = Duration::from_secs(40);
const READERS: usize = 4;

fn barrier_fs() -> &'static Path {
    static B: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built: &'static PathBuf = built_once(&B, "tests/c/ll_barrier.c", || {
        let out = scratch_dir("mt_spin-build").join("ll_barrier");
        let flags = fuse3_flags(Pc::Debian)?;
        gcc(
            STRICT,
            &repo_root().join("tests/c/ll_barrier.c"),
            &out,
            flags.iter().map(String::as_str).chain(["-lpthread"]),
        )
    });
    built
}

/// Mount ll_barrier with `args` (before the mountpoint) and `env` on `lib`.
fn mount(tag: &str, lib: Lib, args: &[&str], env: &[(&str, &str)]) -> (MountGuard, PathBuf) {
    let dir = scratch_dir(&format!("mt_spin-{tag}-{}", lib.name()));
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let mut cmd = Command::new(barrier_fs());
    cmd.arg("-f").args(args).arg(&mnt);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let g = MountGuard::start(&mut cmd, &mnt, lib, MOUNT_T).unwrap_or_else(|e| panic!("{e}"));
    (g, mnt)
}

/// READERS concurrent `cat mnt/barrier` (one thread each, all at once): what each printed,
/// and how long they all took.
fn barrier_reads(mnt: &Path) -> (Vec<String>, Duration) {
    let t0 = Instant::now();
    let file = mnt.join("barrier");
    let outs = std::thread::scope(|s| {
        let handles: Vec<_> = (0..READERS)
            .map(|_| {
                s.spawn(|| match run(Command::new("cat").arg(&file), OP_T) {
                    Ok(r) if r.ok() => r.stdout.trim().to_string(),
                    Ok(r) => format!("cat failed: {}", r.stderr.trim()),
                    Err(e) => format!("cat: {e}"),
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    (outs, t0.elapsed())
}

fn barrier_case(tag: &str, args: &[&str], env: &[(&str, &str)]) {
    let results = parallel_map(&Lib::BOTH, |lib| {
        let (g, mnt) = mount(tag, *lib, args, env);
        let (outs, took) = barrier_reads(&mnt);
        let hello = run(Command::new("cat").arg(mnt.join("hello")), OP_T)
            .map(|r| r.stdout)
            .unwrap_or_else(|e| e);
        let (st, _o, e) = g.unmount().unwrap_or_else(|e| panic!("{}: {e}", lib.name()));
        (outs, took, hello, st.success(), e)
    });
    for (lib, (outs, took, hello, ok, err)) in Lib::BOTH.iter().zip(&results) {
        let want = vec![format!("met {READERS}"); READERS];
        assert_eq!(outs, &want, "{tag} on {}: the {READERS} reads (took {took:?})", lib.name());
        assert_eq!(hello, "hello\n", "{tag} on {}: serving afterwards", lib.name());
        assert!(ok, "{tag} on {}: daemon exit status after unmount:\n{err}", lib.name());
        eprintln!("{tag} on {}: {READERS} blocked reads met in {took:?}", lib.name());
    }
}

#[test]
fn blocked_callbacks_get_the_threads_they_need() {
    barrier_case("mt", &[], &[]);
}

#[test]
fn blocked_callbacks_get_the_threads_they_need_clone_fd() {
    barrier_case("mt-clone", &["-o", "clone_fd"], &[]);
}

#[test]
fn blocked_callbacks_get_the_threads_they_need_spinning_off() {
    barrier_case("mt-nospin", &[], &[("FERROFUSE_SPIN_US", "0")]);
}

/// How many of `pid`'s fds are /dev/fuse.
fn dev_fuse_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t == Path::new("/dev/fuse"))
        .count()
}

#[test]
fn spinning_reads_a_clone_unless_turned_off() {
    let cases: [(&str, &[&str], &str, usize); 4] = [
        ("fds-mt", &[], "50", 2),
        ("fds-mt-off", &[], "0", 1),
        ("fds-single", &["-s"], "50", 2),
        ("fds-single-off", &["-s"], "0", 1),
    ];
    for (tag, args, spin, want) in cases {
        let (g, mnt) = mount(tag, Lib::Ours, args, &[("FERROFUSE_SPIN_US", spin)]);
        let hello = run(Command::new("cat").arg(mnt.join("hello")), OP_T).unwrap();
        assert_eq!(hello.stdout, "hello\n", "{tag}");
        let n = dev_fuse_fds(g.pid().unwrap());
        let (st, _o, e) = g.unmount().unwrap();
        assert!(st.success(), "{tag}: daemon exit {st}:\n{e}");
        assert_eq!(n, want, "{tag} (FERROFUSE_SPIN_US={spin}): /dev/fuse fds of the daemon");
    }
}

/// Total context switches of every thread of `pid`, and its CPU time in clock ticks.
fn activity(pid: u32) -> (u64, u64) {
    let mut switches = 0;
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        for l in status.lines() {
            if l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary_ctxt") {
                switches += l.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
        }
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let cpu = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    (switches, cpu)
}

#[test]
fn an_idle_daemon_sleeps() {
    for (tag, args) in [("idle-mt", &[][..]), ("idle-single", &["-s"][..])] {
        let (g, mnt) = mount(tag, Lib::Ours, args, &[]);
        let pid = g.pid().unwrap();
        // A burst of requests (each read is a LOOKUP, OPEN, READ, RELEASE at most).
        for _ in 0..200 {
            let r = std::fs::read(mnt.join("hello")).unwrap();
            assert_eq!(r, b"hello\n");
        }
        // The standby backs off from a look every 2 ms to one every 32 ms after the last
        // request, and sleeps after 200 ms of that.
        std::thread::sleep(Duration::from_millis(500));
        let (s0, c0) = activity(pid);
        std::thread::sleep(Duration::from_secs(1));
        let (s1, c1) = activity(pid);
        let (st, _o, e) = g.unmount().unwrap();
        assert!(st.success(), "{tag}: daemon exit {st}:\n{e}");
        assert!(
            s1 - s0 <= 3 && c1 - c0 <= 1,
            "{tag}: over 1 s of idleness the daemon switched {} times and used {} ticks",
            s1 - s0,
            c1 - c0
        );
    }
}
