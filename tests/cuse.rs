//! CUSE (`cuse_lowlevel.h`): character devices served from user space.
//!
//! This kernel has no CUSE (`/dev/cuse` is absent), so the device's side of the protocol is
//! tested over a socketpair: tests/c/cuse_session.c plays the kernel's cuse driver (CUSE_INIT,
//! then open, write, read, ioctl, fsync, poll, flush, release) against a CUSE session that
//! reads the socket as `/dev/fd/N`. The same binary runs on Debian's libfuse (the reference)
//! and on ours, and both the kernel side's transcript (stdout) and the device's (stderr:
//! callbacks and library messages) must match; the same source built against our headers
//! (reaching the 3.19 entry points) must match too. The entry points that open `/dev/cuse`
//! must fail here as libfuse's do: clear message, exit status 1.

mod common;

use common::cbuild::{DEBIAN_EXAMPLES, Pc, STRICT, built_once, fuse3_flags, gcc};
use common::mount::Lib;
use common::{Ran, repo_root, run, scratch_dir};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

const T: Duration = Duration::from_secs(30);

struct Built {
    /// tests/c/cuse_session.c against Debian's headers (cuse_lowlevel_new@FUSE_3.0, ...).
    session_deb: PathBuf,
    /// The same against ours (cuse_lowlevel_new_319@FUSE_3.19, ...).
    session_ours: PathBuf,
    /// Debian's cuse example against Debian's headers.
    example: PathBuf,
}

fn build() -> Result<Built, String> {
    let dir = scratch_dir("cuse-build");
    let src = repo_root().join("tests/c/cuse_session.c");
    let deb = fuse3_flags(Pc::Debian)?;
    let ours = fuse3_flags(Pc::Ours)?;
    let session_deb = gcc(STRICT, &src, &dir.join("cuse_session_deb"), &deb)?;
    let session_ours = gcc(STRICT, &src, &dir.join("cuse_session_ours"), &ours)?;
    let ex = Path::new(DEBIAN_EXAMPLES).join("cuse.c");
    if !ex.is_file() {
        return Err(format!("{} missing: apt-get install libfuse3-dev", ex.display()));
    }
    let mut post = deb.clone();
    post.push(format!("-I{DEBIAN_EXAMPLES}"));
    let example = gcc(["-Wall"], &ex, &dir.join("cuse_example"), &post)?;
    Ok(Built { session_deb, session_ours, example })
}

fn built() -> &'static Built {
    static B: OnceLock<Result<Built, String>> = OnceLock::new();
    built_once(&B, "the CUSE test programs", build)
}

/// Runs `prog`; with `-d` the library names its version first, which is the one line the
/// two libraries cannot share: it is checked and dropped.
fn run_on(prog: &Path, args: &[&str], lib: Lib) -> Ran {
    let mut cmd = Command::new(prog);
    cmd.args(args);
    lib.apply(&mut cmd);
    let mut ran =
        run(&mut cmd, T).unwrap_or_else(|e| panic!("{} on {}: {e}", prog.display(), lib.name()));
    if let Some(rest) = ran.stderr.strip_prefix("FUSE library version: ") {
        let (version, rest) = rest.split_once('\n').unwrap_or((rest, ""));
        if lib == Lib::Ours {
            assert_eq!(version, "3.19.0", "{args:?}");
        }
        ran.stderr = rest.to_string();
    }
    ran
}

/// Runs `args` on libfuse and on ours with the Debian-built binary, and on ours with the
/// binary built against our headers; all three must agree (exit status, stdout, stderr).
/// Returns ours.
fn same_everywhere(args: &[&str]) -> Ran {
    let b = built();
    let reference = run_on(&b.session_deb, args, Lib::System);
    for (prog, what) in [(&b.session_deb, "Debian-built"), (&b.session_ours, "built against ours")]
    {
        let ours = run_on(prog, args, Lib::Ours);
        assert_eq!(
            (ours.status.code(), &ours.stdout),
            (reference.status.code(), &reference.stdout),
            "{args:?}, {what} binary: exit status and kernel-side transcript differ from \
             libfuse's\nours stderr:\n{}\nlibfuse stderr:\n{}",
            ours.stderr,
            reference.stderr
        );
        assert_eq!(
            ours.stderr, reference.stderr,
            "{args:?}, {what} binary: device-side transcript differs from libfuse's"
        );
    }
    run_on(&b.session_ours, args, Lib::Ours)
}

fn no_dev_cuse() {
    assert!(
        !Path::new("/dev/cuse").exists(),
        "this test expects a kernel without CUSE (as on these machines): with /dev/cuse the \
         setup calls would create a real device"
    );
}

#[test]
fn device_session_over_a_socket_matches_libfuse() {
    let ours = same_everywhere(&["session"]);
    assert!(ours.status.success(), "{}\n{}", ours.stdout, ours.stderr);
    // What the transcript must say, whatever libfuse says: the device description arrives
    // whole, each callback gets the request and answers it.
    for line in [
        "open before init reply: unique 1 error -5 (Input/output error) payload 0",
        "cuse_init reply: unique 2 error 0 (ok) payload 103",
        "  major 7 flags 0x1 max_read 131072 max_write 65536 dev 0:0",
        "  info \"DEVNAME=ferrofuse-test\"",
        "  info \"EXTRA=1\"",
        "  fh 42 open_flags 0x4",
        "  size 5",
        "  data \"hello\"",
        "  result 7 flags 0x0 value 42",
        "fsync (no callback) reply: unique 7 error -38 (Function not implemented) payload 0",
        "poll (no callback) reply: unique 8 error -38 (Function not implemented) payload 0",
        "second cuse_init reply: unique 9 error -5 (Input/output error) payload 0",
        "release reply: unique 11 error 0 (ok) payload 0",
        "device process: exit 0",
    ] {
        assert!(ours.stdout.lines().any(|l| l == line), "no `{line}` in:\n{}", ours.stdout);
    }
    let device: Vec<&str> = ours.stderr.lines().collect();
    assert_eq!(
        device,
        [
            "init: userdata ud, proto 7.38, max_write 1048576",
            "init_done: userdata ud",
            "open: flags 02",
            "write: 5 bytes \"hello\" off 0 fh 42",
            "read: size 100 off 0 fh 42",
            "ioctl: cmd 0xc0045801 flags 0x2 in 4 out 4 fh 42",
            "flush: fh 42",
            "release: fh 42",
            "loop returned 0",
            "destroy: userdata ud",
        ],
        "device-side transcript"
    );
}

#[test]
fn device_session_in_the_multithreaded_loop_matches_libfuse() {
    let ours = same_everywhere(&["session", "mt"]);
    assert!(ours.status.success(), "{}\n{}", ours.stdout, ours.stderr);
    assert!(ours.stdout.contains("  result 7 flags 0x0 value 42"), "{}", ours.stdout);
    assert!(ours.stderr.ends_with("loop returned 0\ndestroy: userdata ud\n"), "{}", ours.stderr);
}

#[test]
fn bad_device_descriptions_are_refused_like_libfuse() {
    let ours = same_everywhere(&["bad"]);
    assert_eq!(
        ours.stdout,
        "dev_info of 5000 bytes: NULL\ndev_info of 4096 bytes: session\nunknown option: NULL\n"
    );
    assert!(ours.stderr.contains("cuse: dev_info (5000) too large, limit=4096"), "{}", ours.stderr);
    assert!(ours.stderr.contains("unknown option(s): `-o no_such_option'"), "{}", ours.stderr);
}

#[test]
fn setup_and_main_without_dev_cuse_fail_clearly_like_libfuse() {
    no_dev_cuse();
    let not_found = "cuse: device not found, try 'modprobe cuse' first\n";
    for (args, out, err) in [
        (&["setup", "-f"][..], "cuse_lowlevel_setup: NULL\n", not_found),
        (&["setup", "-f", "-s", "-d"][..], "cuse_lowlevel_setup: NULL\n", not_found),
        (&["main", "-f"][..], "cuse_lowlevel_main: 1\n", not_found),
        (&["main", "-f", "-s"][..], "cuse_lowlevel_main: 1\n", not_found),
        (
            &["setup", "-f", "-o", "bogus"][..],
            "cuse_lowlevel_setup: NULL\n",
            "fuse: unknown option(s): `-o bogus'\n",
        ),
        (
            &["main", "-f", "-o", "bogus"][..],
            "cuse_lowlevel_main: 1\n",
            "fuse: unknown option(s): `-o bogus'\n",
        ),
    ] {
        let ours = same_everywhere(args);
        assert_eq!(ours.status.code(), Some(1), "{args:?}");
        assert_eq!(ours.stdout, out, "{args:?}");
        assert!(ours.stderr.ends_with(err), "{args:?}: {}", ours.stderr);
    }
}

#[test]
fn debian_cuse_example_fails_like_libfuse_without_dev_cuse() {
    no_dev_cuse();
    let b = built();
    for args in [&["-f", "--name=ffcuse"][..], &["-f", "--name=ffcuse", "-o", "nope"][..]] {
        let reference = run_on(&b.example, args, Lib::System);
        let ours = run_on(&b.example, args, Lib::Ours);
        assert_eq!(ours.status.code(), Some(1), "{args:?}: {}", ours.stderr);
        assert_eq!(
            (ours.status.code(), &ours.stdout, &ours.stderr),
            (reference.status.code(), &reference.stdout, &reference.stderr),
            "{args:?}"
        );
        assert!(
            ours.stderr.contains("cuse: device not found") || ours.stderr.contains("`-o nope'"),
            "{args:?}: {}",
            ours.stderr
        );
    }
}

/// `-d` output with what may differ between the libraries made equal: pids (two different
/// processes), the protocol level each answers with, and the device info line (libfuse shows
/// the first string, ours every one: ours must start with libfuse's).
fn normalized_debug(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .map(|l| {
            if let Some((head, _)) = l.split_once(", pid: ") {
                format!("{head}, pid: N")
            } else if l.starts_with("   CUSE_INIT: 7.") {
                "   CUSE_INIT: 7.N".to_string()
            } else if l.starts_with("   dev_info: ") {
                "   dev_info: ...".to_string()
            } else {
                l.to_string()
            }
        })
        .collect()
}

#[test]
fn device_session_debug_output_matches_libfuse() {
    let b = built();
    let args = ["session", "-d"];
    let reference = run_on(&b.session_deb, &args, Lib::System);
    let ours = run_on(&b.session_deb, &args, Lib::Ours);
    assert!(ours.status.success() && reference.status.success(), "{}", ours.stderr);
    assert_eq!(ours.stdout, reference.stdout);
    assert_eq!(normalized_debug(&ours.stderr), normalized_debug(&reference.stderr));
    let info = |s: &str| s.lines().find(|l| l.starts_with("   dev_info: ")).map(str::to_string);
    assert_eq!(info(&ours.stderr).as_deref(), Some("   dev_info: DEVNAME=ferrofuse-test EXTRA=1"));
    assert_eq!(info(&reference.stderr).as_deref(), Some("   dev_info: DEVNAME=ferrofuse-test"));
    for line in
        ["unique: 2, opcode: CUSE_INIT (4096), nodeid: 0, insize: 56, pid: N", "CUSE_INIT: 7.38"]
    {
        assert!(normalized_debug(&ours.stderr).iter().any(|l| l == line), "{}", ours.stderr);
    }
}
