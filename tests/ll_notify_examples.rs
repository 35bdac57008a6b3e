//! Debian 12's notification, poll, ioctl and null examples, unchanged, on Debian's libfuse and
//! on ours, with the checks libfuse 3.14's own test/test_examples.py and test/test_ctests.py
//! make of them (reimplemented here), and the same outcomes required.
//!
//! Which API each example uses (read from its source):
//! - low-level (`fuse_lowlevel.h`): `notify_inval_inode`, `notify_inval_entry`,
//!   `notify_store_retrieve`.
//! - high-level (`fuse.h`, run by `fuse_main()`): `poll`, `ioctl`, `null` (null.c includes
//!   fuse_lowlevel.h too, but only for a type; it is a `fuse_main()` program). `poll_client` and
//!   `ioctl_client` use no libfuse at all. No low-level poll, ioctl or null example exists in
//!   Debian's set (3.14 ships none; `ioctl_ll` came later and is not built by its meson).
//!
//! Builds, once per test run: `deb314` (Debian's sources and headers, `pkg-config fuse3`,
//! NEEDED `libfuse3.so.3`), run on Debian's library and on ours (`LD_LIBRARY_PATH`); and
//! `ourhdr` (the same sources against our headers, NEEDED `libfuse3.so.4`), run on ours.
//!
//! Two examples have timing bugs of their own, which show on the reference too:
//! - `notify_inval_entry --only-expire` with notifications: 3.14's example asserts that every
//!   `fuse_lowlevel_notify_expire_entry(..., FUSE_LL_EXPIRE_ONLY)` returns 0, but once a name
//!   was looked up it sends one every second for each new name, which the kernel never saw:
//!   ENOENT, abort, and the mount answers ENOTCONN. Whether that happens before the check's
//!   last stat depends on where the second boundaries fall, so either a pass or that abort is
//!   accepted, on each library. (The 3.18.3 suite's notify/inval-entry-expire cases, run by
//!   tests/conformance.rs, check expire_entry without this bug.)
//! - `notify_store_retrieve` has a start-up race (it counts a lookup before the reply reaches
//!   the kernel, and may push data for an inode the kernel does not know yet: ENOENT, abort;
//!   the example's own comment cites libfuse issue #105). Only that failure is retried, up to
//!   three runs, on either library alike.

mod common;

use common::cbuild::{self, Built, Flavour, debian_examples};
use common::checks::{Fail, Outcome, Record, Recorder, expect_eq, table, wrong};
use common::mount::{Lib, MountGuard, fuse_mount_type};
use common::{parallel_map, run, scratch_dir};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const MOUNT_T: Duration = Duration::from_secs(20);
/// Per file operation or client run; a broken mount hangs instead of failing.
const OP_T: Duration = Duration::from_secs(30);

const LOWLEVEL: [&str; 3] = ["notify_inval_inode", "notify_inval_entry", "notify_store_retrieve"];
const HIGHLEVEL: [&str; 5] = ["poll", "poll_client", "ioctl", "ioctl_client", "null"];

// ---------------------------------------------------------------------------------------------
// Building

fn built(flavour: Flavour) -> &'static Built {
    static CACHE: [OnceLock<Built>; 2] = [OnceLock::new(), OnceLock::new()];
    CACHE[flavour as usize].get_or_init(|| {
        let names: Vec<&'static str> = LOWLEVEL.iter().chain(HIGHLEVEL.iter()).copied().collect();
        // The threaded ones need -lpthread with glibc < 2.34 only, harmless here.
        debian_examples(flavour, &names, "ll_notify_examples", |_| vec![], &["-lpthread"])
    })
}

fn exe(flavour: Flavour, example: &str) -> PathBuf {
    cbuild::exe(built(flavour), flavour, example)
}

// ---------------------------------------------------------------------------------------------
// Recording outcomes

/// notify_inval_inode and notify_inval_entry assert that every notification returns 0, from a
/// thread that runs once a second until the process exits. If it wakes between the unmount
/// and the exit, the notification fails (the connection is gone) and the example aborts: in
/// libfuse's own test of it too. That abort, by a daemon that was alive and mounted until
/// `fusermount3 -u`, counts as a clean exit; any other does not.
const EXIT_RACE: [&str; 2] = [
    "update_fs_loop: Assertion `fuse_lowlevel_notify_inval_inode",
    "update_fs_loop: Assertion `fuse_lowlevel_notify_inval_entry",
];

/// Mount `bin args... mnt` on `lib`, run `body`, unmount with `fusermount3 -u` and record the
/// daemon's exit (it must exit 0 by itself, as libfuse's test util.umount() requires).
/// Returns the records and the daemon's output.
fn scenario(
    lib: Lib,
    bin: &Path,
    args: &[&str],
    mnt: &Path,
    body: impl FnOnce(&mut Recorder),
) -> (Vec<Record>, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args).arg(mnt);
    let m = match MountGuard::start(&mut cmd, mnt, lib, MOUNT_T) {
        Ok(m) => m,
        Err(e) => {
            let rec = Record { check: "mount", outcome: Outcome::NoMount, detail: e.clone() };
            return (vec![rec], e);
        }
    };
    let mut r = Recorder::new(OP_T);
    r.records.push(Record { check: "mount", outcome: Outcome::Ok, detail: String::new() });
    body(&mut r);
    // Alive and mounted right up to `fusermount3 -u`? (See EXIT_RACE.)
    let alive_before = m.pid().is_some_and(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|st| st.rsplit_once(") ").is_some_and(|(_, rest)| !rest.starts_with('Z')))
    }) && fuse_mount_type(mnt).is_some();
    let (outcome, detail, output) = match m.unmount() {
        Ok((st, o, e)) if st.success() => (Outcome::Ok, String::new(), format!("{o}{e}")),
        Ok((st, o, e))
            if alive_before
                && st.signal() == Some(libc::SIGABRT)
                && EXIT_RACE.iter().any(|sig| e.contains(sig)) =>
        {
            (
                Outcome::Ok,
                "aborted after unmount (the example's own race)".into(),
                format!("{o}{e}"),
            )
        }
        Ok((st, o, e)) => {
            let tail: Vec<&str> = e.lines().rev().take(5).collect();
            (Outcome::Exit(st.to_string()), tail.join(" | "), format!("{o}{e}"))
        }
        Err(e) => (Outcome::Exit("no clean exit".into()), e.clone(), e),
    };
    r.records.push(Record { check: "unmount+exit", outcome, detail });
    (r.records, output)
}

/// The reference must come out as `want_ref_ok` says, and ours exactly as the reference.
fn compare(what: &str, reference: &[Record], ours: &[(&str, Vec<Record>)], want_ref_ok: bool) {
    let all_ok = reference.iter().all(|r| r.outcome == Outcome::Ok);
    assert_eq!(
        all_ok,
        want_ref_ok,
        "{what}: Debian's libfuse did not come out as expected (all ok: {want_ref_ok}):\n{}",
        table(reference)
    );
    let key = |rs: &[Record]| rs.iter().map(|r| (r.check, r.outcome.clone())).collect::<Vec<_>>();
    let mut bad = String::new();
    for (name, recs) in ours {
        if key(recs) != key(reference) {
            bad.push_str(&format!("{name}:\n{}", table(recs)));
        }
    }
    assert!(
        bad.is_empty(),
        "{what}: outcomes differ from Debian's libfuse.\nreference:\n{}{bad}",
        table(reference)
    );
}

fn read_string(p: PathBuf) -> Result<String, Fail> {
    Ok(std::fs::read_to_string(p)?)
}

fn sleep_s(secs: u64) {
    // These are the examples' own time scales (update interval, entry timeout), not waits for
    // a mount: libfuse's tests sleep the same.
    std::thread::sleep(Duration::from_secs(secs));
}

/// Seconds since local midnight, as the examples print the time (`%H:%M:%S`, localtime).
fn local_seconds_now() -> i64 {
    // SAFETY: time(NULL) reads the clock only.
    let t = unsafe { libc::time(std::ptr::null_mut()) };
    // SAFETY: zeroed tm is a valid out buffer for localtime_r.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: &t and &mut tm are valid for the call.
    unsafe { libc::localtime_r(&t, &mut tm) };
    i64::from(tm.tm_hour) * 3600 + i64::from(tm.tm_min) * 60 + i64::from(tm.tm_sec)
}

/// "The current time is HH:MM:SS\n" -> seconds since midnight.
fn parse_time(text: &str) -> Option<i64> {
    let hms = text.strip_prefix("The current time is ")?.strip_suffix('\n')?;
    let v: Vec<i64> = hms.split(':').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    (v.len() == 3).then(|| v[0] * 3600 + v[1] * 60 + v[2])
}

// ---------------------------------------------------------------------------------------------
// notify_inval_inode, notify_store_retrieve: test_ctests.py::test_notify1

/// `EXAMPLE -f --update-interval=1 [--no-notify] MNT`: read current_time, wait 2 s, read it
/// again. With notifications the second read shows the new content (the kernel's cache was
/// invalidated, or the new data stored into it, though the cache timeouts are ~6 days);
/// without, the cached first content. Ours also checks that the content read is fresh: the
/// time it shows is within 2 s of now.
fn notify1_once(
    lib: Lib,
    flavour: Flavour,
    example: &str,
    notify: bool,
    extra: &[&'static str],
) -> (Vec<Record>, String) {
    // Tests run in parallel and several run the same example on the same library (the
    // io_uring test takes its own reference run): every run gets a directory of its own.
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = scratch_dir(&format!(
        "ll_notify_examples-{example}-{}-{}-{}{}-{}",
        flavour.name(),
        lib.name(),
        if notify { "notify" } else { "no-notify" },
        if extra.is_empty() { "" } else { "-x" },
        RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mut args = vec!["-f", "--update-interval=1"];
    args.extend_from_slice(extra);
    if !notify {
        args.push("--no-notify");
    }
    let file = mnt.join("current_time");
    scenario(lib, &exe(flavour, example), &args, &mnt, move |r| {
        let first = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (f1, p1) = (first.clone(), file.clone());
        r.check("read1", move || {
            let s = read_string(p1)?;
            parse_time(&s).ok_or_else(|| wrong(format!("content {s:?}")))?;
            *f1.lock().unwrap() = s;
            Ok(())
        });
        sleep_s(2);
        let (f2, p2) = (first.clone(), file.clone());
        r.check("read2", move || {
            let s = read_string(p2)?;
            let then = parse_time(&s).ok_or_else(|| wrong(format!("content {s:?}")))?;
            let before = f2.lock().unwrap().clone();
            if notify {
                if s == before {
                    return Err(wrong(format!("still {before:?} after 2 s: no notification")));
                }
                // Fresh: at most two update intervals old (mod one day for midnight).
                let age = (local_seconds_now() - then).rem_euclid(86400);
                if age > 2 {
                    return Err(wrong(format!("{s:?} is {age} s old")));
                }
                Ok(())
            } else {
                expect_eq("cached content without notifications", s, before)
            }
        });
    })
}

/// The store/retrieve start-up race is retried (see the module comment); nothing else is.
fn notify1(lib: Lib, flavour: Flavour, example: &str, notify: bool) -> Vec<Record> {
    notify1_with(lib, flavour, example, notify, &[]).0
}

/// `notify1` with extra daemon arguments; also returns the daemon's output.
fn notify1_with(
    lib: Lib,
    flavour: Flavour,
    example: &str,
    notify: bool,
    extra: &[&'static str],
) -> (Vec<Record>, String) {
    let mut last = (Vec::new(), String::new());
    for _ in 0..3 {
        let (recs, out) = notify1_once(lib, flavour, example, notify, extra);
        let raced = example == "notify_store_retrieve"
            && out.contains("fuse_lowlevel_notify_store() failed with No such file or directory");
        if !raced {
            return (recs, out);
        }
        last = (recs, out);
    }
    last
}

fn notify1_compare(example: &str, notify: bool) {
    let what = format!("{example} ({})", if notify { "notify" } else { "--no-notify" });
    let runs = parallel_map(
        &[
            (Lib::System, Flavour::Deb314),
            (Lib::Ours, Flavour::Deb314),
            (Lib::Ours, Flavour::OurHdr),
        ],
        |(lib, fl)| notify1(*lib, *fl, example, notify),
    );
    compare(
        &what,
        &runs[0],
        &[("ours, deb314 build", runs[1].clone()), ("ours, ourhdr build", runs[2].clone())],
        true,
    );
}

#[test]
fn notify_inval_inode_shows_new_content() {
    notify1_compare("notify_inval_inode", true);
}

#[test]
fn notify_inval_inode_without_notify_keeps_cache() {
    notify1_compare("notify_inval_inode", false);
}

#[test]
fn notify_store_retrieve_stores_new_content() {
    // The daemon's retrieve_reply asserts that what comes back is what it stored; an abort
    // would show as a failed exit, so a clean exit also proves the retrieve round trip.
    notify1_compare("notify_store_retrieve", true);
}

#[test]
fn notify_store_retrieve_without_notify_keeps_cache() {
    notify1_compare("notify_store_retrieve", false);
}

#[test]
fn notify_store_retrieve_over_io_uring() {
    // libfuse 3.19's own store/retrieve test asserts over io_uring. Here the stores go to
    // /dev/fuse and the retrieve answers (NOTIFY_REPLY) come back through a ring entry, which
    // must be handed back to the kernel although nothing is answered.
    let param = common::uring::UringParam::set(true);
    let (ours, out) = notify1_with(
        Lib::Ours,
        Flavour::Deb314,
        "notify_store_retrieve",
        true,
        &["-o", "io_uring", "-d"],
    );
    drop(param);
    let reference = notify1(Lib::System, Flavour::Deb314, "notify_store_retrieve", true);
    compare("notify_store_retrieve over io_uring", &reference, &[("ours", ours)], true);
    let replies = out.lines().filter(|l| l.starts_with("cqe unique") && l.contains("NOTIFY_REPLY"));
    assert!(replies.count() >= 2, "no retrieve answer came over the ring:\n{out}");
}

// ---------------------------------------------------------------------------------------------
// notify_inval_entry: test_examples.py::test_notify_inval_entry

/// `notify_inval_entry -f --update-interval=1 --timeout=5 [--no-notify] [--only-expire] MNT`:
/// the one name in the root changes every second. Stat the current name, wait 2 s; without
/// notifications the old name still resolves from the dentry cache (checked), and is gone once
/// its 5 s timeout has passed; with them it is gone at once. Either way: ENOENT at the end.
fn inval_entry(
    lib: Lib,
    flavour: Flavour,
    notify: bool,
    only_expire: bool,
) -> (Vec<Record>, String) {
    let dir = scratch_dir(&format!(
        "ll_notify_examples-entry-{}-{}-{}-{}",
        flavour.name(),
        lib.name(),
        if notify { "notify" } else { "no-notify" },
        if only_expire { "expire" } else { "inval" }
    ));
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mut args = vec!["-f", "--update-interval=1", "--timeout=5"];
    if !notify {
        args.push("--no-notify");
    }
    if only_expire {
        args.push("--only-expire");
    }
    let mnt2 = mnt.clone();
    scenario(lib, &exe(flavour, "notify_inval_entry"), &args, &mnt, move |r| {
        let name = std::sync::Arc::new(std::sync::Mutex::new(PathBuf::new()));
        let (n1, m1) = (name.clone(), mnt2.clone());
        r.check("lookup current", move || {
            // As libfuse's test: the name may change between readdir and stat; try twice.
            let mut last = None;
            for _ in 0..2 {
                let entries: Vec<PathBuf> = std::fs::read_dir(&m1)?
                    .map(|e| e.map(|e| e.path()))
                    .collect::<Result<_, _>>()?;
                if entries.len() != 1 {
                    return Err(wrong(format!("root lists {entries:?}, want one name")));
                }
                match std::fs::metadata(&entries[0]) {
                    Ok(_) => {
                        *n1.lock().unwrap() = entries[0].clone();
                        return Ok(());
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.expect("tried").into())
        });
        sleep_s(2);
        if !notify {
            let n2 = name.clone();
            r.check("old name cached", move || {
                std::fs::metadata(&*n2.lock().unwrap())?;
                Ok(())
            });
            sleep_s(5);
        }
        let n3 = name.clone();
        r.check("old name gone", move || match std::fs::metadata(&*n3.lock().unwrap()) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
            Err(e) => Err(e.into()),
            Ok(_) => Err(wrong("the old name still resolves".into())),
        });
    })
}

/// What notify_inval_entry prints when it trips over its own assertion (module comment).
const EXPIRE_ABORT: &str = "update_fs_loop: Assertion `fuse_lowlevel_notify_expire_entry";

fn inval_entry_compare(notify: bool, only_expire: bool) {
    let what = format!(
        "notify_inval_entry ({}, {})",
        if notify { "notify" } else { "--no-notify" },
        if only_expire { "--only-expire" } else { "invalidate" }
    );
    let runs = parallel_map(
        &[
            (Lib::System, Flavour::Deb314),
            (Lib::Ours, Flavour::Deb314),
            (Lib::Ours, Flavour::OurHdr),
        ],
        |(lib, fl)| inval_entry(*lib, *fl, notify, only_expire),
    );
    if notify && only_expire {
        // The example's own bug makes the reference's result depend on timing: each run must
        // either pass every check, or end in that very assertion (and nothing else).
        for ((recs, out), name) in runs.iter().zip(["Debian's", "ours, deb314", "ours, ourhdr"]) {
            let all_ok = recs.iter().all(|r| r.outcome == Outcome::Ok);
            assert!(
                all_ok || out.contains(EXPIRE_ABORT),
                "{what}, {name}: neither a pass nor the example's known abort:\n{}{out}",
                table(recs)
            );
            if !all_ok {
                eprintln!("{what}, {name}: the example aborted on its own assertion (known)");
            }
        }
        return;
    }
    compare(
        &what,
        &runs[0].0,
        &[("ours, deb314 build", runs[1].0.clone()), ("ours, ourhdr build", runs[2].0.clone())],
        true,
    );
}

#[test]
fn notify_inval_entry_invalidates() {
    inval_entry_compare(true, false);
}

#[test]
fn notify_inval_entry_expires() {
    // Timing-dependent on the reference too: see the module comment.
    inval_entry_compare(true, true);
}

#[test]
fn notify_inval_entry_without_notify_times_out() {
    inval_entry_compare(false, false);
}

#[test]
fn notify_inval_entry_without_notify_only_expire_times_out() {
    inval_entry_compare(false, true);
}

// ---------------------------------------------------------------------------------------------
// poll, ioctl, null (high-level examples): test_examples.py::test_{poll,ioctl,null}

/// The example built with Debian's headers on Debian's libfuse (the reference) and on ours, and
/// built with our headers (our pkg-config file) on ours.
fn both(run_one: impl Fn(Lib, Flavour) -> Vec<Record> + Sync, what: &str) {
    let runs = parallel_map(
        &[
            (Lib::System, Flavour::Deb314),
            (Lib::Ours, Flavour::Deb314),
            (Lib::Ours, Flavour::OurHdr),
        ],
        |(lib, fl)| run_one(*lib, *fl),
    );
    compare(
        what,
        &runs[0],
        &[("ours, deb314 build", runs[1].clone()), ("ours, ourhdr build", runs[2].clone())],
        true,
    );
}

fn client(cmd: &mut Command) -> Result<String, Fail> {
    let ran = run(cmd, OP_T).map_err(|e| Fail(Outcome::Hung, e))?;
    if !ran.ok() {
        return Err(wrong(format!("client {}: {}{}", ran.status, ran.stdout, ran.stderr)));
    }
    Ok(ran.stdout)
}

#[test]
fn poll_example_with_poll_client() {
    both(
        |lib, fl| {
            let dir = scratch_dir(&format!("ll_notify_examples-poll-{}-{}", lib.name(), fl.name()));
            let mnt = dir.join("mnt");
            std::fs::create_dir(&mnt).unwrap();
            let client_bin = exe(Flavour::Deb314, "poll_client");
            let m2 = mnt.clone();
            scenario(lib, &exe(fl, "poll"), &["-f"], &mnt, move |r| {
                r.check("poll_client", move || {
                    // It opens the 16 files, and selects and reads 16 times: it needs poll
                    // notifications (fuse_notify_poll) to ever wake up.
                    let out = client(Command::new(&client_bin).current_dir(&m2))?;
                    expect_eq("select rounds", out.lines().count(), 16)
                });
            })
            .0
        },
        "poll + poll_client",
    );
}

#[test]
fn ioctl_example_with_ioctl_client() {
    both(
        |lib, fl| {
            let dir =
                scratch_dir(&format!("ll_notify_examples-ioctl-{}-{}", lib.name(), fl.name()));
            let mnt = dir.join("mnt");
            std::fs::create_dir(&mnt).unwrap();
            let cl = exe(Flavour::Deb314, "ioctl_client");
            let f = mnt.join("fioc");
            scenario(lib, &exe(fl, "ioctl"), &["-f"], &mnt, move |r| {
                let (c, p) = (cl.clone(), f.clone());
                r.check("size 0", move || {
                    expect_eq("FIOC_GET_SIZE", client(Command::new(&c).arg(&p))?, "0\n".into())
                });
                let p = f.clone();
                r.check("write", move || Ok(std::fs::write(&p, b"foobar")?));
                let (c, p) = (cl.clone(), f.clone());
                r.check("size 6", move || {
                    expect_eq("FIOC_GET_SIZE", client(Command::new(&c).arg(&p))?, "6\n".into())
                });
                let (c, p) = (cl.clone(), f.clone());
                r.check("set size 3", move || client(Command::new(&c).arg(&p).arg("3")).map(drop));
                let p = f.clone();
                r.check("read", move || expect_eq("content", std::fs::read(&p)?, b"foo".to_vec()));
            })
            .0
        },
        "ioctl + ioctl_client",
    );
}

#[test]
fn null_example_mounted_on_a_file() {
    both(
        |lib, fl| {
            let dir = scratch_dir(&format!("ll_notify_examples-null-{}-{}", lib.name(), fl.name()));
            let file = dir.join("file");
            std::fs::write(&file, "dummy").unwrap();
            let f = file.clone();
            scenario(lib, &exe(fl, "null"), &["-f"], &file, move |r| {
                let p = f.clone();
                r.check("size", move || {
                    let size = std::fs::metadata(&p)?.size();
                    if size > 4000 { Ok(()) } else { Err(wrong(format!("size {size}"))) }
                });
                let p = f.clone();
                r.check("read zeros", move || {
                    let mut buf = vec![1u8; 382];
                    std::fs::File::open(&p)?.read_exact(&mut buf)?;
                    expect_eq("382 bytes", buf, vec![0u8; 382])
                });
                let p = f.clone();
                r.check("write", move || {
                    Ok(std::fs::OpenOptions::new()
                        .write(true)
                        .truncate(true)
                        .open(&p)?
                        .write_all(b"whatever")?)
                });
            })
            .0
        },
        "null",
    );
}

#[test]
fn parse_time_reads_the_examples_format() {
    assert_eq!(parse_time("The current time is 01:02:03\n"), Some(3723));
    assert_eq!(parse_time("The current time is 1:2\n"), None);
    assert_eq!(parse_time("garbage"), None);
}
