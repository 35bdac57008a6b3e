//! Our own C examples build against our headers through pkg-config with -Wall -Wextra -Werror,
//! run on our library, and behave the same on Debian's libfuse when built against its headers.

mod common;

use common::cbuild::{Pc, STRICT, build_c, fuse3_flags, gcc};
use common::{repo_root, run, run_ok, scratch_dir, target_profile_dir};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(60);

#[test]
fn optinfo_builds_with_our_pkg_config_and_runs_like_debian() {
    let lib = target_profile_dir();
    assert!(lib.join("fuse3.pc").exists(), "fuse3.pc missing in {}", lib.display());
    let flags = fuse3_flags(Pc::Ours).unwrap();
    assert!(
        flags.iter().any(|f| f.ends_with("include/fuse3") && f.starts_with("-I")),
        "our pkg-config file must point at our headers: {flags:?}"
    );
    let dir = scratch_dir("c_examples");
    let src = repo_root().join("c-examples/optinfo.c");
    let ours_exe = dir.join("optinfo");
    gcc(STRICT, &src, &ours_exe, &flags).unwrap();
    let deb_exe = dir.join("optinfo-debian");
    build_c(Pc::Debian, &["-Wall", "-Werror"], &src, &deb_exe).unwrap();

    let args = ["-f", "-o", "max_threads=4,allow_other", "--name=demo", "--size=42", "/tmp"];
    let on_ours = run(Command::new(&ours_exe).args(args).env("LD_LIBRARY_PATH", &lib), T).unwrap();
    assert!(on_ours.ok(), "{on_ours:?}");
    assert!(on_ours.stdout.contains("library: 3.19.0 (API 319)"), "{}", on_ours.stdout);
    assert!(on_ours.stdout.contains("name=demo size=42"), "{}", on_ours.stdout);
    assert!(on_ours.stdout.contains("max_threads=4"), "{}", on_ours.stdout);

    // Built against Debian's headers: the same binary on Debian's library and on ours.
    let on_debian =
        run(Command::new(&deb_exe).args(args).env_remove("LD_LIBRARY_PATH"), T).unwrap();
    assert!(on_debian.stdout.contains("library: 3.14"), "not Debian's: {}", on_debian.stdout);
    let deb_on_ours =
        run(Command::new(&deb_exe).args(args).env("LD_LIBRARY_PATH", &lib), T).unwrap();
    let strip =
        |s: &str| s.lines().filter(|l| !l.starts_with("library:")).collect::<Vec<_>>().join("\n");
    assert_eq!(strip(&on_debian.stdout), strip(&deb_on_ours.stdout));
    assert_eq!(on_debian.stderr, deb_on_ours.stderr);
    assert!(
        deb_on_ours.stdout.contains("library: 3.19.0"),
        "ours was not loaded: {}",
        deb_on_ours.stdout
    );
}

/// scripts/install.sh stages libraries, headers and fuse3.pc under a prefix; pkg-config from
/// there is all a consumer needs.
#[test]
fn install_script_stages_a_usable_prefix() {
    let lib = target_profile_dir();
    let profile = lib.file_name().unwrap().to_str().unwrap().to_string();
    let dir = scratch_dir("install");
    let stage = dir.join("stage");
    run_ok(
        Command::new("sh")
            .arg(repo_root().join("scripts/install.sh"))
            .args(["--prefix", "/opt/ff", "--profile", &profile, "--destdir"])
            .arg(&stage),
        T,
    )
    .unwrap();
    let libdir = stage.join("opt/ff/lib");
    for f in ["libfuse3.so.3", "libfuse3.so.4", "libfuse3.so", "pkgconfig/fuse3.pc"] {
        assert!(libdir.join(f).exists(), "{f} not installed");
    }
    assert!(stage.join("opt/ff/include/fuse3/fuse_lowlevel.h").exists());
    // The .pc names the final prefix; point pkg-config's sysroot at the staging area.
    let mut cmd = Command::new("pkg-config");
    cmd.args(["--cflags", "--libs", "fuse3"])
        .env("PKG_CONFIG_PATH", libdir.join("pkgconfig"))
        .env("PKG_CONFIG_SYSROOT_DIR", &stage);
    let flags: Vec<String> =
        run_ok(&mut cmd, T).unwrap().stdout.split_whitespace().map(str::to_string).collect();
    assert!(flags.iter().any(|f| f.contains("opt/ff/include/fuse3")), "{flags:?}");
    let exe = dir.join("optinfo");
    run_ok(
        Command::new("gcc")
            .args(["-Wall", "-Wextra", "-Werror", "-o"])
            .arg(&exe)
            .arg(repo_root().join("c-examples/optinfo.c"))
            .args(&flags),
        T,
    )
    .unwrap();
    let ran = run(Command::new(&exe).arg("/tmp").env("LD_LIBRARY_PATH", &libdir), T).unwrap();
    assert!(ran.ok() && ran.stdout.contains("library: 3.19.0"), "{ran:?}");
    let ldd = run_ok(Command::new("ldd").arg(&exe).env("LD_LIBRARY_PATH", &libdir), T).unwrap();
    assert!(ldd.stdout.contains("opt/ff/lib/libfuse3.so.4"), "{}", ldd.stdout);
}

/// What notes_ll does with a fixed sequence of file operations, one line per step.
fn notes_session(mnt: &std::path::Path) -> Vec<String> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let m = mnt.to_path_buf();
    common::mount::with_timeout("notes_ll file operations", Duration::from_secs(30), move || {
        let mut log = Vec::new();
        let mut note = |what: &str, r: std::io::Result<String>| {
            log.push(match r {
                Ok(v) => format!("{what}: ok {v}"),
                Err(e) => format!("{what}: errno {}", e.raw_os_error().unwrap_or(-1)),
            })
        };
        let p = |n: &str| m.join(n);
        note("write", std::fs::write(p("a"), b"hello\n").map(|_| String::new()));
        note(
            "append",
            std::fs::OpenOptions::new()
                .append(true)
                .open(p("a"))
                .and_then(|mut f| f.write_all(b"world\n"))
                .map(|_| String::new()),
        );
        note("read", std::fs::read_to_string(p("a")));
        note("size", std::fs::metadata(p("a")).map(|md| md.len().to_string()));
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        note("write big", std::fs::write(p("big"), &big).map(|_| String::new()));
        note("read big", std::fs::read(p("big")).map(|v| (v == big).to_string()));
        note(
            "pread",
            std::fs::File::open(p("big")).and_then(|mut f| {
                f.seek(SeekFrom::Start(123_457))?;
                let mut b = [0u8; 4];
                f.read_exact(&mut b)?;
                Ok(format!("{b:?}"))
            }),
        );
        note("rename", std::fs::rename(p("a"), p("b")).map(|_| String::new()));
        note("old name", std::fs::metadata(p("a")).map(|_| String::new()));
        note(
            "truncate",
            std::fs::OpenOptions::new()
                .write(true)
                .open(p("b"))
                .and_then(|f| f.set_len(3))
                .map(|_| String::new()),
        );
        note("read truncated", std::fs::read_to_string(p("b")));
        note("mkdir", std::fs::create_dir(p("d")).map(|_| String::new()));
        let mut names: Vec<String> = std::fs::read_dir(&m)
            .map(|d| {
                d.filter_map(|e| e.ok()).map(|e| e.file_name().into_string().unwrap()).collect()
            })
            .unwrap_or_default();
        names.sort();
        note("readdir", Ok(names.join(",")));
        note("unlink", std::fs::remove_file(p("big")).map(|_| String::new()));
        note("unlink missing", std::fs::remove_file(p("big")).map(|_| String::new()));
        log
    })
    .unwrap_or_else(|e| vec![e])
}

/// c-examples/notes_ll.c (the demo's filesystem) does the same on Debian's libfuse, built
/// against Debian's headers, and on ours, built against Debian's headers and against ours.
#[test]
fn notes_ll_behaves_the_same_on_debian_and_ours() {
    use common::mount::{Lib, MountGuard};
    let dir = scratch_dir("c_examples-notes");
    let src = repo_root().join("c-examples/notes_ll.c");
    let deb_exe = dir.join("notes_deb");
    let ours_exe = dir.join("notes_ours");
    build_c(Pc::Debian, &STRICT, &src, &deb_exe).unwrap();
    build_c(Pc::Ours, &STRICT, &src, &ours_exe).unwrap();
    let mut results = Vec::new();
    for (exe, l) in [(&deb_exe, Lib::System), (&deb_exe, Lib::Ours), (&ours_exe, Lib::Ours)] {
        let mnt =
            dir.join(format!("mnt-{}-{}", exe.file_name().unwrap().to_str().unwrap(), l.name()));
        std::fs::create_dir_all(&mnt).unwrap();
        let g = MountGuard::start(Command::new(exe).arg("-f").arg(&mnt), &mnt, l, T)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = notes_session(&mnt);
        let (status, o, e) = g.unmount().unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success(), "{} on {}: exit {status}\n{o}{e}", exe.display(), l.name());
        results.push(r);
    }
    let expect_ok = ["write", "append", "read", "write big", "read big", "rename", "truncate"];
    for step in expect_ok {
        assert!(
            results[0].iter().any(|l| l.starts_with(&format!("{step}: ok"))),
            "reference run: {step} failed: {:#?}",
            results[0]
        );
    }
    assert_eq!(results[0], results[1], "Debian-built binary: Debian's libfuse vs ours");
    assert_eq!(results[0], results[2], "Debian's libfuse vs our headers and library");

    // Ours again, over FUSE-over-io_uring: the same results, with every request after INIT
    // (but FORGET, which the kernel sends through /dev/fuse) taken from a ring (`-d` marks
    // those "cqe unique:").
    let param = common::uring::UringParam::set(true);
    let mnt = dir.join("mnt-uring");
    std::fs::create_dir_all(&mnt).unwrap();
    let started = MountGuard::start(
        Command::new(&ours_exe).args(["-f", "-d", "-o", "io_uring"]).arg(&mnt),
        &mnt,
        Lib::Ours,
        T,
    );
    let run = started.map(|g| {
        let r = notes_session(&mnt);
        (r, g.unmount())
    });
    drop(param);
    let (r, un) = run.unwrap_or_else(|e| panic!("{e}"));
    let (status, o, e) = un.unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success(), "notes_ll over io_uring: exit {status}\n{o}{e}");
    assert_eq!(results[0], r, "Debian's libfuse vs ours over io_uring");
    let ring = e.lines().filter(|l| l.starts_with("cqe unique: ")).count();
    let stray: Vec<&str> = e
        .lines()
        .filter(|l| l.starts_with("unique: "))
        .filter(|l| {
            !l.contains("opcode: INIT ")
                && !l.contains("opcode: DESTROY ")
                && !l.contains("opcode: FORGET ")
                && !l.contains("opcode: BATCH_FORGET ")
        })
        .collect();
    assert!(ring >= 20 && stray.is_empty(), "{ring} ring requests; through /dev/fuse: {stray:?}");
}

/// c-examples/notes.c, the high-level twin of notes_ll (fuse_main, path operations, private
/// data through fuse_get_context), goes through the same steps with the same results on
/// Debian's libfuse (Debian's headers) and on ours (Debian's headers, and our headers through
/// our pkg-config file).
#[test]
fn notes_high_level_behaves_the_same_on_debian_and_ours() {
    use common::mount::{Lib, MountGuard};
    let dir = scratch_dir("c_examples-notes-hl");
    let src = repo_root().join("c-examples/notes.c");
    let deb_exe = dir.join("notes_deb");
    let ours_exe = dir.join("notes_ours");
    for (exe, pc) in [(&deb_exe, Pc::Debian), (&ours_exe, Pc::Ours)] {
        build_c(pc, &STRICT, &src, exe).unwrap();
    }
    let mut results = Vec::new();
    for (exe, l, extra) in [
        (&deb_exe, Lib::System, None),
        (&deb_exe, Lib::Ours, None),
        (&ours_exe, Lib::Ours, None),
        (&ours_exe, Lib::Ours, Some("-s")),
    ] {
        let mnt = dir.join(format!(
            "mnt-{}-{}{}",
            exe.file_name().unwrap().to_str().unwrap(),
            l.name(),
            extra.unwrap_or("")
        ));
        std::fs::create_dir_all(&mnt).unwrap();
        let mut cmd = Command::new(exe);
        cmd.arg("-f").args(extra).arg(&mnt);
        let g = MountGuard::start(&mut cmd, &mnt, l, T).unwrap_or_else(|e| panic!("{e}"));
        let r = notes_session(&mnt);
        let (status, o, e) = g.unmount().unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success(), "{} on {}: exit {status}\n{o}{e}", exe.display(), l.name());
        results.push(r);
    }
    let expect_ok =
        ["write", "append", "read", "write big", "read big", "rename", "truncate", "unlink"];
    for step in expect_ok {
        assert!(
            results[0].iter().any(|l| l.starts_with(&format!("{step}: ok"))),
            "reference run: {step} failed: {:#?}",
            results[0]
        );
    }
    assert!(results[0].contains(&"unlink missing: errno 2".to_string()), "{:#?}", results[0]);
    assert_eq!(results[0], results[1], "Debian-built binary: Debian's libfuse vs ours");
    assert_eq!(results[0], results[2], "Debian's libfuse vs our headers and library");
    assert_eq!(results[0], results[3], "our single-threaded loop (-s)");
}

/// `-h` and `-V` of a fuse_main program: the library prints its parts and the program exits 0
/// without mounting, as with libfuse.
#[test]
fn notes_high_level_help_and_version() {
    let lib = target_profile_dir();
    let dir = scratch_dir("c_examples-notes-help");
    let exe = dir.join("notes_ours");
    build_c(Pc::Ours, &STRICT, &repo_root().join("c-examples/notes.c"), &exe).unwrap();
    let help = run(Command::new(&exe).arg("-h").env("LD_LIBRARY_PATH", &lib), T).unwrap();
    assert!(help.ok(), "{help:?}");
    assert!(help.stdout.starts_with("usage: "), "{}", help.stdout);
    for want in ["FUSE options:", "-o kernel_cache", "-o allow_other", "-s "] {
        assert!(help.stdout.contains(want), "-h lacks {want:?}:\n{}", help.stdout);
    }
    let ver = run(Command::new(&exe).arg("-V").env("LD_LIBRARY_PATH", &lib), T).unwrap();
    assert!(ver.ok(), "{ver:?}");
    assert!(ver.stdout.contains("FUSE library version 3.19.0"), "{}", ver.stdout);
    let none = run(Command::new(&exe).env("LD_LIBRARY_PATH", &lib), T).unwrap();
    assert_eq!(none.status.code(), Some(2), "no mountpoint: {none:?}");
    assert!(none.stderr.contains("no mountpoint"), "{}", none.stderr);
    let bad = run(
        Command::new(&exe).args(["-o", "modules=subdir", "/tmp"]).env("LD_LIBRARY_PATH", &lib),
        T,
    )
    .unwrap();
    assert_eq!(bad.status.code(), Some(3), "modules=: {bad:?}");
    assert!(bad.stderr.contains("modules"), "{}", bad.stderr);
}
