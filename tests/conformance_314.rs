//! libfuse 3.14's own pytest suite (test_examples.py, test_ctests.py, test_custom_io.py), run
//! by scripts/conformance/libfuse314-pytest.sh on Debian 12's libfuse3.so.3 and then on ours:
//! case by case, ours must come to what the reference comes to.
//!
//! Which of the suite's programs use which API (read from their sources):
//! - low-level (`fuse_lowlevel.h`): hello_ll, hello_ll_uds, passthrough_ll, passthrough_hp,
//!   printcap, notify_inval_inode, notify_inval_entry, notify_store_retrieve, test_write_cache.
//! - high-level (`fuse.h`, `fuse_main()`/`fuse_new()`): hello, passthrough, passthrough_fh
//!   (and `passthrough --plus`), invalidate_path, null, poll, ioctl. ioctl_client and
//!   poll_client link no libfuse at all.
//! - CUSE: cuse (`cuse_lowlevel.h`); it fails on the reference too, this kernel has no CUSE.
//!
//! The reference itself (root, kernel 6.18) passes 40, fails 4, skips 6 in most runs:
//! `test_cuse` (no CUSE in this kernel), `test_passthrough_hp[False|True]` (the suite's
//! utimensat on 3.14's passthrough_hp fails with EOPNOTSUPP), and
//! `test_notify_inval_entry[True-expire_entries]` (the example aborts on its own assertion;
//! timing-dependent, see RACY, as is `test_notify1[True-notify_store_retrieve]`). Failures
//! are reproduced, not avoided: the comparison is per case. The script verifies from
//! /proc/PID/maps which libfuse3 the programs really mapped. It mounts, and mounts fusectl:
//! run as root. pytest comes from Debian's python3-pytest.

mod common;

use common::{repo_root, run, target_profile_dir};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// Per script run; the script bounds pytest itself at 900 s.
const T: Duration = Duration::from_secs(20 * 60);

/// The low-level cases: every case whose filesystem program uses only `fuse_lowlevel.h`
/// (matched by pytest `-k` on the example names inside the test ids).
const LOWLEVEL_K: &str = "hello_ll or passthrough_ll or passthrough_hp or notify_inval_inode \
                          or notify_store_retrieve or notify_inval_entry or write_cache \
                          or hello_uds or printcap";

/// The ids the low-level selection must contain at least (so a changed -k or a renamed case
/// cannot silently drop them).
const LOWLEVEL_REQUIRED: [&str; 9] = [
    "test_ctests.py::test_notify1[True-notify_inval_inode]",
    "test_ctests.py::test_notify1[False-notify_inval_inode]",
    "test_ctests.py::test_notify1[True-notify_store_retrieve]",
    "test_ctests.py::test_notify1[False-notify_store_retrieve]",
    "test_examples.py::test_notify_inval_entry[True-invalidate_entries]",
    "test_examples.py::test_notify_inval_entry[True-expire_entries]",
    "test_examples.py::test_notify_inval_entry[False-invalidate_entries]",
    "test_examples.py::test_notify_inval_entry[False-expire_entries]",
    "test_examples.py::test_hello[hello_ll-options0-invoke_directly]",
];

/// Cases whose outcome on the reference itself depends on timing, each with the line the
/// example prints (into the failure report) when it trips over its own bug:
/// - notify_store_retrieve counts a lookup before its reply reaches the kernel, so its update
///   thread can push data for an inode the kernel does not know yet: ENOENT, and it aborts
///   (its own comment cites libfuse issue #105). About one reference run in four here.
/// - notify_inval_entry --only-expire asserts that every `fuse_lowlevel_notify_expire_entry()`
///   returns 0, but once one name was looked up it keeps sending them, every second, for each
///   new name, which the kernel never saw (an expired dentry is not dropped, so no FORGET
///   resets its lookup count): ENOENT, abort. Whether that comes before the test's last stat
///   depends on where the second boundaries fall. Most reference runs here fail.
///
/// A difference on one of these is tolerated only when the failing side's report shows that
/// very line, i.e. the example hit its own bug; it is listed in the test's output.
const RACY: [(&str, &str); 2] = [
    (
        "test_ctests.py::test_notify1[True-notify_store_retrieve]",
        "fuse_lowlevel_notify_store() failed with No such file or directory",
    ),
    (
        "test_examples.py::test_notify_inval_entry[True-expire_entries]",
        "update_fs_loop: Assertion `fuse_lowlevel_notify_expire_entry",
    ),
];

/// The summary of a run, and each case's outcome ("passed", "failed", "skipped").
struct Run {
    counts: Vec<u64>,
    cases: BTreeMap<String, String>,
    output: String,
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn parse(stdout: &str) -> Option<(Vec<u64>, BTreeMap<String, String>)> {
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix("libfuse314-pytest:"))?;
    let counts: Vec<u64> = line
        .split(',')
        .map(|part| part.split_whitespace().next().and_then(|n| n.parse().ok()))
        .collect::<Option<_>>()?;
    let cases = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("case: "))
        .filter_map(|l| l.split_once(' '))
        .map(|(o, id)| (id.to_string(), o.to_string()))
        .collect();
    Some((counts, cases))
}

/// Run the script on `lib` with `-k kexpr`. Err only when it could not run or verify (a
/// failed case is a result, not an error).
fn run_script(lib: &str, kexpr: &str) -> Result<Run, String> {
    let path = repo_root().join("scripts/conformance/libfuse314-pytest.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&path).args(["--lib", lib, "-k", kexpr]);
    if std::env::var_os("FERROFUSE_LIB_DIR").is_none() {
        cmd.env("FERROFUSE_LIB_DIR", target_profile_dir());
    }
    let ran = run(&mut cmd, T)?;
    let output = format!("{}{}", ran.stdout, ran.stderr);
    let (counts, cases) = parse(&ran.stdout).ok_or_else(|| {
        format!(
            "libfuse314-pytest.sh --lib {lib} -k {kexpr:?} printed no summary ({}):\n{}",
            ran.status,
            tail(&output, 80)
        )
    })?;
    if output.contains("VERIFY FAILED") || ran.status.code() == Some(2) {
        return Err(format!(
            "libfuse314-pytest.sh --lib {lib}: the library under test was not verified:\n{}",
            tail(&output, 80)
        ));
    }
    let listed_failed = cases.values().filter(|o| *o == "failed").count() as u64;
    if counts.len() != 3 || counts[1] != listed_failed {
        // A failure that is no case's: pytest timed out, collected nothing, or exited oddly.
        return Err(format!(
            "libfuse314-pytest.sh --lib {lib} -k {kexpr:?}: summary {counts:?}, but \
             {listed_failed} failed cases listed:\n{}",
            tail(&output, 80)
        ));
    }
    Ok(Run { counts, cases, output })
}

/// The cases on which the two runs differ, and the tolerated racy ones (see RACY) apart.
fn differences(reference: &Run, ours: &Run) -> (Vec<String>, Vec<String>) {
    let mut ids: Vec<&String> = reference.cases.keys().chain(ours.cases.keys()).collect();
    ids.sort();
    ids.dedup();
    let (mut diff, mut tolerated) = (Vec::new(), Vec::new());
    for id in ids {
        let r = reference.cases.get(id).map_or("absent", String::as_str);
        let o = ours.cases.get(id).map_or("absent", String::as_str);
        if r == o {
            continue;
        }
        let line = format!("  {id}: libfuse {r}, ours {o}");
        let failing = if r == "failed" { reference } else { ours };
        let racy = RACY.iter().any(|(rid, sig)| {
            rid == id && (r == "failed") != (o == "failed") && failing.output.contains(sig)
        });
        if racy { tolerated.push(line) } else { diff.push(line) }
    }
    (diff, tolerated)
}

#[test]
fn libfuse314_pytest_lowlevel_cases_match_reference() {
    let reference = run_script("system", LOWLEVEL_K)
        .unwrap_or_else(|e| panic!("the reference run failed to run: {e}"));
    for id in LOWLEVEL_REQUIRED {
        assert!(
            reference.cases.contains_key(id),
            "the reference run lacks {id}; -k {LOWLEVEL_K:?} selected:\n{:?}",
            reference.cases.keys().collect::<Vec<_>>()
        );
    }
    assert!(reference.counts[0] >= 20, "the reference passed too little: {:?}", reference.counts);
    let ours = run_script("ours", LOWLEVEL_K).unwrap_or_else(|e| panic!("{e}"));
    let (diff, tolerated) = differences(&reference, &ours);
    if !tolerated.is_empty() {
        eprintln!(
            "tolerated (the example hit its own timing bug on one side):\n{}",
            tolerated.join("\n")
        );
    }
    assert!(
        diff.is_empty(),
        "libfuse 3.14's low-level pytest cases: ours differs from Debian's libfuse:\n{}\n\
         --- ours ---\n{}",
        diff.join("\n"),
        tail(&ours.output, 150)
    );
}

/// The high-level (`fuse.h`) cases besides poll, ioctl and null: hello (direct, through
/// mount.fuse3, with dropped privileges, every option set), passthrough, passthrough --plus
/// and passthrough_fh (with test_syscalls inside, debug or not, writeback skipped as on the
/// reference), and invalidate_path (test_notify1, test_notify_file_size).
const HIGHLEVEL_K: &str = "(test_hello and not hello_ll) or (test_passthrough and not \
                           passthrough_ll and not passthrough_hp) or invalidate_path or \
                           test_notify_file_size";

#[test]
fn libfuse314_pytest_high_level_cases_match_reference() {
    let reference = run_script("system", HIGHLEVEL_K)
        .unwrap_or_else(|e| panic!("the reference run failed to run: {e}"));
    for id in [
        "test_examples.py::test_passthrough[False-passthrough_fh-False]",
        "test_examples.py::test_passthrough[False-passthrough_plus-False]",
        "test_ctests.py::test_notify1[True-invalidate_path]",
    ] {
        assert!(
            reference.cases.contains_key(id),
            "the reference run lacks {id}; -k {HIGHLEVEL_K:?} selected:\n{:?}",
            reference.cases.keys().collect::<Vec<_>>()
        );
    }
    assert!(reference.counts[0] >= 10, "the reference passed too little: {:?}", reference.counts);
    let ours = run_script("ours", HIGHLEVEL_K).unwrap_or_else(|e| panic!("{e}"));
    let (diff, _) = differences(&reference, &ours);
    assert!(
        diff.is_empty(),
        "libfuse 3.14's high-level pytest cases: ours differs from Debian's libfuse:\n{}\n\
         --- ours ---\n{}",
        diff.join("\n"),
        tail(&ours.output, 150)
    );
}

/// poll, ioctl and null are high-level (`fuse.h`) examples: they pass on the reference and
/// must pass on ours; a failure names any symbol ours lacks.
#[test]
fn libfuse314_pytest_poll_ioctl_null_high_level() {
    let k = "test_poll or test_ioctl or test_null";
    let reference =
        run_script("system", k).unwrap_or_else(|e| panic!("the reference run failed to run: {e}"));
    assert_eq!(
        reference.counts,
        vec![3, 0, 0],
        "the reference must pass test_poll, test_ioctl and test_null:\n{}",
        tail(&reference.output, 80)
    );
    let ours = run_script("ours", k).unwrap_or_else(|e| panic!("{e}"));
    let (diff, _) = differences(&reference, &ours);
    let missing: Vec<&str> =
        ours.output.lines().filter(|l| l.contains("undefined symbol")).collect();
    assert!(
        diff.is_empty(),
        "poll, ioctl and null (high-level fuse.h examples) on ours:\n{}\n{}\n--- ours ---\n{}",
        diff.join("\n"),
        if missing.is_empty() {
            String::new()
        } else {
            format!("ours lacks the high-level API:\n{}", missing.join("\n"))
        },
        tail(&ours.output, 60)
    );
}

#[test]
fn summary_and_cases_parse() {
    let out = "case: passed a.py::x[1]\ncase: failed a.py::y\nlibfuse314-pytest: 1 passed, 1 failed, 0 skipped\n";
    let (counts, cases) = parse(out).unwrap();
    assert_eq!(counts, vec![1, 1, 0]);
    assert_eq!(cases.get("a.py::x[1]").map(String::as_str), Some("passed"));
    assert_eq!(cases.get("a.py::y").map(String::as_str), Some("failed"));
    assert!(parse("nothing").is_none());
}
