//! Medians over rounds, ratios ours/libfuse, and the outputs: a Markdown table (stdout and
//! `results.md`), `results.csv` (one line per row) and `raw.csv` (every measurement).

use std::fmt::Write as _;
use std::path::Path;

use crate::daemon::Lib;
use crate::plan::{Better, Row};

/// Where a number was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Lib(Lib),
    /// The tmpfs source itself, no FUSE: the physical limit.
    Tmpfs,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Lib(l) => l.name(),
            Target::Tmpfs => "tmpfs",
        }
    }
}

/// One measurement.
#[derive(Clone, Debug)]
pub struct Sample {
    pub round: usize,
    pub target: Target,
    pub key: String,
    pub value: f64,
    /// Ops the workload completed (0 for latency and RSS rows).
    pub ops: u64,
    /// The daemon's user+system CPU time over the workload, divided by `ops`.
    pub cpu_us_per_op: Option<f64>,
}

/// What the run was: printed above the table.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub date: String,
    pub kernel: String,
    pub cpus: usize,
    pub rounds: usize,
    pub duration_s: f64,
    pub file_mib: u64,
    /// One per suite run: the classic program, then the passthrough one.
    pub programs: Vec<ProgramMeta>,
    pub quick: bool,
}

/// A program's command line and the libfuse files its daemons mapped.
#[derive(Clone, Debug, Default)]
pub struct ProgramMeta {
    pub command: String,
    pub libfuse: String,
    pub ours: String,
}

pub struct Results {
    pub meta: Meta,
    pub rows: Vec<Row>,
    pub samples: Vec<Sample>,
    pub comparisons: Vec<crate::plan::Comparison>,
}

/// A row's medians and ratios.
#[derive(Clone, Debug)]
pub struct Summary {
    pub row: Row,
    pub libfuse: Option<f64>,
    pub ours: Option<f64>,
    pub tmpfs: Option<f64>,
    pub cpu_libfuse: Option<f64>,
    pub cpu_ours: Option<f64>,
    pub rounds: usize,
    /// Rounds in which ours did better than libfuse (of the rounds that measured both).
    pub ours_ahead: usize,
    /// Rounds that measured both.
    pub paired: usize,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

impl Summary {
    /// ours / libfuse.
    pub fn ratio(&self) -> Option<f64> {
        ratio(self.ours, self.libfuse)
    }
    /// ours / libfuse, CPU µs per op.
    pub fn cpu_ratio(&self) -> Option<f64> {
        ratio(self.cpu_ours, self.cpu_libfuse)
    }
    /// libfuse / tmpfs.
    pub fn libfuse_vs_tmpfs(&self) -> Option<f64> {
        ratio(self.libfuse, self.tmpfs)
    }
    /// ours / tmpfs.
    pub fn ours_vs_tmpfs(&self) -> Option<f64> {
        ratio(self.ours, self.tmpfs)
    }
}

pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

pub fn summarize(r: &Results) -> Vec<Summary> {
    r.rows
        .iter()
        .map(|row| {
            let of =
                |t: Target| r.samples.iter().filter(move |s| s.key == row.key && s.target == t);
            let med = |t| median(of(t).map(|s| s.value).collect());
            let cpu = |t| median(of(t).filter_map(|s| s.cpu_us_per_op).collect());
            let (mut ours_ahead, mut paired) = (0, 0);
            for o in of(Target::Lib(Lib::Ours)) {
                if let Some(l) = of(Target::Lib(Lib::Libfuse)).find(|l| l.round == o.round) {
                    paired += 1;
                    let ahead = match row.better {
                        Better::Higher => o.value > l.value,
                        Better::Lower => o.value < l.value,
                    };
                    ours_ahead += usize::from(ahead);
                }
            }
            Summary {
                row: row.clone(),
                libfuse: med(Target::Lib(Lib::Libfuse)),
                ours: med(Target::Lib(Lib::Ours)),
                tmpfs: med(Target::Tmpfs),
                cpu_libfuse: cpu(Target::Lib(Lib::Libfuse)),
                cpu_ours: cpu(Target::Lib(Lib::Ours)),
                rounds: of(Target::Lib(Lib::Ours)).count(),
                ours_ahead,
                paired,
            }
        })
        .collect()
}

fn num(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn ratio_str(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

pub fn markdown(r: &Results) -> String {
    let m = &r.meta;
    let mut s = String::new();
    let _ =
        writeln!(s, "ferrofuse-bench, {}{}", m.date, if m.quick { " (quick mode)" } else { "" });
    let _ = writeln!(
        s,
        "kernel {}, {} CPUs; {} round(s), {} s per workload, {} MiB files",
        m.kernel, m.cpus, m.rounds, m.duration_s, m.file_mib
    );
    for p in &m.programs {
        let _ = writeln!(s, "program `{}`: libfuse `{}`; ours `{}`", p.command, p.libfuse, p.ours);
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| workload | unit | better | libfuse | ours | ours/libfuse | rounds ours ahead | tmpfs | libfuse/tmpfs | ours/tmpfs | CPU µs/op libfuse | CPU µs/op ours | CPU ours/libfuse |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for x in summarize(r) {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} | {} |",
            x.row.label,
            x.row.unit,
            better(x.row.better),
            num(x.libfuse),
            num(x.ours),
            ratio_str(x.ratio()),
            x.ours_ahead,
            x.paired,
            num(x.tmpfs),
            ratio_str(x.libfuse_vs_tmpfs()),
            ratio_str(x.ours_vs_tmpfs()),
            num(x.cpu_libfuse),
            num(x.cpu_ours),
            ratio_str(x.cpu_ratio()),
        );
    }
    let sums = summarize(r);
    if !r.comparisons.is_empty() {
        let _ = writeln!(s);
        for c in &r.comparisons {
            let pick = |(key, ours): &(String, bool)| {
                sums.iter()
                    .find(|x| &x.row.key == key)
                    .and_then(|x| if *ours { x.ours } else { x.libfuse })
            };
            let _ = writeln!(s, "- {}: {}", c.label, ratio_str(ratio(pick(&c.num), pick(&c.den))));
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Medians over rounds. CPU µs/op: the daemon's user+system time (/proc/PID/stat) over the \
         workload divided by the ops it completed (a stat, a create+close+unlink, a 1 MiB block, a 4K read, \
         an open+close); /tmpfs: the FUSE mount's rate over the tmpfs source's own. Rounds ours \
         ahead: in how many rounds ours did better than libfuse (about half: even, within noise)."
    );
    if r.rows.iter().any(|row| row.bypass) {
        let _ = writeln!(
            s,
            "(passthrough): reads and writes go from the kernel to the backing file without \
             reaching the daemon (checked: both daemons counted 0 READ and 0 WRITE requests), so \
             the daemon's CPU per op there is about zero and its ratio is noise or undefined."
        );
    }
    s
}

fn better(b: Better) -> &'static str {
    match b {
        Better::Higher => "higher",
        Better::Lower => "lower",
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

pub fn csv(r: &Results) -> String {
    let mut s = String::from(
        "key,workload,unit,better,libfuse,ours,ratio,tmpfs,libfuse_vs_tmpfs,ours_vs_tmpfs,cpu_us_per_op_libfuse,cpu_us_per_op_ours,cpu_ratio,rounds,ours_ahead_rounds\n",
    );
    for x in summarize(r) {
        let _ = writeln!(
            s,
            "{},\"{}\",{},{},{},{},{},{},{},{},{},{},{},{},{}",
            x.row.key,
            x.row.label,
            x.row.unit,
            better(x.row.better),
            opt(x.libfuse),
            opt(x.ours),
            opt(x.ratio()),
            opt(x.tmpfs),
            opt(x.libfuse_vs_tmpfs()),
            opt(x.ours_vs_tmpfs()),
            opt(x.cpu_libfuse),
            opt(x.cpu_ours),
            opt(x.cpu_ratio()),
            x.rounds,
            x.ours_ahead
        );
    }
    s
}

pub fn raw_csv(r: &Results) -> String {
    let mut s = String::from("round,target,key,value,ops,cpu_us_per_op\n");
    for x in &r.samples {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            x.round,
            x.target.name(),
            x.key,
            x.value,
            x.ops,
            opt(x.cpu_us_per_op)
        );
    }
    s
}

pub fn write_files(r: &Results, out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("results.md"), markdown(r))?;
    std::fs::write(out.join("results.csv"), csv(r))?;
    std::fs::write(out.join("raw.csv"), raw_csv(r))
}

#[cfg(test)]
mod tests {
    use super::{Meta, Results, Sample, Target, median, summarize};
    use crate::daemon::Lib;
    use crate::plan::{Better, Row};

    #[test]
    fn rounds_ours_ahead_follow_the_better_direction() {
        let row = |key: &str, better| Row {
            key: key.into(),
            label: key.into(),
            unit: "x",
            better,
            has_tmpfs: false,
            has_cpu: false,
            bypass: false,
        };
        let s = |round, lib, key: &str, value| Sample {
            round,
            target: Target::Lib(lib),
            key: key.into(),
            value,
            ops: 1,
            cpu_us_per_op: None,
        };
        use Lib::{Libfuse as L, Ours as O};
        let samples = vec![
            s(0, L, "up", 10.0),
            s(0, O, "up", 12.0),
            s(1, L, "up", 10.0),
            s(1, O, "up", 9.0),
            s(2, O, "up", 50.0), // no libfuse sample in round 2: not paired
            s(0, L, "down", 5.0),
            s(0, O, "down", 4.0),
            s(1, O, "down", 6.0),
            s(1, L, "down", 5.0),
        ];
        let r = Results {
            meta: Meta::default(),
            rows: vec![row("up", Better::Higher), row("down", Better::Lower)],
            samples,
            comparisons: Vec::new(),
        };
        let x = summarize(&r);
        assert_eq!((x[0].ours_ahead, x[0].paired, x[0].rounds), (1, 2, 3));
        assert_eq!((x[1].ours_ahead, x[1].paired), (1, 2));
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }
}
