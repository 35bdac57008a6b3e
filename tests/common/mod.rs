//! Helpers shared by the integration tests: where things are, and running tools with a deadline.
//!
//! Each test crate that says `mod common;` compiles this file on its own, and uses only part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod cbuild;
pub mod checks;
pub mod mount;
pub mod uring;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The repository root (where Cargo.toml is).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: the directory holding the test binary's `deps/`, where cargo puts the
/// cdylibs (`libfuse3.so`, `libfuse3_abi3.so`) and build.rs its symlinks and `fuse3.pc`.
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dir = exe.parent().expect("test binary has a directory").to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// A fresh, empty scratch directory for one test, under cargo's per-target temporary directory.
pub fn scratch_dir(name: &str) -> PathBuf {
    // Per profile, so `cargo test` and `cargo test --release` can run side by side.
    let profile = target_profile_dir().file_name().map(|n| n.to_string_lossy().into_owned());
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(profile.unwrap_or_default()).join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot clear scratch dir {}: {e}", dir.display()));
    }
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create scratch dir {}: {e}", dir.display()));
    dir
}

/// The cache tests/fetch-reference.sh fills: `$FERROFUSE_REF_DIR`, by default `/var/tmp/ferrofuse-ref`.
pub fn reference_root() -> PathBuf {
    std::env::var_os("FERROFUSE_REF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/ferrofuse-ref"))
}

/// libfuse 3.18.3's source tree (Debian unstable), or a message saying how to get it.
pub fn libfuse_318_tree() -> Result<PathBuf, String> {
    let tree = reference_root().join("sid/fuse3-3.18.3");
    for needed in ["include/fuse_lowlevel.h", "lib/fuse_versionscript"] {
        if !tree.join(needed).is_file() {
            return Err(format!(
                "the libfuse 3.18.3 reference tree is missing ({} not found).\n\
                 Fetch it with:  tests/fetch-reference.sh\n\
                 (it unpacks Debian's fuse3 sources under ${{FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}})",
                tree.join(needed).display()
            ));
        }
    }
    Ok(tree)
}

/// libfuse 3.18.3's meson build directory, holding `lib/libfuse3.so.3.18.3` (built once by
/// `scripts/conformance/lib.sh` and cached; a panic if that fails).
pub fn libfuse_318_build() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let script = "conf_name=tests; . scripts/conformance/lib.sh; \
                      conf_build_libfuse318 --no-hold lib/libfuse3.so.3.18.3 >&2; echo \"$conf_318_build\"";
        let r = run_ok(
            Command::new("bash").arg("-c").arg(script).current_dir(repo_root()),
            Duration::from_secs(1300),
        )
        .unwrap_or_else(|e| panic!("building libfuse 3.18.3: {e}"));
        PathBuf::from(r.stdout.trim())
    })
}

/// libfuse 3.14.0's source tree (Debian 12), or a message saying how to get it.
pub fn libfuse_314_tree() -> Result<PathBuf, String> {
    let tree = reference_root().join("bookworm/fuse3-3.14.0");
    for needed in ["include/fuse_lowlevel.h", "include/fuse_kernel.h", "example/hello_ll_uds.c"] {
        if !tree.join(needed).is_file() {
            return Err(format!(
                "the libfuse 3.14.0 reference tree is missing ({} not found).\n\
                 Fetch it with:  tests/fetch-reference.sh\n\
                 (it unpacks Debian's fuse3 sources under ${{FERROFUSE_REF_DIR:-/var/tmp/ferrofuse-ref}})",
                tree.join(needed).display()
            ));
        }
    }
    Ok(tree)
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Ran {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn ok(&self) -> bool {
        self.status.success()
    }
}

/// Render a command line for messages.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Run `cmd` to completion, killing its whole process group after `timeout`.
/// Err only if it could not be started or ran out of time; a non-zero exit is an Ok `Ran`.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Ran, String> {
    let what = describe(cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // Its own process group, so a timeout also ends what it started (cc1, as, ld).
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run `{what}`: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                // SAFETY: pid is our child's process group id (process_group(0) above); sending
                // SIGKILL to it touches no memory of ours.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                let _ = child.wait();
                return Err(format!("`{what}` did not finish within {timeout:?}; killed"));
            }
            Err(e) => return Err(format!("waiting for `{what}`: {e}")),
        }
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Ok(Ran { status, stdout, stderr })
}

/// Run and require success; the error carries the command and its output.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<Ran, String> {
    let what = describe(cmd);
    let ran = run(cmd, timeout)?;
    if ran.ok() {
        Ok(ran)
    } else {
        Err(format!("`{what}` failed ({}):\n{}{}", ran.status, ran.stdout, ran.stderr))
    }
}

/// Whether `p` exists within `timeout` (polled every 10 ms).
pub fn wait_for_file(p: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if p.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    p.exists()
}

/// Run `f` over `items` on a few threads; results come back in the items' order.
pub fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(4, |n| n.get()).clamp(1, 16);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers.min(items.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    *results[i].lock().unwrap() = Some(r);
                }
            });
        }
    });
    results.into_iter().map(|m| m.into_inner().unwrap().expect("every item ran")).collect()
}

/// Read a list file of ours (tests/abi/*.txt): one entry per line, `#` starts a comment.
/// Returns (line number, first word, rest of the line) for each entry.
pub fn read_list(path: &Path) -> Vec<(usize, String, String)> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        entries.push((i + 1, first.to_string(), rest.trim().to_string()));
    }
    entries
}

/// Shell-style match of `pattern` (only `*` is special) against `text`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}
