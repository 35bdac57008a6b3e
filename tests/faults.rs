//! Faults around a session (issue 10): the FUSE device missing or not openable, the daemon
//! killed while a program writes through the mount, the mountpoint moved while mounted or its
//! path taken by another mount.
//! Helper failures, auto_unmount after kill -9 of an idle daemon and signals are in
//! tests/mounting.rs and tests/ll_session.rs.
//!
//! Debian's `hello_ll` and `passthrough_ll` examples (Debian's headers) run on Debian's libfuse
//! as the reference and on ours. The missing-device cases run in a private mount namespace
//! (`unshare -m`) with a tmpfs over `/dev`, so nothing outside the test sees the change.

mod common;

use common::cbuild::{DEBIAN_EXAMPLES, Pc, build_c};
use common::mount::{Lib, MountGuard, UnmountOnDrop, fuse_mount_type, with_timeout};
use common::{run, run_ok, scratch_dir};
use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MOUNT_T: Duration = Duration::from_secs(20);
const OP_T: Duration = Duration::from_secs(30);
const EXIT_T: Duration = Duration::from_secs(15);

struct Built {
    hello_ll: PathBuf,
    passthrough_ll: PathBuf,
}

fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let dir = scratch_dir("faults-build");
        let build = |name: &str| {
            let src = Path::new(DEBIAN_EXAMPLES).join(format!("{name}.c"));
            build_c(Pc::Debian, &["-Wall"], &src, &dir.join(name))
                .unwrap_or_else(|e| panic!("building {name}: {e}"))
        };
        Built { hello_ll: build("hello_ll"), passthrough_ll: build("passthrough_ll") }
    })
}

fn status_key(st: ExitStatus) -> (&'static str, i32) {
    match (st.code(), st.signal()) {
        (Some(c), _) => ("exit", c),
        (None, Some(s)) => ("signal", s),
        _ => ("unknown", -1),
    }
}

fn lib_dir(lib: Lib) -> String {
    match lib {
        Lib::System => String::new(),
        Lib::Ours => common::target_profile_dir().to_string_lossy().into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// /dev/fuse missing or not openable

/// hello_ll started in a mount namespace whose `/dev` is a fresh tmpfs holding only `null`
/// and, per `mode`, no `fuse`, a directory `fuse`, or a regular file `fuse`.
fn no_device_run(lib: Lib, mode: &str, mp: &Path) -> ((&'static str, i32), Vec<String>) {
    let script = r#"mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 &&
        case "$1" in dir) mkdir /dev/fuse ;; file) touch /dev/fuse ;; esac &&
        if [ -n "$2" ]; then export LD_LIBRARY_PATH="$2"; else unset LD_LIBRARY_PATH; fi &&
        exec "$3" -f "$4""#;
    let ran = run(
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", script, "sh", mode])
            .arg(lib_dir(lib))
            .arg(&built().hello_ll)
            .arg(mp),
        OP_T,
    )
    .unwrap();
    (status_key(ran.status), ran.stderr.lines().map(String::from).collect())
}

#[test]
fn dev_fuse_missing_or_not_openable_like_debian() {
    let dir = scratch_dir("faults-nodev");
    let mp = dir.join("mnt");
    fs::create_dir(&mp).unwrap();
    let _guard = UnmountOnDrop(mp.clone());
    for (mode, debian_says, ours_says) in [
        // Ours words it as libfuse 3.17 and later do.
        (
            "missing",
            "fuse: device not found, try 'modprobe fuse' first",
            "fuse: device /dev/fuse not found. Kernel module not loaded?",
        ),
        (
            "dir",
            "fuse: failed to open /dev/fuse: Is a directory",
            "fuse: failed to open /dev/fuse: Is a directory",
        ),
        ("file", "fuse: mount failed: Invalid argument", "fuse: mount failed: Invalid argument"),
    ] {
        let sys = no_device_run(Lib::System, mode, &mp);
        let ours = no_device_run(Lib::Ours, mode, &mp);
        assert_eq!(sys, (("exit", 1), vec![debian_says.to_string()]), "{mode}: Debian's");
        assert_eq!(ours, (("exit", 1), vec![ours_says.to_string()]), "{mode}: ours");
        assert!(fuse_mount_type(&mp).is_none(), "{mode}: mounted outside the namespace");
    }
}

// ---------------------------------------------------------------------------------------------
// The daemon killed while a program writes

/// A process group started here, killed and reaped on Drop.
struct Group(Option<Child>);

impl Group {
    fn spawn(cmd: &mut Command) -> Group {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        cmd.process_group(0);
        Group(Some(cmd.spawn().unwrap()))
    }
    /// Wait up to `timeout` for it to end by itself.
    fn wait(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let c = self.0.as_mut()?;
        loop {
            if let Ok(Some(st)) = c.try_wait() {
                self.0 = None;
                return Some(st);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            // SAFETY: signalling our own child's process group; no memory is touched.
            unsafe { libc::kill(-(c.id() as libc::pid_t), libc::SIGKILL) };
            let _ = c.wait();
        }
    }
}

/// Helper processes (`fusermount3 ... --auto-unmount`, or with `-o auto_unmount`) still
/// running for `mp`.
fn helpers_for(mp: &Path) -> Vec<u32> {
    let want = mp.as_os_str().as_encoded_bytes();
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let is_helper = args.first().is_some_and(|a| a.ends_with(b"fusermount3"));
        if is_helper && args.contains(&want) {
            out.push(pid);
        }
    }
    out
}

/// passthrough_ll -o auto_unmount, a writer rewriting a file through it, kill -9 the daemon:
/// the writer fails instead of hanging, the helper unmounts within 5 s and exits.
fn killed_mid_write_run(lib: Lib) -> ((&'static str, i32), Option<i32>) {
    let dir = scratch_dir(&format!("faults-killwrite-{}", lib.name()));
    let mp = dir.join("mnt");
    let data = dir.join("data");
    fs::create_dir(&mp).unwrap();
    fs::create_dir(&data).unwrap();
    let _guard = UnmountOnDrop(mp.clone());
    let mut cmd = Command::new(&built().passthrough_ll);
    cmd.args(["-f", "-o", "auto_unmount"]).arg(&mp);
    let m = MountGuard::start(&mut cmd, &mp, lib, MOUNT_T).unwrap();
    // passthrough_ll serves `/`: the data directory appears under the mount at its own path.
    let through = mp.join(data.strip_prefix("/").unwrap()).join("file");
    let mut writer = Group::spawn(Command::new("sh").arg("-c").arg(
        "while dd if=/dev/zero of=\"$1\" bs=64k count=64 conv=notrunc status=none; do :; done; \
         exit 3",
    ).arg("sh").arg(&through));
    let deadline = Instant::now() + OP_T;
    while fs::metadata(data.join("file")).map_or(0, |m| m.len()) < 1 << 20 {
        assert!(Instant::now() < deadline, "{}: the writer wrote nothing", lib.name());
        assert!(writer.wait(Duration::ZERO).is_none(), "{}: the writer stopped", lib.name());
        std::thread::sleep(Duration::from_millis(10));
    }
    m.signal(libc::SIGKILL);
    let (st, _o, _e) = m.wait_exit(EXIT_T).unwrap();
    let wrote = writer.wait(OP_T);
    assert!(wrote.is_some(), "{}: the writer hangs after the daemon died", lib.name());
    let deadline = Instant::now() + Duration::from_secs(5);
    while fuse_mount_type(&mp).is_some() || !helpers_for(&mp).is_empty() {
        if Instant::now() > deadline {
            for p in helpers_for(&mp) {
                // SAFETY: signalling a leftover helper process of this test.
                unsafe { libc::kill(p as libc::pid_t, libc::SIGKILL) };
            }
            panic!("{}: mount or helper still there 5 s after the daemon died", lib.name());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    (status_key(st), wrote.and_then(|s| s.code()))
}

#[test]
fn daemon_killed_mid_write_auto_unmount_cleans_up_like_debian() {
    let sys = killed_mid_write_run(Lib::System);
    let ours = killed_mid_write_run(Lib::Ours);
    // Exit 3: the writer's loop ended because a write failed.
    assert_eq!(sys, (("signal", libc::SIGKILL), Some(3)), "Debian's: killed, the writer failed");
    assert_eq!(ours, sys, "ours (left) vs Debian's (right)");
}

// ---------------------------------------------------------------------------------------------
// The mountpoint moved while mounted

/// hello_ll mounted on DIR/a/mnt; DIR/a renamed to DIR/b; SIGTERM. Returns whether a FUSE mount
/// is left at DIR/b/mnt afterwards (it is cleaned up here either way).
fn moved_run(lib: Lib) -> ((&'static str, i32), bool) {
    let dir = scratch_dir(&format!("faults-moved-{}", lib.name()));
    let (a, b) = (dir.join("a"), dir.join("b"));
    fs::create_dir_all(a.join("mnt")).unwrap();
    let _ga = UnmountOnDrop(a.join("mnt"));
    let _gb = UnmountOnDrop(b.join("mnt"));
    let mut cmd = Command::new(&built().hello_ll);
    cmd.arg("-f").arg(a.join("mnt"));
    let m = MountGuard::start(&mut cmd, &a.join("mnt"), lib, MOUNT_T).unwrap();
    let hello = a.join("mnt/hello");
    let text = with_timeout("read", OP_T, move || fs::read_to_string(hello)).unwrap().unwrap();
    assert_eq!(text, "Hello World!\n");
    fs::rename(&a, &b).unwrap();
    m.signal(libc::SIGTERM);
    let (st, _o, _e) = m.wait_exit(EXIT_T).unwrap();
    (status_key(st), fuse_mount_type(&b.join("mnt")).is_some())
}

/// libfuse unmounts by the path it was given, which names nothing after the rename: it logs
/// the failure and leaves a dead mount behind. Ours finds its mount by id in mountinfo and
/// unmounts it where it is.
#[test]
fn moved_mountpoint_is_unmounted_on_exit_ours() {
    let sys = moved_run(Lib::System);
    assert_eq!(sys, (("exit", 1), true), "Debian's: the check sees the mount it leaves behind");
    let ours = moved_run(Lib::Ours);
    assert_eq!(ours, (("exit", 1), false), "ours leaves no mount behind");
}

/// Whether a tmpfs is mounted at `p`.
fn tmpfs_at(p: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let want = p.to_string_lossy();
    info.lines().any(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-");
        f.len() > 4 && f[4] == want && sep.is_some_and(|s| f.get(s + 1) == Some(&"tmpfs"))
    })
}

/// hello_ll mounted at MNT with a file open on it; MNT lazily unmounted and a tmpfs mounted in
/// its place; SIGTERM. Returns whether the tmpfs is still mounted afterwards.
fn replaced_run(lib: Lib) -> ((&'static str, i32), bool) {
    let dir = scratch_dir(&format!("faults-replaced-{}", lib.name()));
    let mp = dir.join("mnt");
    fs::create_dir(&mp).unwrap();
    let mut cmd = Command::new(&built().hello_ll);
    cmd.arg("-f").arg(&mp);
    let m = MountGuard::start(&mut cmd, &mp, lib, MOUNT_T).unwrap();
    let hello = mp.join("hello");
    // The open file keeps the detached filesystem (and the daemon's connection) alive.
    let open = with_timeout("open", OP_T, move || fs::File::open(hello)).unwrap().unwrap();
    run_ok(Command::new("umount").arg("-l").arg(&mp), OP_T).unwrap();
    run_ok(Command::new("mount").args(["-t", "tmpfs", "stranger"]).arg(&mp), OP_T).unwrap();
    struct Umount(PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            while tmpfs_at(&self.0) {
                if !Command::new("umount").arg(&self.0).status().is_ok_and(|s| s.success()) {
                    break;
                }
            }
        }
    }
    let _cleanup = Umount(mp.clone());
    assert!(tmpfs_at(&mp));
    m.signal(libc::SIGTERM);
    let (st, _o, _e) = m.wait_exit(EXIT_T).unwrap();
    drop(open);
    (status_key(st), tmpfs_at(&mp))
}

/// The mountpoint path given to another mount meanwhile: libfuse unmounts by path and so
/// unmounts the stranger; ours sees its own mount is no longer there and leaves the path alone.
#[test]
fn another_mount_at_the_old_path_is_left_alone_ours() {
    let sys = replaced_run(Lib::System);
    assert_eq!(sys, (("exit", 1), false), "Debian's unmounts the stranger (the check sees it)");
    let ours = replaced_run(Lib::Ours);
    assert_eq!(ours, (("exit", 1), true), "ours leaves the stranger mounted");
}
