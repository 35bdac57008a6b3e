//! The benchmark still works: `scripts/bench.sh --quick` on the libraries this test was built
//! with gives a complete table, both suites (classic and passthrough), whose every ratio is a
//! positive finite number. No performance is asserted. Needs root (it mounts a tmpfs and FUSE,
//! and passthrough registers backing files), as the project's other mount tests, and libfuse
//! 3.18.3's source (tests/fetch-reference.sh), which bench.sh builds once for the passthrough
//! suite's reference library.

use std::path::{Path, PathBuf};
use std::process::Command;

use ferrofuse_bench::plan;

fn positive(what: &str, v: &str) -> f64 {
    let x: f64 = v.parse().unwrap_or_else(|_| panic!("{what}: `{v}` is not a number"));
    assert!(x.is_finite() && x > 0.0, "{what}: {x} is not a positive finite number");
    x
}

#[test]
fn quick_mode_prints_a_complete_table() {
    let bench = PathBuf::from(env!("CARGO_BIN_EXE_ferrofuse-bench"));
    let profile_dir = bench.parent().expect("target/<profile>");
    let profile = profile_dir.file_name().expect("profile name").to_string_lossy().into_owned();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-quick-{profile}"));
    let _ = std::fs::remove_dir_all(&out);

    let run = Command::new("timeout")
        .args(["420", "bash"])
        .arg(root.join("scripts/bench.sh"))
        .args(["--quick", "--no-build", "--profile", &profile, "--out"])
        .arg(&out)
        .output()
        .expect("run scripts/bench.sh");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "bench.sh --quick failed ({}):\n{stdout}\n{stderr}", run.status);

    let rows = plan::rows(&plan::variants(plan::Suites::ALL, "default"));
    assert!(rows.iter().any(|r| r.bypass), "the passthrough suite has rows");
    // stdout is the table: one line per row after the header and separator.
    for r in &rows {
        assert!(
            stdout.lines().any(|l| l.starts_with(&format!("| {} |", r.label))),
            "no line for `{}` in the table:\n{stdout}",
            r.label
        );
    }
    let md = std::fs::read_to_string(out.join("results.md")).expect("results.md");
    assert_eq!(md, stdout, "results.md differs from the printed table");

    let csv = std::fs::read_to_string(out.join("results.csv")).expect("results.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), rows.len(), "results.csv rows:\n{csv}");
    for (line, r) in body.iter().zip(&rows) {
        // The label is quoted and contains commas: split it out first.
        let (key, rest) = line.split_once(',').expect("key");
        assert_eq!(key, r.key);
        let after_label = rest.rsplit_once('"').expect("quoted label").1;
        let mut f: Vec<&str> = vec![key, ""];
        f.extend(after_label.trim_start_matches(',').split(','));
        let what = |c: &str| format!("{key} {c}");
        for c in ["libfuse", "ours", "ratio"] {
            positive(&what(c), f[col(c)]);
        }
        let ratio = positive(&what("ratio"), f[col("ratio")]);
        let direct = positive("ours", f[col("ours")]) / positive("libfuse", f[col("libfuse")]);
        assert!((ratio - direct).abs() <= 1e-9 * direct, "{key}: ratio {ratio} != {direct}");
        if r.has_tmpfs {
            for c in ["tmpfs", "libfuse_vs_tmpfs", "ours_vs_tmpfs"] {
                positive(&what(c), f[col(c)]);
            }
        }
        if r.has_cpu && r.bypass {
            // Passthrough reads and writes never reach the daemon: its CPU per op may be 0.
            for c in ["cpu_us_per_op_libfuse", "cpu_us_per_op_ours"] {
                let v: f64 = f[col(c)].parse().unwrap_or(-1.0);
                assert!(v.is_finite() && v >= 0.0, "{}: `{}`", what(c), f[col(c)]);
            }
        } else if r.has_cpu {
            for c in ["cpu_us_per_op_libfuse", "cpu_us_per_op_ours", "cpu_ratio"] {
                positive(&what(c), f[col(c)]);
            }
        }
        assert_eq!(f[col("rounds")], "1", "{key}: quick mode is one round");
        assert!(["0", "1"].contains(&f[col("ours_ahead_rounds")]), "{key}: {line}");
    }
    assert!(
        std::fs::read_to_string(out.join("raw.csv")).expect("raw.csv").lines().count() > rows.len()
    );
}
