//! Mirrors fusermount3's `drop_privs()`/`restore_privs()`: the only place in the helper that
//! changes credentials.
//!
//! The helper is installed setuid root, so its effective uid is 0 and its real ids are the
//! caller's. Every path lookup, every open of a user-named file and of `/dev/fuse` runs inside an
//! [`AsUser`] guard, which sets the filesystem uid and gid to the caller's (so the kernel checks
//! permissions as for the caller) and puts root's back when dropped. Mount and unmount calls run
//! outside the guards: they need `CAP_SYS_ADMIN`, which the filesystem ids do not affect.

use nix::unistd::{Gid, Uid, geteuid, getgid, getuid, setfsgid, setfsuid};

/// Who ran the helper: its real uid and gid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub uid: Uid,
    pub gid: Gid,
}

impl Caller {
    pub fn current() -> Self {
        Caller { uid: getuid(), gid: getgid() }
    }

    /// Root needs no guard and gets none of the user checks, as with fusermount3.
    pub fn is_root(&self) -> bool {
        self.uid.is_root()
    }
}

/// Whether the helper runs with root's effective uid (installed setuid root, or run by root).
pub fn privileged() -> bool {
    geteuid().is_root()
}

/// While alive, filesystem permission checks use the caller's uid and gid. A no-op for root.
#[must_use = "the caller's filesystem ids apply only while the guard lives"]
pub struct AsUser {
    restore: Option<(Uid, Gid)>,
}

impl AsUser {
    pub fn enter(caller: &Caller) -> AsUser {
        if caller.is_root() {
            return AsUser { restore: None };
        }
        let old_gid = setfsgid(caller.gid);
        let old_uid = setfsuid(caller.uid);
        // setfsuid() cannot report failure; asking with an invalid id returns the current one.
        let now_uid = setfsuid(Uid::from_raw(u32::MAX));
        let now_gid = setfsgid(Gid::from_raw(u32::MAX));
        if now_uid != caller.uid || now_gid != caller.gid {
            // Carrying on with root's filesystem ids would skip every permission check.
            eprintln!("fusermount3: failed to switch filesystem ids to the calling user");
            std::process::abort();
        }
        AsUser { restore: Some((old_uid, old_gid)) }
    }
}

impl Drop for AsUser {
    fn drop(&mut self) {
        if let Some((uid, gid)) = self.restore.take() {
            setfsuid(uid);
            setfsgid(gid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_caller_changes_nothing() {
        let c = Caller { uid: Uid::from_raw(0), gid: Gid::from_raw(0) };
        let before = setfsuid(Uid::from_raw(u32::MAX));
        {
            let _g = AsUser::enter(&c);
            assert_eq!(setfsuid(Uid::from_raw(u32::MAX)), before);
        }
        assert_eq!(setfsuid(Uid::from_raw(u32::MAX)), before);
    }
}
