//! Mirrors the fusermount3 half of libfuse's `lib/mount.c`: mounting through the setuid helper
//! (the classic protocol: a socketpair, `_FUSE_COMMFD` in the helper's environment, the
//! `/dev/fuse` descriptor sent back with SCM_RIGHTS) and `auto_unmount`, where the helper stays
//! on the socket and unmounts when it closes.

use std::collections::HashMap;
use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::sys::socket::{
    AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType, recvmsg, socketpair,
};
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::direct::MountError;
use super::util::{show, strerror};

/// The helper's name, looked up in `/usr/bin` first, then on `PATH`, as libfuse does.
pub const FUSERMOUNT_PROG: &str = "fusermount3";
const FUSERMOUNT_DIR: &str = "/usr/bin";

/// Sockets that keep an `auto_unmount` helper waiting, by the device fd they belong to.
static KEEPALIVE: Lazy<Mutex<HashMap<RawFd, OwnedFd>>> = Lazy::new(|| Mutex::new(HashMap::new()));

fn os(b: &[u8]) -> &std::ffi::OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(b)
}

/// Environment variable naming the helper to run (a path, or a name looked up on PATH).
pub const HELPER_ENV: &str = "FUSERMOUNT_PROG";

/// Our own helper, when installed next to this library: `fusermount3` in the library's
/// directory or in `../bin`, owned by root and setuid (what installing it means; a build tree's
/// unprivileged copy does not count).
fn our_installed_helper() -> Option<std::path::PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let lib = crate::sys::own_library_path()?;
    let dir = lib.parent()?;
    [dir.join(FUSERMOUNT_PROG), dir.join("../bin").join(FUSERMOUNT_PROG)].into_iter().find(|p| {
        std::fs::metadata(p)
            .is_ok_and(|m| m.is_file() && m.uid() == 0 && m.permissions().mode() & 0o4000 != 0)
    })
}

/// Which helper to run: `$FUSERMOUNT_PROG`, then our own installed (setuid) helper, then
/// `fusermount3` on PATH, then `/usr/bin/fusermount3`.
pub fn helper_path() -> std::path::PathBuf {
    if let Some(p) = std::env::var_os(HELPER_ENV).filter(|p| !p.is_empty()) {
        return p.into();
    }
    if let Some(p) = our_installed_helper() {
        return p;
    }
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p).map(|d| d.join(FUSERMOUNT_PROG)).find(|c| c.is_file())
    });
    on_path.unwrap_or_else(|| std::path::Path::new(FUSERMOUNT_DIR).join(FUSERMOUNT_PROG))
}

fn helper_command() -> Command {
    Command::new(helper_path())
}

/// Receive one descriptor sent with SCM_RIGHTS on `sock`. None at EOF or on error (logged).
fn receive_fd(sock: &OwnedFd) -> Option<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut cmsg = nix::cmsg_space!(RawFd);
    loop {
        let mut iov = [IoSliceMut::new(&mut byte)];
        match recvmsg::<()>(sock.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)
        {
            Err(Errno::EINTR) => continue,
            Err(e) => {
                crate::log::err(&format!("recvmsg failed: {}", strerror(e)));
                return None;
            }
            Ok(msg) => {
                if msg.bytes == 0 {
                    return None;
                }
                let Ok(mut cmsgs) = msg.cmsgs() else {
                    crate::log::err("error retrieving control message header\n");
                    return None;
                };
                return match cmsgs.next() {
                    Some(ControlMessageOwned::ScmRights(fds)) if !fds.is_empty() => {
                        // Any extra descriptors are closed, not leaked.
                        for &extra in &fds[1..] {
                            // SAFETY: received just now; nobody else owns them.
                            drop(unsafe { OwnedFd::from_raw_fd(extra) });
                        }
                        // SAFETY: the descriptor was just received and belongs to us alone.
                        Some(unsafe { OwnedFd::from_raw_fd(fds[0]) })
                    }
                    Some(_) => {
                        crate::log::err("got control message of unknown type\n");
                        None
                    }
                    None => {
                        crate::log::err("error retrieving control message header\n");
                        None
                    }
                };
            }
        }
    }
}

/// libfuse's `fuse_mount_fusermount`: run `fusermount3 -o OPTS -- MOUNTPOINT` and take the
/// device descriptor it sends. With `keep`, the socket stays open (auto_unmount: the helper
/// waits on it and unmounts when it closes) and is returned too.
pub fn mount_fusermount(
    mountpoint: &[u8],
    opts: &[u8],
    quiet: bool,
    keep: bool,
) -> Result<(OwnedFd, Option<OwnedFd>), MountError> {
    // The helper's end must survive exec; ours must not leak into other children.
    let (ours, theirs) = socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty())
        .map_err(|e| {
            let m = format!("Running {FUSERMOUNT_PROG}: socketpair() failed: {}\n", strerror(e));
            crate::log::err(&m);
            MountError { needs_helper: false, errno: Some(e), message: Some(m) }
        })?;
    let _ = nix::fcntl::fcntl(&ours, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
    let mut cmd = helper_command();
    cmd.arg("-o")
        .arg(os(opts))
        .arg("--")
        .arg(os(mountpoint))
        .env("_FUSE_COMMFD", theirs.as_raw_fd().to_string())
        .env("_FUSE_COMMFD2", ours.as_raw_fd().to_string());
    if quiet {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    let mut child = cmd.spawn().map_err(|e| {
        let m = format!("Failed to call '{FUSERMOUNT_PROG}': {e}\n");
        crate::log::err(&m);
        MountError { needs_helper: false, errno: None, message: Some(m) }
    })?;
    drop(theirs);
    let fd = receive_fd(&ours);
    let keepalive = if keep && fd.is_some() {
        // The helper lives as long as the socket; reap it when it ends.
        std::thread::spawn(move || {
            let _ = child.wait();
        });
        Some(ours)
    } else {
        drop(ours);
        let _ = child.wait();
        None
    };
    match fd {
        Some(fd) => Ok((fd, keepalive)),
        None => Err(MountError { needs_helper: false, errno: None, message: None }),
    }
}

/// Mount through the helper the way libfuse's `fuse_kern_mount` falls back to it: the mtab and
/// helper options, first with the subtype option (quietly), then without.
pub fn kern_mount_helper(
    mountpoint: &[u8],
    mo: &super::MountOpts,
    mtab_opts: &[u8],
) -> Result<OwnedFd, MountError> {
    let _ = mtab_opts;
    let keep = mo.auto_unmount;
    let res = if mo.subtype_opt.is_some() {
        match mount_fusermount(mountpoint, &helper_opts(mo, true), true, keep) {
            Ok(v) => Ok(v),
            Err(_) => mount_fusermount(mountpoint, &helper_opts(mo, false), false, keep),
        }
    } else {
        mount_fusermount(mountpoint, &helper_opts(mo, false), false, keep)
    };
    let (fd, keepalive) = res.map_err(|e| {
        if e.message.is_none() {
            let m =
                format!("fuse: mounting {} through {FUSERMOUNT_PROG} failed\n", show(mountpoint));
            crate::log::err(&m);
            MountError { message: Some(m), ..e }
        } else {
            e
        }
    })?;
    if let Some(k) = keepalive {
        KEEPALIVE.lock().insert(fd.as_raw_fd(), k);
    }
    Ok(fd)
}

/// Let an `auto_unmount` helper go (it unmounts when its socket closes). Called after the
/// device fd `fd` was closed.
pub fn release_keepalive(fd: RawFd) {
    KEEPALIVE.lock().remove(&fd);
}

/// libfuse's non-root unmount fallback: `fusermount3 --unmount --quiet --lazy -- MOUNTPOINT`.
pub fn unmount_with_helper(mountpoint: &[u8]) {
    let res = helper_command().args(["-u", "-q", "-z", "--"]).arg(os(mountpoint)).status();
    if let Err(e) = res {
        crate::log::err(&format!("Spawning {FUSERMOUNT_PROG} to unmount failed: {e}\n"));
    }
}

/// A helper started with `--sync-init` that has sent the device and waits for "proceed".
pub struct SyncInitHelper {
    /// The device it opened for us.
    pub fd: OwnedFd,
    sock: OwnedFd,
    child: std::process::Child,
}

/// Start `fusermount3 --sync-init -o OPTS -- MOUNTPOINT` and take the device it sends. None
/// when the helper does not speak `--sync-init` (it exits without sending a descriptor): the
/// caller then mounts the classic way.
pub fn sync_init_start(mountpoint: &[u8], opts: &[u8]) -> Option<SyncInitHelper> {
    let (ours, theirs) =
        socketpair(AddressFamily::Unix, SockType::Stream, None, SockFlag::empty()).ok()?;
    let _ = nix::fcntl::fcntl(&ours, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
    let mut cmd = helper_command();
    cmd.arg("--sync-init")
        .arg("-o")
        .arg(os(opts))
        .arg("--")
        .arg(os(mountpoint))
        .env("_FUSE_COMMFD", theirs.as_raw_fd().to_string())
        .env("_FUSE_COMMFD2", ours.as_raw_fd().to_string())
        // An old helper rejects the flag with a usage message: not an error here.
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().ok()?;
    drop(theirs);
    match receive_fd(&ours) {
        Some(fd) => Some(SyncInitHelper { fd, sock: ours, child }),
        None => {
            drop(ours);
            let _ = child.wait();
            None
        }
    }
}

impl SyncInitHelper {
    /// Tell the helper to mount (INIT must be answerable on `fd` by now) and wait for its
    /// int32 status. With `keep` (auto_unmount) the socket is kept open for the helper to
    /// wait on; otherwise it is closed and the helper reaped.
    pub fn proceed(self, keep: bool) -> Result<OwnedFd, MountError> {
        let SyncInitHelper { fd, sock, mut child } = self;
        let fail = |m: String| {
            crate::log::err(&m);
            MountError { needs_helper: false, errno: None, message: Some(m) }
        };
        let sent = loop {
            // MSG_NOSIGNAL: a helper that died already must give EPIPE (and the log line
            // below), not a SIGPIPE that kills a program without a handler for it.
            match nix::sys::socket::send(sock.as_raw_fd(), &[0u8], MsgFlags::MSG_NOSIGNAL) {
                Err(Errno::EINTR) => continue,
                r => break r,
            }
        };
        let result = match sent {
            Ok(1) => {
                let mut status = [0u8; 4];
                let got = loop {
                    match nix::sys::socket::recv(
                        sock.as_raw_fd(),
                        &mut status,
                        MsgFlags::MSG_WAITALL,
                    ) {
                        Err(Errno::EINTR) => continue,
                        r => break r,
                    }
                };
                match got {
                    Ok(4) => match i32::from_ne_bytes(status) {
                        0 => Ok(()),
                        s => Err(fail(format!(
                            "fuse: {FUSERMOUNT_PROG} mount failed: {}\n",
                            strerror(Errno::from_raw(-s))
                        ))),
                    },
                    // A helper gone before answering: EOF, or a reset if our byte was unread.
                    Ok(0) | Err(Errno::ECONNRESET) => {
                        Err(fail(format!("fuse: {FUSERMOUNT_PROG} closed connection\n")))
                    }
                    Ok(_) => Err(fail("fuse: short mount status from the helper\n".into())),
                    Err(e) => Err(fail(format!(
                        "fuse: failed to receive mount status: {}\n",
                        strerror(e)
                    ))),
                }
            }
            Ok(_) | Err(_) => Err(fail("fuse: failed to send proceed signal\n".into())),
        };
        if result.is_ok() && keep {
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            KEEPALIVE.lock().insert(fd.as_raw_fd(), sock);
        } else {
            drop(sock);
            let _ = child.wait();
        }
        result.map(|()| fd)
    }
}

/// The options a helper gets, as libfuse builds them: mtab options, helper options, and
/// (when given) the subtype option; root also passes `dev`/`suid` if asked for.
pub fn helper_opts(mo: &super::MountOpts, with_subtype: bool) -> Vec<u8> {
    let mut opts = Some(mo.base_mtab_opts()).filter(|o| !o.is_empty());
    if let Some(f) = &mo.fusermount_opts {
        crate::opt::add_opt(&mut opts, f, false);
    }
    if nix::unistd::geteuid().is_root() {
        use nix::mount::MsFlags;
        for (flag, name) in [(MsFlags::MS_NODEV, &b"dev"[..]), (MsFlags::MS_NOSUID, b"suid")] {
            if !mo.flags.contains(flag) {
                crate::opt::add_opt(&mut opts, name, false);
            }
        }
    }
    if with_subtype && let Some(sub) = &mo.subtype_opt {
        crate::opt::add_opt(&mut opts, sub, false);
    }
    opts.unwrap_or_default()
}
