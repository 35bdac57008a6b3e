//! Memory checks of whole sessions: Debian's `hello_ll` and `passthrough_ll` examples, built
//! with Debian's headers, run under valgrind's memcheck on our `libfuse3.so.3`: mount, use,
//! unmount; and our own c-examples/notes_ll.c built on our headers. Valgrind must report zero
//! errors and zero definitely lost bytes.
//!
//! A small leaking C program proves first that the log parsing catches what it looks for.
//! If valgrind is not installed the tests say so and pass (`.ci/run` installs it).

mod common;

use common::cbuild::{DEBIAN_EXAMPLES, Pc, build_c, gcc};
use common::mount::{Lib, MountGuard, with_timeout};
use common::{run, scratch_dir};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Valgrind starts slowly, and the first requests run at its pace.
const MOUNT_T: Duration = Duration::from_secs(90);
const OP_T: Duration = Duration::from_secs(60);

fn have_valgrind() -> bool {
    let ok = Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: valgrind is not installed (apt-get install valgrind)");
    }
    ok
}

/// Build `src` with Debian's fuse3 flags (or none) into `dir`.
fn build(src: &Path, dir: &Path, fuse: bool) -> PathBuf {
    let out = dir.join(src.file_stem().expect("a file name"));
    let pre = ["-Wall", "-g", "-O0"];
    let built =
        if fuse { build_c(Pc::Debian, &pre, src, &out) } else { gcc(pre, src, &out, [""; 0]) };
    built.unwrap_or_else(|e| panic!("building {}: {e}", src.display()))
}

/// What memcheck's log says: (errors, definitely lost bytes).
fn memcheck_summary(log: &str) -> Result<(u64, u64), String> {
    let number_after = |key: &str| -> Option<u64> {
        let line = log.lines().rev().find(|l| l.contains(key))?;
        let rest = &line[line.find(key)? + key.len()..];
        rest.split_whitespace().next()?.replace(',', "").parse().ok()
    };
    let errors = number_after("ERROR SUMMARY:").ok_or("no ERROR SUMMARY in the log")?;
    // Without leaks memcheck prints "All heap blocks were freed" instead of a leak summary.
    let lost = match number_after("definitely lost:") {
        Some(n) => n,
        None if log.contains("All heap blocks were freed") => 0,
        None => return Err("no leak summary in the log".into()),
    };
    Ok((errors, lost))
}

fn valgrind_cmd(log: &Path, prog: &Path) -> Command {
    let mut cmd = Command::new("valgrind");
    cmd.args([
        "--tool=memcheck",
        "--leak-check=full",
        "--show-leak-kinds=definite",
        "--errors-for-leak-kinds=definite",
        "--error-exitcode=99",
        "--child-silent-after-fork=yes",
        "--num-callers=30",
    ])
    .arg(format!("--log-file={}", log.display()))
    .arg(prog);
    cmd
}

/// The checker's check: a program with an invalid read and a leak must show both.
#[test]
fn memcheck_log_parsing_sees_errors_and_leaks() {
    if !have_valgrind() {
        return;
    }
    let dir = scratch_dir("valgrind-selftest");
    let src = dir.join("leaky.c");
    fs::write(
        &src,
        "#include <stdlib.h>\n#include <string.h>\n\
         int main(void) { char *p = malloc(16); char *q = malloc(100);\n\
         memset(q, 1, 100); q = NULL; return p[16] == 7; }\n",
    )
    .unwrap();
    let prog = build(&src, &dir, false);
    let log = dir.join("leaky.log");
    let ran = run(&mut valgrind_cmd(&log, &prog), OP_T).unwrap();
    assert_eq!(ran.status.code(), Some(99), "valgrind's error exit: {ran:?}");
    let text = fs::read_to_string(&log).unwrap();
    let (errors, lost) = memcheck_summary(&text).unwrap();
    assert!(errors >= 2, "an invalid read and a leak, got {errors} errors:\n{text}");
    assert_eq!(lost, 116, "both blocks are lost: {text}");
}

/// Run `example` under valgrind on ours, do `work` on the mount, unmount, check the log.
fn session_under_valgrind(
    example: &str,
    extra: &[String],
    work: impl FnOnce(PathBuf) -> Result<(), String> + Send + 'static,
) {
    let dir = scratch_dir(&format!("valgrind-{example}"));
    let prog = build(&Path::new(DEBIAN_EXAMPLES).join(format!("{example}.c")), &dir, true);
    run_under_valgrind(example, &dir, &prog, extra, work)
}

/// Run `prog` under valgrind on ours, do `work` on the mount, unmount, check the log.
fn run_under_valgrind(
    example: &str,
    dir: &Path,
    prog: &Path,
    extra: &[String],
    work: impl FnOnce(PathBuf) -> Result<(), String> + Send + 'static,
) {
    let mp = dir.join("mnt");
    fs::create_dir(&mp).unwrap();
    let log = dir.join("memcheck.log");
    let mut cmd = valgrind_cmd(&log, prog);
    cmd.arg("-f").args(extra).arg(&mp);
    // Lib::Ours sets LD_LIBRARY_PATH; the guard checks the daemon mapped our libfuse3.so.3.
    let m = MountGuard::start(&mut cmd, &mp, Lib::Ours, MOUNT_T)
        .unwrap_or_else(|e| panic!("{example} under valgrind did not mount: {e}"));
    let worked = with_timeout(&format!("{example}: file operations"), OP_T, {
        let mp = mp.clone();
        move || work(mp)
    });
    let (status, out, err) = m.unmount().unwrap_or_else(|e| panic!("{example}: {e}"));
    let text = fs::read_to_string(&log).unwrap_or_default();
    if let Err(e) = worked.and_then(|r| r) {
        panic!("{example}: {e}\nstdout:\n{out}\nstderr:\n{err}\nmemcheck:\n{text}");
    }
    let (errors, lost) = memcheck_summary(&text).unwrap_or_else(|e| panic!("{e}:\n{text}"));
    assert_eq!((errors, lost), (0, 0), "{example} on ours: memcheck errors, lost bytes:\n{text}");
    assert!(status.success(), "{example} exited {status}:\n{out}{err}\nmemcheck:\n{text}");
}

fn io(what: &str, e: std::io::Error) -> String {
    format!("{what}: {e}")
}

#[test]
fn hello_ll_on_ours_is_memcheck_clean() {
    if !have_valgrind() {
        return;
    }
    for single in [false, true] {
        let extra: Vec<String> = if single { vec!["-s".into()] } else { vec![] };
        session_under_valgrind("hello_ll", &extra, |mp| {
            let text = fs::read_to_string(mp.join("hello")).map_err(|e| io("read hello", e))?;
            if text != "Hello World!\n" {
                return Err(format!("hello reads {text:?}"));
            }
            let names: Vec<String> = fs::read_dir(&mp)
                .map_err(|e| io("readdir", e))?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<Result<_, _>>()
                .map_err(|e| io("readdir entry", e))?;
            if names != ["hello"] {
                return Err(format!("listing {names:?}"));
            }
            match fs::metadata(mp.join("nothing")) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => Err(format!("stat of a missing name: {other:?}")),
            }
        });
    }
}

/// passthrough_ll serves `/` (with `-o source=` Debian's 3.14 example leaks its own copy of
/// the option string); the test works in a scratch directory seen through the mount.
#[test]
fn passthrough_ll_on_ours_is_memcheck_clean() {
    if !have_valgrind() {
        return;
    }
    let src = scratch_dir("valgrind-passthrough-src");
    fs::write(src.join("before"), b"already here\n").unwrap();
    let src2 = src.clone();
    session_under_valgrind("passthrough_ll", &[], move |mp| {
        let rel = src2.strip_prefix("/").expect("an absolute path");
        let at = mp.join(rel);
        let before = fs::read(at.join("before")).map_err(|e| io("read before", e))?;
        if before != b"already here\n" {
            return Err(format!("before reads {before:?}"));
        }
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(at.join("big"), &data).map_err(|e| io("write big", e))?;
        if fs::read(at.join("big")).map_err(|e| io("read big", e))? != data {
            return Err("big reads back different".into());
        }
        fs::create_dir(at.join("d")).map_err(|e| io("mkdir", e))?;
        fs::rename(at.join("big"), at.join("d/moved")).map_err(|e| io("rename", e))?;
        std::os::unix::fs::symlink("d/moved", at.join("link")).map_err(|e| io("symlink", e))?;
        if fs::read_link(at.join("link")).map_err(|e| io("readlink", e))? != Path::new("d/moved") {
            return Err("readlink".into());
        }
        let mut names: Vec<String> = fs::read_dir(&at)
            .map_err(|e| io("readdir", e))?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| io("readdir entry", e))?;
        names.sort();
        if names != ["before", "d", "link"] {
            return Err(format!("listing {names:?}"));
        }
        if fs::read(src2.join("d/moved")).map_err(|e| io("read through the source", e))? != data {
            return Err("the source directory does not hold what was written".into());
        }
        fs::remove_file(at.join("link")).map_err(|e| io("unlink link", e))?;
        fs::remove_file(at.join("d/moved")).map_err(|e| io("unlink moved", e))?;
        fs::remove_dir(at.join("d")).map_err(|e| io("rmdir", e))?;
        if src2.join("d").exists() {
            return Err("rmdir did not reach the source directory".into());
        }
        Ok(())
    });
}

/// Our own c-examples/notes_ll.c, built against our headers (so it loads `libfuse3.so.4`).
#[test]
fn notes_ll_built_on_our_headers_is_memcheck_clean() {
    if !have_valgrind() {
        return;
    }
    let dir = scratch_dir("valgrind-notes_ll");
    let prog = dir.join("notes_ll");
    let src = common::repo_root().join("c-examples/notes_ll.c");
    build_c(Pc::Ours, &["-Wall", "-Wextra", "-Werror", "-g", "-O0"], &src, &prog).unwrap();
    run_under_valgrind("notes_ll", &dir, &prog, &[], |mp| {
        fs::write(mp.join("a"), b"hello\n").map_err(|e| io("write", e))?;
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(mp.join("big"), &data).map_err(|e| io("write big", e))?;
        if fs::read(mp.join("big")).map_err(|e| io("read big", e))? != data {
            return Err("big reads back different".into());
        }
        fs::rename(mp.join("a"), mp.join("b")).map_err(|e| io("rename", e))?;
        let n = fs::read_dir(&mp).map_err(|e| io("readdir", e))?.count();
        if n != 2 {
            return Err(format!("{n} entries instead of b and big"));
        }
        fs::remove_file(mp.join("big")).map_err(|e| io("unlink", e))?;
        if fs::read_to_string(mp.join("b")).map_err(|e| io("read b", e))? != "hello\n" {
            return Err("b reads back different".into());
        }
        Ok(())
    });
}
