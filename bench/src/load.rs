//! The client workloads, run with threads in this process against a directory (the FUSE
//! mountpoint, or the tmpfs source for the physical limit). Each runs for a fixed time and
//! counts what it completed; the caller divides the daemon's CPU time by that count.
//!
//! The files come from [`crate::workdir::Workdir::fill`]: `stat/f000..`, `cu/`, `big`, `seqw`.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Barrier, mpsc};
use std::time::{Duration, Instant};

use crate::plan::Load;
use crate::workdir::{STAT_FILES, stopped};

const MIB: usize = 1 << 20;

/// What one run of a workload did.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// Completed ops (1 MiB blocks for the sequential workloads).
    pub ops: u64,
    pub elapsed: Duration,
}

impl Outcome {
    /// ops/s, or MiB/s for the sequential workloads (whose op is a 1 MiB block).
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
}

/// Run `load` under `dir`; if it has not finished `grace` after its `duration`, call `on_hang`
/// (which kills the daemon, so blocked calls fail) and report a timeout.
pub fn run_guarded(
    load: Load,
    dir: &Path,
    duration: Duration,
    file_bytes: u64,
    grace: Duration,
    on_hang: impl FnOnce(),
) -> Result<Outcome, String> {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        s.spawn(move || {
            let _ = tx.send(run(load, dir, duration, file_bytes));
        });
        match rx.recv_timeout(duration + grace) {
            Ok(r) => r.map_err(|e| format!("{} under {}: {e}", load.label(), dir.display())),
            Err(_) => {
                on_hang();
                let _ = rx.recv();
                Err(format!(
                    "{} under {} hung for {:?}: killed the daemon",
                    load.label(),
                    dir.display(),
                    duration + grace
                ))
            }
        }
    })
}

/// Run `load` for about `duration` with its threads; every thread starts together.
pub fn run(load: Load, dir: &Path, duration: Duration, file_bytes: u64) -> io::Result<Outcome> {
    let threads = match load {
        Load::Stat { threads } | Load::RandRead { threads } => threads,
        Load::CreateUnlink | Load::SeqWrite | Load::SeqRead | Load::OpenClose => 1,
    };
    let barrier = Barrier::new(threads + 1);
    let (ops, elapsed) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || -> io::Result<u64> {
                    let job = Job::new(load, dir, t, file_bytes);
                    // Everyone passes the barrier, even a thread whose setup failed.
                    barrier.wait();
                    let deadline = Instant::now() + duration;
                    job?.run_until(deadline)
                })
            })
            .collect();
        barrier.wait();
        let t0 = Instant::now();
        let mut total = Ok(0u64);
        for w in workers {
            let r = w.join().unwrap_or_else(|_| Err(io::Error::other("worker panicked")));
            total = match (total, r) {
                (Ok(a), Ok(b)) => Ok(a + b),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        (total, t0.elapsed())
    });
    if stopped() {
        return Err(io::Error::other("interrupted"));
    }
    Ok(Outcome { ops: ops?, elapsed })
}

/// One thread's share of a workload, set up before the clock starts.
enum Job {
    Stat { paths: Vec<CString>, next: usize },
    CreateUnlink { path: CString },
    SeqWrite { path: std::path::PathBuf, buf: Vec<u8>, file_bytes: u64 },
    SeqRead { path: std::path::PathBuf, buf: Vec<u8> },
    RandRead { file: File, blocks: u64, rng: u64, buf: Vec<u8> },
    OpenClose { path: CString },
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).expect("no NUL in our paths")
}

impl Job {
    fn new(load: Load, dir: &Path, thread: usize, file_bytes: u64) -> io::Result<Job> {
        Ok(match load {
            Load::Stat { .. } => Job::Stat {
                paths: (0..STAT_FILES).map(|i| cpath(&dir.join(format!("stat/f{i:03}")))).collect(),
                next: thread * 37,
            },
            Load::CreateUnlink => {
                Job::CreateUnlink { path: cpath(&dir.join(format!("cu/t{thread}"))) }
            }
            Load::SeqWrite => {
                Job::SeqWrite { path: dir.join("seqw"), buf: vec![0x5a; MIB], file_bytes }
            }
            Load::SeqRead => Job::SeqRead { path: dir.join("big"), buf: vec![0; MIB] },
            Load::RandRead { .. } => Job::RandRead {
                file: File::open(dir.join("big"))?,
                blocks: (file_bytes / 4096).max(1),
                rng: 0x9e37_79b9_7f4a_7c15
                    ^ (thread as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9),
                buf: vec![0; 4096],
            },
            Load::OpenClose => Job::OpenClose { path: cpath(&dir.join("big")) },
        })
    }

    fn run_until(&mut self, deadline: Instant) -> io::Result<u64> {
        let mut ops = 0u64;
        let more = |ops: u64| ops == 0 || (Instant::now() < deadline && !stopped());
        match self {
            Job::Stat { paths, next } => {
                while more(ops) {
                    let p = &paths[*next % paths.len()];
                    *next += 1;
                    // SAFETY: p is NUL-terminated; st is a valid out-buffer for stat(2).
                    let r = unsafe {
                        let mut st: libc::stat = std::mem::zeroed();
                        libc::stat(p.as_ptr(), &mut st)
                    };
                    if r != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    ops += 1;
                }
            }
            Job::CreateUnlink { path } => {
                while more(ops) {
                    let flags = libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_CLOEXEC;
                    // SAFETY: path is NUL-terminated; open(2) with a mode for O_CREAT.
                    let fd = unsafe { libc::open(path.as_ptr(), flags, 0o644 as libc::c_uint) };
                    if fd < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // SAFETY: fd was just opened by us and is closed once.
                    let c = unsafe { libc::close(fd) };
                    // SAFETY: path is NUL-terminated.
                    let u = unsafe { libc::unlink(path.as_ptr()) };
                    if c != 0 || u != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    ops += 1;
                }
            }
            Job::SeqWrite { path, buf, file_bytes } => {
                while more(ops) {
                    // Overwrite in place: the file exists at full size, so no pass allocates.
                    let mut f = OpenOptions::new().write(true).open(&*path)?;
                    let mut done = 0u64;
                    while done < *file_bytes {
                        let n = (*file_bytes - done).min(buf.len() as u64) as usize;
                        f.write_all(&buf[..n])?;
                        done += n as u64;
                    }
                    drop(f);
                    ops += *file_bytes / MIB as u64;
                }
            }
            Job::SeqRead { path, buf } => {
                let mut bytes = 0u64;
                while more(bytes) {
                    let mut f = File::open(&*path)?;
                    loop {
                        let n = f.read(buf)?;
                        if n == 0 {
                            break;
                        }
                        bytes += n as u64;
                    }
                }
                ops = bytes / MIB as u64;
            }
            Job::RandRead { file, blocks, rng, buf } => {
                while more(ops) {
                    // xorshift64
                    *rng ^= *rng << 13;
                    *rng ^= *rng >> 7;
                    *rng ^= *rng << 17;
                    let off = (*rng % *blocks) * 4096;
                    let n = file.read_at(buf, off)?;
                    if n != buf.len() {
                        return Err(io::Error::other(format!("short read at {off}: {n} bytes")));
                    }
                    ops += 1;
                }
            }
            Job::OpenClose { path } => {
                while more(ops) {
                    // SAFETY: path is NUL-terminated; no O_CREAT, so no mode argument.
                    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
                    if fd < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    // SAFETY: fd was just opened by us and is closed once.
                    if unsafe { libc::close(fd) } != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    ops += 1;
                }
            }
        }
        Ok(ops)
    }
}
