//! Which mount is ours: found in `/proc/self/mountinfo` right after mounting (by path), and
//! found again at unmount time by its mount id and device number, wherever it is by then.
//!
//! libfuse unmounts by the path it was given. If the mountpoint (or a directory above it) was
//! renamed meanwhile, that path names nothing (the mount is left behind, dead) or, worse,
//! another mount. Reading mountinfo touches nothing of the FUSE filesystem itself, so it is
//! safe while the session is not answering requests (a stat of the mountpoint would not be).

use std::os::unix::ffi::OsStrExt;

/// A mount, as mountinfo names it: its id and its device (`major:minor`), which together
/// cannot name another mount while ours exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRef {
    /// Field 1 of mountinfo.
    pub id: u64,
    /// Field 3, `major:minor`.
    pub dev: Vec<u8>,
}

/// One mountinfo line's fields that matter here.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    id: u64,
    dev: Vec<u8>,
    mountpoint: Vec<u8>,
    fstype: Vec<u8>,
}

/// Undo mountinfo's octal escapes (`\040` for a space, `\134` for a backslash...).
fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\'
            && i + 3 < s.len()
            && s[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = s[i + 1..i + 4].iter().fold(0u32, |a, c| a * 8 + u32::from(c - b'0'));
            if let Ok(b) = u8::try_from(v) {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

fn parse(text: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == b"-") else { continue };
        if sep < 6 || sep + 1 >= fields.len() {
            continue;
        }
        let Some(id) = std::str::from_utf8(fields[0]).ok().and_then(|s| s.parse().ok()) else {
            continue;
        };
        out.push(Entry {
            id,
            dev: fields[2].to_vec(),
            mountpoint: unescape(fields[4]),
            fstype: fields[sep + 1].to_vec(),
        });
    }
    out
}

fn read_mountinfo() -> Vec<Entry> {
    use std::io::Read;
    // proc files report size 0, and the kernel formats the table again for every read: start
    // with room for a typical table so it comes in one or two reads, not a dozen growing ones.
    let mut text = Vec::with_capacity(64 * 1024);
    match std::fs::File::open("/proc/self/mountinfo").and_then(|mut f| f.read_to_end(&mut text)) {
        Ok(_) => parse(&text),
        Err(_) => Vec::new(),
    }
}

fn is_fuse(fstype: &[u8]) -> bool {
    fstype == b"fuse"
        || fstype == b"fuseblk"
        || fstype.starts_with(b"fuse.")
        || fstype.starts_with(b"fuseblk.")
}

/// `mountpoint` made absolute against the working directory, without resolving anything.
fn absolute(mountpoint: &[u8]) -> Option<Vec<u8>> {
    if mountpoint.first() == Some(&b'/') {
        return Some(mountpoint.to_vec());
    }
    let cwd = std::env::current_dir().ok()?;
    let mut p = cwd.as_os_str().as_bytes().to_vec();
    let rest = mountpoint.strip_prefix(b"./").unwrap_or(mountpoint);
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(rest);
    while p.len() > 1 && p.last() == Some(&b'/') {
        p.pop();
    }
    Some(p)
}

/// The FUSE mount on top of `mountpoint` just after mounting it, if mountinfo shows one there
/// under that spelling.
pub fn find_fuse_mount(mountpoint: &[u8]) -> Option<MountRef> {
    let abs = absolute(mountpoint)?;
    find_in(&read_mountinfo(), &abs)
}

fn find_in(entries: &[Entry], abs: &[u8]) -> Option<MountRef> {
    entries
        .iter()
        .rev()
        .find(|e| e.mountpoint == abs && is_fuse(&e.fstype))
        .map(|e| MountRef { id: e.id, dev: e.dev.clone() })
}

/// Where mount `m` is now: `Some(path)`, or `None` if it is no longer mounted here.
pub fn current_path(m: &MountRef) -> Option<Vec<u8>> {
    path_in(&read_mountinfo(), m)
}

fn path_in(entries: &[Entry], m: &MountRef) -> Option<Vec<u8>> {
    entries.iter().find(|e| e.id == m.id && e.dev == m.dev).map(|e| e.mountpoint.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &[u8] = b"\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
41 22 0:39 / /tmp/a\\040b/mnt rw,nosuid,nodev,relatime shared:2 - fuse.hello hello rw,user_id=0
42 41 0:40 / /tmp/a\\040b/mnt rw,nosuid,nodev,relatime - fuse hello rw,user_id=0
43 22 0:41 / /tmp/other rw - tmpfs none rw
";

    #[test]
    fn the_top_fuse_mount_at_a_path_is_found_with_escapes_undone() {
        let e = parse(INFO);
        assert_eq!(e.len(), 4);
        let m = find_in(&e, b"/tmp/a b/mnt").unwrap();
        assert_eq!(m, MountRef { id: 42, dev: b"0:40".to_vec() });
        assert_eq!(find_in(&e, b"/tmp/other"), None, "not a FUSE mount");
        assert_eq!(find_in(&e, b"/tmp/a\\040b/mnt"), None, "escaped spelling");
    }

    #[test]
    fn a_moved_mount_is_found_by_id_and_device() {
        let m = MountRef { id: 41, dev: b"0:39".to_vec() };
        assert_eq!(path_in(&parse(INFO), &m).as_deref(), Some(&b"/tmp/a b/mnt"[..]));
        let moved = b"41 22 0:39 / /srv/elsewhere rw - fuse.hello hello rw\n";
        assert_eq!(path_in(&parse(moved), &m).as_deref(), Some(&b"/srv/elsewhere"[..]));
        // The same id with another device is another mount: ours is gone.
        let reused = b"41 22 0:77 / /tmp/a rw - fuse.x x rw\n";
        assert_eq!(path_in(&parse(reused), &m), None);
    }

    #[test]
    fn relative_mountpoints_are_made_absolute_without_resolving() {
        let cwd = std::env::current_dir().unwrap();
        let want = format!("{}/mnt", cwd.display());
        assert_eq!(absolute(b"mnt").unwrap(), want.as_bytes());
        assert_eq!(absolute(b"./mnt/").unwrap(), want.as_bytes());
        assert_eq!(absolute(b"/x/y").unwrap(), b"/x/y");
        assert_eq!(unescape(b"a\\134b\\1"), b"a\\b\\1");
    }
}
