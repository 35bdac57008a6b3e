//! The scratch directory: a tmpfs source with the workloads' files, an empty mountpoint, and
//! cleanup (FUSE mount, tmpfs, directory) when it is dropped, on errors and on Ctrl-C too.

use std::fs;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::daemon::Lib;

/// Set by SIGINT/SIGTERM/SIGHUP: workloads stop, the run returns an error, guards clean up.
pub static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

pub fn stopped() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Turn SIGINT, SIGTERM and SIGHUP into [`STOP`] so that every mount is undone on the way out.
pub fn install_stop_handlers() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction is valid; the handler only stores to an atomic, which is
        // async-signal-safe; no SA_RESTART, so a blocked wait returns EINTR.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_stop_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

/// Number of files the stat storm cycles through.
pub const STAT_FILES: usize = 100;

pub struct Workdir {
    pub root: PathBuf,
    /// The tmpfs: the FUSE program's source, and the "tmpfs" column's target.
    pub src: PathBuf,
    /// One mountpoint per library, so both daemons can be mounted at once.
    pub mnts: [PathBuf; 2],
    tmpfs_mounted: bool,
}

impl Workdir {
    /// Make `parent/ferrofuse-bench.PID/{src,mnt-libfuse,mnt-ours}`, mount a tmpfs on `src`
    /// and fill it.
    pub fn create(parent: &Path, file_bytes: u64) -> Result<Workdir, String> {
        let root = parent.join(format!("ferrofuse-bench.{}", std::process::id()));
        let src = root.join("src");
        let mnts = [root.join("mnt-libfuse"), root.join("mnt-ours")];
        if root.exists() {
            // A leftover from a killed run with our pid: undo it first.
            drop(Workdir {
                root: root.clone(),
                src: src.clone(),
                mnts: mnts.clone(),
                tmpfs_mounted: true,
            });
        }
        let mut wd = Workdir { root, src, mnts, tmpfs_mounted: false };
        for d in [&wd.root, &wd.src, &wd.mnts[0], &wd.mnts[1]] {
            fs::create_dir_all(d).map_err(|e| format!("mkdir {}: {e}", d.display()))?;
        }
        let size = 2 * file_bytes + (64 << 20);
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0755"), "ferrofuse-bench"])
            .arg(&wd.src)
            .status()
            .map_err(|e| format!("mount -t tmpfs: {e}"))?;
        if !st.success() {
            return Err(format!(
                "mount -t tmpfs on {} failed ({st}); run as root",
                wd.src.display()
            ));
        }
        wd.tmpfs_mounted = true;
        wd.fill(file_bytes).map_err(|e| format!("filling the tmpfs: {e}"))?;
        Ok(wd)
    }

    fn fill(&self, file_bytes: u64) -> std::io::Result<()> {
        fs::create_dir(self.src.join("stat"))?;
        for i in 0..STAT_FILES {
            fs::write(self.src.join("stat").join(format!("f{i:03}")), b"x")?;
        }
        fs::create_dir(self.src.join("cu"))?;
        // Non-zero contents, so every page is really allocated.
        let mut block = vec![0u8; 1 << 20];
        for (i, b) in block.iter_mut().enumerate() {
            *b = (i as u32).wrapping_mul(2654435761).to_le_bytes()[3] | 1;
        }
        for name in ["big", "seqw"] {
            let f = fs::File::create(self.src.join(name))?;
            let mut off = 0;
            while off < file_bytes {
                let n = (file_bytes - off).min(block.len() as u64) as usize;
                f.write_all_at(&block[..n], off)?;
                off += n as u64;
            }
            (&f).flush()?;
        }
        Ok(())
    }
}

impl Workdir {
    pub fn mnt(&self, lib: Lib) -> &Path {
        &self.mnts[lib as usize]
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        self.mnts.iter().for_each(|m| force_unmount(m));
        if self.tmpfs_mounted && is_mountpoint(&self.src) {
            let _ = Command::new("umount").arg(&self.src).stderr(Stdio::null()).status();
            if is_mountpoint(&self.src) {
                let _ = Command::new("umount").arg("-l").arg(&self.src).status();
            }
        }
        if !is_mountpoint(&self.src) && !self.mnts.iter().any(|m| is_mountpoint(m)) {
            let _ = fs::remove_dir_all(&self.root);
        } else {
            eprintln!("ferrofuse-bench: left {} behind: still mounted", self.root.display());
        }
    }
}

/// Mounts at `path` from `/proc/self/mountinfo`: the filesystem type of each (the last one
/// mounted comes last).
pub fn mount_types(path: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    let want = path.to_string_lossy();
    let mut found = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else { continue };
        if fields.len() > 4 && sep + 1 < fields.len() && unescape(fields[4]) == want {
            found.push(fields[sep + 1].to_string());
        }
    }
    found
}

pub fn is_mountpoint(path: &Path) -> bool {
    !mount_types(path).is_empty()
}

pub fn is_fuse_mounted(path: &Path) -> bool {
    mount_types(path).iter().any(|t| t.starts_with("fuse"))
}

/// Lazily unmount every FUSE mount at `path` (errors ignored: this is cleanup).
pub fn force_unmount(path: &Path) {
    for _ in 0..4 {
        if !is_fuse_mounted(path) {
            return;
        }
        let _ = Command::new("umount").arg("-l").arg(path).stderr(Stdio::null()).status();
    }
}

/// Mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
