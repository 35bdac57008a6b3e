//! Mounts made with `fuse3::mount::kern_mount` (libfuse's direct, privileged mount) as they show
//! in /proc/self/mountinfo, their removal with `kern_unmount`, and the failures libfuse reports.
//!
//! These tests mount, so they need root; as anyone else they fail saying so. Nobody answers the
//! kernel's INIT on these mounts, so nothing here ever looks inside a mountpoint (that would
//! wait for the filesystem): only the mount table is read. Every mount sits in a [`Mounted`]
//! guard that detaches it on drop, and every test runs under a deadline that also detaches it.

mod common;

use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use fuse3::mount::{MountOpts, kern_mount, kern_unmount, parse_mount_opts};
use nix::errno::Errno;
use nix::mount::{MntFlags, umount2};

const DEADLINE: Duration = Duration::from_secs(20);

fn need_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "mount_direct mounts FUSE filesystems with mount(2) and must run as root"
    );
}

/// Run `body` on its own thread with `dir` as its scratch directory; if it does not finish in
/// time, detach whatever is mounted on `dir` (so a stuck test leaves nothing behind) and fail.
fn with_deadline(name: &str, body: impl FnOnce(PathBuf) + Send + 'static) {
    need_root();
    let dir = common::scratch_dir(&format!("mount_direct/{name}"));
    let (tx, rx) = mpsc::channel();
    let d = dir.clone();
    let worker = std::thread::spawn(move || {
        body(d);
        let _ = tx.send(());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(()) => worker.join().expect("test thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: pass its message on.
            if let Err(p) = worker.join() {
                std::panic::resume_unwind(p);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            for m in ["mnt", "file"] {
                let _ = umount2(&dir.join(m), MntFlags::MNT_DETACH);
            }
            panic!("{name}: no result within {DEADLINE:?}");
        }
    }
}

/// One line of /proc/self/mountinfo, the fields we look at.
#[derive(Debug)]
struct Entry {
    mount_opts: Vec<String>,
    fstype: String,
    source: String,
    super_opts: Vec<String>,
}

/// Undo mountinfo's octal escapes (`\040` for a space and so on).
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(u8::is_ascii_digit) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The topmost mount on `path`, if any.
fn mount_on(path: &Path) -> Option<Entry> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").expect("read mountinfo");
    let split = |s: &str| s.split(',').map(str::to_string).collect::<Vec<_>>();
    let mut found = None;
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() < 10 || unescape(fields[4]) != path.as_os_str().as_bytes() {
            continue;
        }
        let dash = fields.iter().position(|&f| f == "-").expect("mountinfo separator");
        found = Some(Entry {
            mount_opts: split(fields[5]),
            fstype: fields[dash + 1].to_string(),
            source: String::from_utf8_lossy(&unescape(fields[dash + 2])).into_owned(),
            super_opts: split(fields[dash + 3]),
        });
    }
    found
}

/// A mount made by `kern_mount`, detached on drop unless `unmount` already ran.
struct Mounted {
    path: PathBuf,
    fd: Option<OwnedFd>,
    done: bool,
}

impl Mounted {
    fn new(path: &Path, args: &[&str]) -> Result<Mounted, fuse3::mount::MountError> {
        let mo = opts(args);
        let fd = kern_mount(path.as_os_str().as_bytes(), &mo)?;
        Ok(Mounted { path: path.to_path_buf(), fd: Some(fd), done: false })
    }

    fn unmount(mut self) {
        self.done = true;
        kern_unmount(self.path.as_os_str().as_bytes(), self.fd.take());
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if !self.done {
            let _ = umount2(&self.path, MntFlags::MNT_DETACH);
        }
    }
}

/// Parse `-o`-style arguments as a program's argument vector; all must be mount options.
fn opts(args: &[&str]) -> MountOpts {
    let mut v: Vec<Vec<u8>> = std::iter::once("prog")
        .chain(args.iter().copied())
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let mo = parse_mount_opts(&mut v).expect("mount options parse");
    assert_eq!(v, vec![b"prog".to_vec()], "every option is a mount option");
    mo
}

fn mkdir(dir: &Path) -> PathBuf {
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).expect("create mountpoint");
    mnt
}

fn has(list: &[String], want: &[&str]) {
    for w in want {
        assert!(list.iter().any(|o| o == w), "{w} missing from {list:?}");
    }
}

#[test]
fn mount_with_options_then_unmount() {
    with_deadline("options", |dir| {
        let mnt = mkdir(&dir);
        let m = Mounted::new(
            &mnt,
            &[
                "-oro,allow_other,default_permissions,max_read=65536",
                "-ofsname=ferro-src,subtype=ferrotest",
            ],
        )
        .expect("kern_mount");
        let e = mount_on(&mnt).expect("mount listed in mountinfo");
        assert_eq!(e.fstype, "fuse.ferrotest");
        assert_eq!(e.source, "ferro-src");
        has(&e.mount_opts, &["ro", "nosuid", "nodev"]);
        has(&e.super_opts, &["ro", "user_id=0", "group_id=0", "default_permissions"]);
        has(&e.super_opts, &["allow_other", "max_read=65536"]);
        m.unmount();
        assert!(mount_on(&mnt).is_none(), "still mounted after kern_unmount");
    });
}

#[test]
fn defaults_name_the_device() {
    with_deadline("defaults", |dir| {
        let mnt = mkdir(&dir);
        let m = Mounted::new(&mnt, &[]).expect("kern_mount");
        let e = mount_on(&mnt).expect("mount listed in mountinfo");
        assert_eq!(e.fstype, "fuse");
        assert_eq!(e.source, "/dev/fuse");
        has(&e.mount_opts, &["rw", "nosuid", "nodev"]);
        assert!(!e.super_opts.iter().any(|o| o == "allow_other"), "{:?}", e.super_opts);
        m.unmount();
        assert!(mount_on(&mnt).is_none(), "still mounted after kern_unmount");
    });
}

#[test]
fn subtype_alone_is_the_source_and_flags_apply() {
    with_deadline("subtype", |dir| {
        let mnt = mkdir(&dir);
        let m =
            Mounted::new(&mnt, &["-osubtype=onlysub,suid,dev,noexec,noatime"]).expect("kern_mount");
        let e = mount_on(&mnt).expect("mount listed in mountinfo");
        assert_eq!(e.fstype, "fuse.onlysub");
        assert_eq!(e.source, "onlysub");
        has(&e.mount_opts, &["rw", "noexec", "noatime"]);
        for gone in ["nosuid", "nodev"] {
            assert!(!e.mount_opts.iter().any(|o| o == gone), "{gone} in {:?}", e.mount_opts);
        }
        m.unmount();
        assert!(mount_on(&mnt).is_none(), "still mounted after kern_unmount");
    });
}

#[test]
fn regular_file_mountpoint_is_mounted_as_a_file() {
    // libfuse's library does not insist on a directory: the root's mode follows the
    // mountpoint's type (rootmode=100000 here), and the kernel accepts file-on-file mounts.
    with_deadline("file", |dir| {
        let file = dir.join("file");
        std::fs::write(&file, b"x").expect("create file");
        let m = Mounted::new(&file, &["-ofsname=on-a-file"]).expect("kern_mount on a file");
        let e = mount_on(&file).expect("mount listed in mountinfo");
        assert_eq!((e.fstype.as_str(), e.source.as_str()), ("fuse", "on-a-file"));
        m.unmount();
        assert!(mount_on(&file).is_none(), "still mounted after kern_unmount");
    });
}

#[test]
fn unmount_after_the_mount_is_gone() {
    // Once the mount is detached and the connection ended, polling the device says POLLERR
    // and kern_unmount only closes the descriptor.
    with_deadline("gone", |dir| {
        let mnt = mkdir(&dir);
        let mut m = Mounted::new(&mnt, &[]).expect("kern_mount");
        umount2(&mnt, MntFlags::MNT_DETACH).expect("detach");
        assert!(mount_on(&mnt).is_none());
        let fd = m.fd.take();
        m.done = true;
        kern_unmount(mnt.as_os_str().as_bytes(), fd);
        assert!(mount_on(&mnt).is_none());
    });
}

#[test]
fn missing_mountpoint() {
    with_deadline("missing", |dir| {
        let mnt = dir.join("no-such-dir");
        let err = kern_mount(mnt.as_os_str().as_bytes(), &MountOpts::default())
            .expect_err("mount on a missing path");
        let want = format!(
            "fuse: failed to access mountpoint {}: No such file or directory\n",
            mnt.display()
        );
        assert_eq!(err.message.as_deref(), Some(want.as_str()));
        assert_eq!((err.errno, err.needs_helper), (Some(Errno::ENOENT), false));
        assert!(mount_on(&mnt).is_none());
    });
}

#[test]
fn blkdev_needs_a_block_device() {
    // fuseblk takes its source as a block device: a regular file is refused by the kernel.
    with_deadline("blkdev", |dir| {
        let mnt = mkdir(&dir);
        let file = dir.join("file");
        std::fs::write(&file, b"x").expect("create file");
        let fsname = format!("-ofsname={}", file.display());
        let err = Mounted::new(&mnt, &["-oblkdev", &fsname]).err().expect("fuseblk on a file");
        assert_eq!(err.errno, Some(Errno::ENOTBLK));
        assert_eq!(err.message.as_deref(), Some("fuse: mount failed: Block device required\n"));
        assert!(mount_on(&mnt).is_none());
    });
}

#[test]
fn auto_unmount_mounts_through_fusermount3_which_unmounts_when_released() {
    with_deadline("auto_unmount", |dir| {
        let mnt = mkdir(&dir);
        let mut m = Mounted::new(&mnt, &["-oauto_unmount,fsname=ferro-au"]).expect("mounted");
        let e = mount_on(&mnt).expect("mounted through fusermount3");
        assert_eq!(e.source, "ferro-au");
        // The daemon goes away without unmounting: device closed, helper socket released.
        let fd = m.fd.take().expect("device fd");
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        drop(fd);
        fuse3::mount::helper::release_keepalive(raw);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while mount_on(&mnt).is_some() {
            assert!(std::time::Instant::now() < deadline, "fusermount3 did not auto-unmount");
            std::thread::sleep(Duration::from_millis(20));
        }
        m.done = true;
    });
}

#[test]
fn unknown_option_is_left_in_args() {
    let mut v: Vec<Vec<u8>> = ["prog", "-o", "ro,bogus,allow_other", "-x", "mnt"]
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    let mo = parse_mount_opts(&mut v).expect("parse");
    assert!(mo.allow_other);
    let left: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
    assert_eq!(left, [&b"prog"[..], b"-o", b"bogus", b"-x", b"mnt"]);
}

/// Run the ignored test `name` in a child process with `env` set, and require it to pass.
fn run_child(name: &str, env: (&str, &str)) {
    let exe = std::env::current_exe().expect("current_exe");
    let mut cmd = Command::new(exe);
    cmd.args(["--ignored", "--exact", name, "--test-threads=1"]).env(env.0, env.1);
    let ran = common::run(&mut cmd, DEADLINE).expect("child test");
    assert!(ran.ok(), "{name} failed:\n{}{}", ran.stdout, ran.stderr);
    assert!(ran.stdout.contains("1 passed"), "{name} did not run:\n{}", ran.stdout);
}

#[test]
fn missing_device() {
    need_root();
    run_child("missing_device_child", ("FUSE_KERN_DEVICE", "/dev/ferrofuse-no-such-device"));
}

#[test]
#[ignore = "run by missing_device, with FUSE_KERN_DEVICE set"]
fn missing_device_child() {
    with_deadline("missing_device", |dir| {
        let mnt = mkdir(&dir);
        let err = Mounted::new(&mnt, &[]).err().expect("no device");
        let want =
            "fuse: device /dev/ferrofuse-no-such-device not found. Kernel module not loaded?\n";
        assert_eq!(err.message.as_deref(), Some(want));
        assert_eq!(err.errno, Some(Errno::ENOENT));
    });
}
