//! The fuse_opt API and fuse_parse_cmdline, run by our C driver (`tests/c/optdriver.c`) once
//! against Debian's libfuse 3.14 and once against ours; the outputs must be identical.
//!
//! The driver is built with gcc against Debian's headers and linked with `-lfuse3` (so it
//! needs `libfuse3.so.3`). "Ours" is loaded through `LD_LIBRARY_PATH` twice: from
//! `target/<profile>/` (whose `libfuse3.so.3` is the abi3 build; `cargo build` must have run,
//! since `cargo test` does not relink it) and from a scratch directory whose `libfuse3.so.3`
//! points at the main cdylib that `cargo test` built into `target/<profile>/deps/`. The driver prints the libfuse3 mapping from
//! `/proc/self/maps`, which proves which library was loaded; that line is checked, then left
//! out of the comparison.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

/// `target/<profile>/`, the directory of the library built with this test.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/opt_compare-<hash>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("cannot find target/<profile>/ above {}", exe.display()));
    dir.to_path_buf()
}

/// The abi3 library (`target/<profile>/libfuse3.so.3`), checked to exist and to be no older
/// than the library code this test was built with: `cargo test` rebuilds that code but does
/// not relink the abi3 cdylib, so without `cargo build` first the run would test stale code.
fn our_abi3_lib(dir: &Path) -> PathBuf {
    let so3 = dir.join("libfuse3.so.3");
    let real = fs::canonicalize(&so3).unwrap_or_else(|e| {
        panic!(
            "our library {} is missing ({e}): run `cargo build` at the workspace root first",
            so3.display()
        )
    });
    let fresh = dir.join("deps/libfuse3.rlib");
    let mtime = |p: &Path| {
        fs::metadata(p)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("cannot stat {}: {e}", p.display()))
    };
    assert!(
        mtime(&real) >= mtime(&fresh),
        "{} is older than {}: the abi3 library is stale; run `cargo build` at the workspace \
         root before `cargo test`",
        real.display(),
        fresh.display()
    );
    real
}

/// A scratch directory holding `libfuse3.so.3` -> the main cdylib built with this test
/// (`target/<profile>/deps/libfuse3.so`, which `cargo test` keeps fresh).
fn main_lib_dir(dir: &Path, scratch: &Path) -> PathBuf {
    let main = dir.join("deps/libfuse3.so");
    assert!(main.exists(), "our main library {} is missing", main.display());
    let d = scratch.join("mainlib");
    fs::create_dir_all(&d).unwrap();
    let link = d.join("libfuse3.so.3");
    let _ = fs::remove_file(&link);
    std::os::unix::fs::symlink(&main, &link).unwrap();
    d
}

fn scratch() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("opt_compare");
    fs::create_dir_all(&d).unwrap();
    d
}

/// Build the driver at one FUSE_USE_VERSION against Debian's headers and library, as `name`
/// (tests run in parallel: one name each).
fn build_driver(version: u32, name: &str) -> PathBuf {
    build_driver_with(version, name, &["-I/usr/include/fuse3", "-lfuse3"])
}

/// Build the driver with the given include and link flags.
fn build_driver_with(version: u32, name: &str, flags: &[&str]) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/optdriver.c");
    let out = scratch().join(name);
    let (incl, libs): (Vec<&str>, Vec<&str>) = flags.iter().partition(|f| f.starts_with("-I"));
    let st = Command::new("gcc")
        .args(["-Wall", "-Wextra", "-Werror", "-O0", "-g"])
        .args(incl)
        .arg(format!("-DFUSE_USE_VERSION={version}"))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .args(libs)
        .status()
        .expect("running gcc");
    assert!(st.success(), "gcc failed to build {}", src.display());
    out
}

#[derive(Debug)]
struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Run `exe args` with `LD_LIBRARY_PATH=libdir` (or none), killing it after [`TIMEOUT`].
fn run(exe: &Path, args: &[&str], libdir: Option<&Path>, tag: &str) -> Run {
    let dir = scratch();
    let name = exe.file_name().unwrap().to_string_lossy().into_owned();
    let out_path = dir.join(format!("{name}.{tag}.stdout"));
    let err_path = dir.join(format!("{name}.{tag}.stderr"));
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir("/")
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("LD_PRELOAD")
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap());
    if let Some(l) = libdir {
        cmd.env("LD_LIBRARY_PATH", l);
    }
    let mut child = cmd.spawn().expect("starting the driver");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} ({tag}) did not finish within {TIMEOUT:?}", exe.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap()).into_owned();
    Run { stdout: read(&out_path), stderr: read(&err_path), code: status.code() }
}

/// Split off the `MAPS` line (the loaded libfuse3), returning its path and the rest.
fn take_maps(r: &Run) -> (String, String) {
    let mut maps = None;
    let mut rest = String::new();
    for line in r.stdout.lines() {
        match line.strip_prefix("MAPS ") {
            Some(p) if maps.is_none() => maps = Some(p.to_string()),
            _ => {
                rest.push_str(line);
                rest.push('\n');
            }
        }
    }
    let maps = maps.unwrap_or_else(|| panic!("driver printed no MAPS line:\n{}", r.stdout));
    (maps, rest)
}

/// Panic with the first differing lines if `a` and `b` differ.
fn assert_same_text(what: &str, sys: &str, ours: &str) {
    if sys == ours {
        return;
    }
    let (s, o): (Vec<_>, Vec<_>) = (sys.lines().collect(), ours.lines().collect());
    let first = s.iter().zip(&o).position(|(a, b)| a != b).unwrap_or(s.len().min(o.len()));
    let from = first.saturating_sub(6);
    let mut msg = format!("{what} differs from libfuse's at line {}:\n", first + 1);
    for (side, lines) in [("libfuse", &s), ("ours   ", &o)] {
        for (i, l) in lines.iter().enumerate().skip(from).take(first - from + 4) {
            let mark = if i == first { '>' } else { ' ' };
            msg.push_str(&format!("{mark} {side} {:4}: {l}\n", i + 1));
        }
    }
    panic!("{msg}");
}

fn compare(version: u32) {
    let dir = profile_dir();
    let abi3 = our_abi3_lib(&dir);
    let mainlib = main_lib_dir(&dir, &scratch().join(format!("v{version}")));
    let exe = build_driver(version, &format!("optdriver{version}"));

    let sys = run(&exe, &[], None, "system");
    let (sys_maps, sys_out) = take_maps(&sys);
    assert!(
        sys_maps.contains("libfuse3.so.3") && !sys_maps.contains("/target/"),
        "the system run loaded {sys_maps}, not Debian's libfuse"
    );
    assert_eq!(sys.code, Some(0), "driver failed with libfuse: {}", sys.stderr);
    assert!(sys_out.contains("== done"), "libfuse run incomplete:\n{sys_out}");

    let main_real = fs::canonicalize(dir.join("deps/libfuse3.so")).unwrap();
    for (tag, libdir, want) in [("abi3", dir.clone(), abi3), ("main", mainlib, main_real)] {
        let ours = run(&exe, &[], Some(&libdir), tag);
        let (maps, out) = take_maps(&ours);
        assert_eq!(
            Path::new(&maps),
            want,
            "the {tag} run loaded {maps}, not ours from {}",
            want.display()
        );
        assert_same_text(&format!("stdout ({tag}, FUSE_USE_VERSION={version})"), &sys_out, &out);
        assert_same_text(
            &format!("stderr ({tag}, FUSE_USE_VERSION={version})"),
            &sys.stderr,
            &ours.stderr,
        );
        assert_eq!(ours.code, sys.code, "exit status ({tag})");
    }
}

#[test]
fn opt_driver_matches_libfuse_v312() {
    compare(312);
}

#[test]
fn opt_driver_matches_libfuse_v30() {
    compare(30);
}

/// The driver compiled with our generated headers and linked with our library behaves as the
/// one compiled with Debian's headers and run on Debian's library.
#[test]
fn opt_driver_built_with_our_headers() {
    let dir = profile_dir();
    let abi3 = our_abi3_lib(&dir);
    let ours_inc = format!("-I{}/include/fuse3", env!("CARGO_MANIFEST_DIR"));
    let ours_lib = format!("-L{}", dir.display());
    for version in [30, 312] {
        let sys_exe = build_driver(version, &format!("optdriver-hdr-sys{version}"));
        let sys = run(&sys_exe, &[], None, "system");
        let (_, sys_out) = take_maps(&sys);
        let exe = build_driver_with(
            version,
            &format!("optdriver-hdr-ours{version}"),
            &[&ours_inc, &ours_lib, "-l:libfuse3.so.3"],
        );
        let ours = run(&exe, &[], Some(&dir), "ours");
        let (maps, out) = take_maps(&ours);
        assert_eq!(Path::new(&maps), abi3, "the run with our headers loaded {maps}");
        let what = format!("our headers, FUSE_USE_VERSION={version}");
        assert_same_text(&format!("stdout ({what})"), &sys_out, &out);
        assert_same_text(&format!("stderr ({what})"), &sys.stderr, &ours.stderr);
        assert_eq!(ours.code, sys.code, "exit status ({what})");
    }
}

/// Option names in a help text: the leading `-x`/`--name` words of each line, and the word
/// after `-o` (up to any `=`).
fn option_names(section: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in section.lines() {
        let mut words = line.split_whitespace().peekable();
        while let Some(w) = words.next() {
            if !w.starts_with('-') {
                break;
            }
            if w == "-o" {
                if let Some(o) = words.next() {
                    names.push(format!("-o {}", o.split('=').next().unwrap()));
                }
            } else {
                names.push(w.to_string());
            }
        }
    }
    names.sort();
    names
}

/// The text printed between `== name` and the next `==` line.
fn section<'a>(text: &'a str, name: &str) -> &'a str {
    let head = format!("== {name}\n");
    let start =
        text.find(&head).unwrap_or_else(|| panic!("no {name} section:\n{text}")) + head.len();
    let end = text[start..].find("== ").map_or(text.len(), |e| start + e);
    &text[start..end]
}

/// Our help texts are worded our own way; they must offer the same options as libfuse's
/// (the low-level one may list more: 3.14 predates the io_uring options).
#[test]
fn help_lists_the_same_options() {
    let dir = profile_dir();
    our_abi3_lib(&dir);
    let exe = build_driver(312, "optdriver-help");
    let sys = run(&exe, &["help"], None, "help-system");
    let ours = run(&exe, &["help"], Some(&dir), "help-ours");
    assert_eq!((sys.code, ours.code), (Some(0), Some(0)), "{} / {}", sys.stderr, ours.stderr);

    let cmd_sys = option_names(section(&sys.stdout, "fuse_cmdline_help"));
    let cmd_ours = option_names(section(&ours.stdout, "fuse_cmdline_help"));
    assert!(!cmd_sys.is_empty());
    assert_eq!(cmd_ours, cmd_sys, "fuse_cmdline_help options");

    let ll_sys = option_names(section(&sys.stdout, "fuse_lowlevel_help"));
    let ll_ours = option_names(section(&ours.stdout, "fuse_lowlevel_help"));
    assert!(!ll_sys.is_empty());
    for o in &ll_sys {
        assert!(ll_ours.contains(o), "fuse_lowlevel_help lacks {o}: {ll_ours:?}");
    }
    assert_eq!(ours.stderr, "", "help printed to stderr");
}
