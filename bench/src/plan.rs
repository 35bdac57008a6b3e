//! What a round runs: daemon variants, the client workloads under each, and the table's rows.
//!
//! Two suites: the classic one (a passthrough_ll-style program whose every request reaches the
//! daemon, on Debian's libfuse and ours) and the passthrough one (a program that opens files in
//! FUSE passthrough mode, on libfuse 3.17+ and ours). The io_uring set adds, given a program
//! built against a libfuse with io_uring (libfuse 3.18.3's passthrough_ll), that program on its
//! libfuse and on ours, each over /dev/fuse and over io_uring.
//!
//! Every variant says its transport ([`Transport`]): the daemons get it explicitly, and the run
//! checks it in `/proc/PID/fdinfo` (io_uring completions where rings are meant, no ring where
//! they are not), since ours takes io_uring by default where the kernel offers it.

/// A client workload (see [`crate::load`] for what each one does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Load {
    /// `stat(2)` on a set of files, N threads.
    Stat { threads: usize },
    /// Create a file, close it, unlink it: one thread.
    CreateUnlink,
    /// Overwrite a file from start to end in 1 MiB `write(2)`s.
    SeqWrite,
    /// Read a file from start to end in 1 MiB `read(2)`s.
    SeqRead,
    /// 4 KiB `pread(2)`s at random aligned offsets, N threads.
    RandRead { threads: usize },
    /// `open(2)` a file read-only and `close(2)` it: one thread. Under passthrough every open
    /// registers a backing file and every release unregisters it.
    OpenClose,
}

impl Load {
    pub fn key(self) -> String {
        match self {
            Load::Stat { threads } => format!("stat-{threads}t"),
            Load::CreateUnlink => "create-unlink".into(),
            Load::SeqWrite => "seq-write-1m".into(),
            Load::SeqRead => "seq-read-1m".into(),
            Load::RandRead { threads } => format!("rand-read-4k-{threads}t"),
            Load::OpenClose => "open-close".into(),
        }
    }

    pub fn label(self) -> String {
        let t = |n: usize| if n == 1 { "1 thread".to_string() } else { format!("{n} threads") };
        match self {
            Load::Stat { threads } => format!("stat storm, {}", t(threads)),
            Load::CreateUnlink => "create+unlink".into(),
            Load::SeqWrite => "sequential write, 1 MiB blocks".into(),
            Load::SeqRead => "sequential read, 1 MiB blocks".into(),
            Load::RandRead { threads } => format!("random 4K read, {}", t(threads)),
            Load::OpenClose => "open+close".into(),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Load::SeqWrite | Load::SeqRead => "MiB/s",
            _ => "ops/s",
        }
    }

    /// What one "op" is when CPU time is divided by the op count.
    pub fn op(self) -> &'static str {
        match self {
            Load::Stat { .. } => "stat",
            Load::CreateUnlink => "create+close+unlink",
            Load::SeqWrite | Load::SeqRead => "1 MiB block",
            Load::RandRead { .. } => "4K read",
            Load::OpenClose => "open+close",
        }
    }
}

/// Which program a variant runs, and so which libfuse it is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `--program` (default Debian's passthrough_ll), on Debian's libfuse and ours.
    Classic,
    /// `--pt-program` (scripts/bench.sh: c-examples/mirror_pt.c built against libfuse 3.18.3's
    /// headers), on `--pt-libfuse-dir`'s libfuse and ours. Reads and writes bypass the daemon.
    Passthrough,
    /// `--uring-program` (scripts/bench.sh: libfuse 3.18.3's passthrough_ll, built with its
    /// io_uring support), on `--uring-libfuse-dir`'s libfuse and ours, with the classic
    /// program's arguments. Its libfuse takes `-o io_uring` too.
    Uring,
}

impl Program {
    pub const ALL: [Program; 3] = [Program::Classic, Program::Passthrough, Program::Uring];

    /// The libfuse this program is compared on has io_uring (and takes its options).
    pub fn libfuse_has_uring(self) -> bool {
        self == Program::Uring
    }
}

/// How a variant's daemons talk to the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `/dev/fuse`: the daemons get `FUSE_URING_ENABLE=0` (ours would otherwise take io_uring
    /// by default in the multithreaded loop while the kernel offers it), and must have no ring.
    DevFuse,
    /// `-o io_uring` (for a libfuse without io_uring, Debian's 3.14, the option is left out
    /// and that side runs on /dev/fuse): rings must have carried requests where meant.
    IoUring,
}

/// One way of starting the daemon: extra arguments put before the program's own.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Empty for the default (multithreaded) variant; else shown after the workload's label.
    pub name: &'static str,
    pub program: Program,
    pub extra_args: &'static [&'static str],
    pub loads: Vec<Load>,
    /// Gives the mount and unmount latency and the daemon's RSS (the classic suite's first).
    pub lifecycle: bool,
    pub transport: Transport,
}

impl Variant {
    /// Whether `lib`'s daemon must show io_uring completions (else it must have no ring).
    pub fn wants_rings(&self, ours: bool) -> bool {
        self.transport == Transport::IoUring && (ours || self.program.libfuse_has_uring())
    }
}

/// The variant sets `--set` chooses from for the classic suite.
pub const SETS: [&str; 3] = ["default", "splice", "io_uring"];

/// Check a `--set` name.
pub fn check_set(name: &str) -> Result<(), String> {
    if SETS.contains(&name) {
        Ok(())
    } else {
        Err(format!("unknown variant set `{name}` (known: {})", SETS.join(", ")))
    }
}

/// For a program that answers reads with file-descriptor buffers and asks for
/// FUSE_CAP_SPLICE_WRITE unless given `--nosplice` (libfuse's passthrough_hp): the same
/// workloads with replies spliced and copied.
fn splice_variants() -> Vec<Variant> {
    use Load::*;
    let loads = vec![SeqRead, RandRead { threads: 8 }];
    vec![
        Variant {
            name: "splice",
            program: Program::Classic,
            extra_args: &[],
            loads: loads.clone(),
            lifecycle: true,
            transport: Transport::DevFuse,
        },
        Variant {
            name: "copy",
            program: Program::Classic,
            extra_args: &["--nosplice"],
            loads,
            lifecycle: false,
            transport: Transport::DevFuse,
        },
    ]
}

/// Which suites a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suites {
    pub classic: bool,
    pub passthrough: bool,
    /// The io_uring set's libfuse-with-io_uring program (`--uring-program`).
    pub uring: bool,
}

impl Suites {
    pub const ALL: Suites = Suites { classic: true, passthrough: true, uring: false };
}

/// The io_uring set's workloads.
fn uring_loads() -> Vec<Load> {
    use Load::*;
    vec![
        Stat { threads: 1 },
        Stat { threads: 8 },
        CreateUnlink,
        SeqWrite,
        SeqRead,
        RandRead { threads: 1 },
        RandRead { threads: 8 },
    ]
}

/// FUSE-over-io_uring: every workload with ours over /dev/fuse and over io_uring (`-o io_uring`,
/// default queue depth). Debian's libfuse has no io_uring and refuses the option: it runs
/// both variants over /dev/fuse (see [`args_for`]), so its column is a second /dev/fuse sample.
fn uring_variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "/dev/fuse",
            program: Program::Classic,
            extra_args: &[],
            loads: uring_loads(),
            lifecycle: true,
            transport: Transport::DevFuse,
        },
        Variant {
            name: "io_uring",
            program: Program::Classic,
            extra_args: &["-o", "io_uring"],
            loads: uring_loads(),
            lifecycle: false,
            transport: Transport::IoUring,
        },
    ]
}

/// The same workloads with libfuse's own io_uring: the `--uring-program` binary on its libfuse
/// and on ours, both over /dev/fuse and both over `-o io_uring`.
fn uring_libfuse_variants() -> Vec<Variant> {
    vec![
        Variant {
            name: "3.18.3 /dev/fuse",
            program: Program::Uring,
            extra_args: &[],
            loads: uring_loads(),
            lifecycle: false,
            transport: Transport::DevFuse,
        },
        Variant {
            name: "3.18.3 io_uring",
            program: Program::Uring,
            extra_args: &["-o", "io_uring"],
            loads: uring_loads(),
            lifecycle: false,
            transport: Transport::IoUring,
        },
    ]
}

/// The arguments a variant adds for one library: a libfuse without io_uring gets no io_uring
/// options (Debian's 3.14 does not know them and would refuse to start).
pub fn args_for(v: &Variant, ours: bool) -> Vec<&'static str> {
    let takes_uring = ours || v.program.libfuse_has_uring();
    let mut out = Vec::new();
    let mut it = v.extra_args.iter().peekable();
    while let Some(&a) = it.next() {
        if !takes_uring && a == "-o" && it.peek().is_some_and(|o| o.starts_with("io_uring")) {
            it.next();
            continue;
        }
        out.push(a);
    }
    out
}

/// The variants a round runs, in order; `set` chooses the classic suite's (see [`SETS`]).
pub fn variants(suites: Suites, set: &str) -> Vec<Variant> {
    let mut v = match (suites.classic, set) {
        (false, _) => Vec::new(),
        (true, "splice") => splice_variants(),
        (true, "io_uring") => uring_variants(),
        (true, _) => classic_variants(),
    };
    if suites.uring && set == "io_uring" {
        v.extend(uring_libfuse_variants());
    }
    if suites.passthrough {
        use Load::*;
        v.push(Variant {
            name: "passthrough",
            program: Program::Passthrough,
            extra_args: &[],
            loads: vec![
                SeqRead,
                SeqWrite,
                RandRead { threads: 2 },
                RandRead { threads: 8 },
                OpenClose,
            ],
            lifecycle: false,
            transport: Transport::DevFuse,
        });
    }
    v
}

fn classic_variants() -> Vec<Variant> {
    use Load::*;
    vec![
        Variant {
            name: "",
            program: Program::Classic,
            lifecycle: true,
            transport: Transport::DevFuse,
            extra_args: &[],
            loads: vec![
                Stat { threads: 1 },
                Stat { threads: 2 },
                Stat { threads: 8 },
                CreateUnlink,
                SeqWrite,
                SeqRead,
                RandRead { threads: 2 },
                RandRead { threads: 8 },
            ],
        },
        Variant {
            name: "-s",
            program: Program::Classic,
            lifecycle: false,
            transport: Transport::DevFuse,
            extra_args: &["-s"],
            loads: vec![
                Stat { threads: 8 },
                CreateUnlink,
                SeqRead,
                RandRead { threads: 2 },
                RandRead { threads: 8 },
            ],
        },
        Variant {
            name: "clone_fd",
            program: Program::Classic,
            lifecycle: false,
            transport: Transport::DevFuse,
            extra_args: &["-o", "clone_fd"],
            loads: vec![Stat { threads: 8 }, RandRead { threads: 2 }, RandRead { threads: 8 }],
        },
    ]
}

/// A ratio between two rows' medians, printed under the table: `num` over `den`, each a row key
/// and whose numbers (`true`: ours, `false`: libfuse).
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub label: String,
    pub num: (String, bool),
    pub den: (String, bool),
}

/// The cross-row ratios of set `name`.
pub fn comparisons(name: &str) -> Vec<Comparison> {
    let c = |label: &str, num: (&str, bool), den: (&str, bool)| Comparison {
        label: label.to_string(),
        num: (num.0.to_string(), num.1),
        den: (den.0.to_string(), den.1),
    };
    match name {
        "default" => vec![
            c(
                "sequential read: ours multithreaded / libfuse single-threaded (-s)",
                ("seq-read-1m", true),
                ("seq-read-1m/-s", false),
            ),
            c(
                "create+unlink: ours multithreaded / libfuse single-threaded (-s)",
                ("create-unlink", true),
                ("create-unlink/-s", false),
            ),
        ],
        "splice" => vec![
            c(
                "sequential read: ours spliced / ours copied (--nosplice)",
                ("seq-read-1m/splice", true),
                ("seq-read-1m/copy", true),
            ),
            c(
                "random 4K read, 8 threads: ours spliced / ours copied",
                ("rand-read-4k-8t/splice", true),
                ("rand-read-4k-8t/copy", true),
            ),
            c(
                "sequential read: libfuse spliced / libfuse copied (reference)",
                ("seq-read-1m/splice", false),
                ("seq-read-1m/copy", false),
            ),
        ],
        "io_uring" => {
            let loads = [
                ("stat storm, 1 thread", "stat-1t"),
                ("stat storm, 8 threads", "stat-8t"),
                ("create+unlink", "create-unlink"),
                ("sequential write", "seq-write-1m"),
                ("sequential read", "seq-read-1m"),
                ("random 4K read, 1 thread", "rand-read-4k-1t"),
                ("random 4K read, 8 threads", "rand-read-4k-8t"),
            ];
            // Ours io_uring / ours /dev/fuse (Debian's passthrough_ll); then, with libfuse
            // 3.18.3's passthrough_ll, libfuse's io_uring / its /dev/fuse, ours the same, and
            // ours io_uring / libfuse io_uring.
            let sets: [(&str, &str, &str, bool, bool); 3] = [
                ("ours io_uring / ours /dev/fuse", "io_uring", "/dev/fuse", true, true),
                (
                    "3.18.3's passthrough_ll: libfuse io_uring / libfuse /dev/fuse",
                    "3.18.3 io_uring",
                    "3.18.3 /dev/fuse",
                    false,
                    false,
                ),
                (
                    "3.18.3's passthrough_ll: ours io_uring / ours /dev/fuse",
                    "3.18.3 io_uring",
                    "3.18.3 /dev/fuse",
                    true,
                    true,
                ),
            ];
            let mut out = Vec::new();
            for (what, num, den, num_ours, den_ours) in sets {
                for (label, key) in loads {
                    out.push(Comparison {
                        label: format!("{label}: {what}"),
                        num: (format!("{key}/{num}"), num_ours),
                        den: (format!("{key}/{den}"), den_ours),
                    });
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// Which way a row's numbers are better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub unit: &'static str,
    pub better: Better,
    /// The tmpfs source gives a number for this row.
    pub has_tmpfs: bool,
    /// The row has a daemon CPU time per op.
    pub has_cpu: bool,
    /// The workload's data requests bypass the daemon (passthrough reads and writes): its CPU
    /// time per op is about zero, which is the point, and may round to zero ticks.
    pub bypass: bool,
}

pub const MOUNT_KEY: &str = "mount-latency";
pub const UNMOUNT_KEY: &str = "unmount-latency";
pub const RSS_KEY: &str = "daemon-rss";

pub fn row_key(variant: &Variant, load: Load) -> String {
    if variant.name.is_empty() { load.key() } else { format!("{}/{}", load.key(), variant.name) }
}

/// `--only`: keep the loads whose row key is one of `keys` (all of them when `keys` is empty),
/// and the variants that still have one. A key that names no row is an error.
pub fn keep_only(variants: Vec<Variant>, keys: &[String]) -> Result<Vec<Variant>, String> {
    if keys.is_empty() {
        return Ok(variants);
    }
    for k in keys {
        if !variants.iter().any(|v| v.loads.iter().any(|&l| &row_key(v, l) == k)) {
            let known: Vec<String> =
                variants.iter().flat_map(|v| v.loads.iter().map(|&l| row_key(v, l))).collect();
            return Err(format!("--only {k}: no such row (known: {})", known.join(", ")));
        }
    }
    Ok(variants
        .into_iter()
        .filter_map(|mut v| {
            v.loads = v.loads.iter().copied().filter(|&l| keys.contains(&row_key(&v, l))).collect();
            (!v.loads.is_empty()).then_some(v)
        })
        .collect())
}

/// Every row, in table order.
pub fn rows(variants: &[Variant]) -> Vec<Row> {
    let mut rows = Vec::new();
    for v in variants {
        for &l in &v.loads {
            let label =
                if v.name.is_empty() { l.label() } else { format!("{} ({})", l.label(), v.name) };
            rows.push(Row {
                key: row_key(v, l),
                label,
                unit: l.unit(),
                better: Better::Higher,
                has_tmpfs: true,
                has_cpu: true,
                bypass: v.program == Program::Passthrough && l != Load::OpenClose,
            });
        }
    }
    let fixed = |key: &str, label: &str, unit| Row {
        key: key.into(),
        label: label.into(),
        unit,
        better: Better::Lower,
        has_tmpfs: false,
        has_cpu: false,
        bypass: false,
    };
    if !variants.iter().any(|v| v.lifecycle) {
        return rows;
    }
    rows.push(fixed(MOUNT_KEY, "mount latency (exec to mounted)", "ms"));
    rows.push(fixed(UNMOUNT_KEY, "unmount latency (fusermount3 -u to exit)", "ms"));
    rows.push(fixed(RSS_KEY, "daemon peak RSS after the load (VmHWM)", "KiB"));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keeps_the_named_rows() {
        let all = variants(Suites::ALL, "default");
        let keys = |v: &[Variant]| -> Vec<String> {
            v.iter().flat_map(|x| x.loads.iter().map(|&l| row_key(x, l))).collect()
        };
        assert_eq!(keys(&keep_only(all.clone(), &[]).unwrap()), keys(&all));
        let want = vec!["stat-8t".to_string(), "seq-read-1m/passthrough".to_string()];
        let kept = keep_only(all.clone(), &want).unwrap();
        assert_eq!(keys(&kept), want);
        assert_eq!(kept.len(), 2, "only the variants that keep a row are mounted");
        assert!(keep_only(all, &["stat-9t".to_string()]).unwrap_err().contains("stat-8t"));
    }

    #[test]
    fn libfuse_runs_io_uring_variants_without_the_option() {
        let v = uring_variants();
        let uring = v.iter().find(|v| v.name == "io_uring").expect("io_uring variant");
        assert_eq!(args_for(uring, true), ["-o", "io_uring"]);
        assert!(args_for(uring, false).is_empty());
        let other = Variant {
            name: "x",
            program: Program::Classic,
            extra_args: &["-o", "clone_fd", "-o", "io_uring_q_depth=4", "-s"],
            loads: Vec::new(),
            lifecycle: false,
            transport: Transport::IoUring,
        };
        assert_eq!(args_for(&other, false), ["-o", "clone_fd", "-s"]);
        assert_eq!(args_for(&other, true).len(), 5);
        // Debian's libfuse runs on /dev/fuse: only ours must show rings.
        assert!(uring.wants_rings(true) && !uring.wants_rings(false));
        let dev = v.iter().find(|v| v.name == "/dev/fuse").expect("/dev/fuse variant");
        assert_eq!(dev.transport, Transport::DevFuse);
        assert!(!dev.wants_rings(true) && !dev.wants_rings(false));
    }

    #[test]
    fn libfuse_with_io_uring_gets_the_option_and_must_use_the_rings() {
        let without =
            variants(Suites { classic: true, passthrough: false, uring: false }, "io_uring");
        assert!(without.iter().all(|v| v.program == Program::Classic));
        let v = variants(Suites { classic: true, passthrough: false, uring: true }, "io_uring");
        let lf: Vec<&Variant> = v.iter().filter(|v| v.program == Program::Uring).collect();
        assert_eq!(lf.len(), 2, "{v:?}");
        let ring = lf.iter().find(|v| v.transport == Transport::IoUring).expect("io_uring");
        assert_eq!(args_for(ring, false), ["-o", "io_uring"], "libfuse 3.18.3 takes the option");
        assert_eq!(args_for(ring, true), ["-o", "io_uring"]);
        assert!(ring.wants_rings(false) && ring.wants_rings(true));
        let dev = lf.iter().find(|v| v.transport == Transport::DevFuse).expect("/dev/fuse");
        assert!(args_for(dev, false).is_empty() && !dev.wants_rings(false));
        // Only the io_uring set has them.
        let default = variants(Suites { classic: true, passthrough: true, uring: true }, "default");
        assert!(default.iter().all(|v| v.program != Program::Uring));
        assert!(default.iter().all(|v| v.transport == Transport::DevFuse));
        // Every io_uring comparison names two rows the full set produces, and the classic set
        // alone keeps its own seven.
        let keys: Vec<String> = rows(&v).into_iter().map(|r| r.key).collect();
        let all = comparisons("io_uring");
        assert_eq!(all.len(), 21);
        for c in &all {
            assert!(keys.contains(&c.num.0) && keys.contains(&c.den.0), "{c:?}");
        }
        let classic: Vec<String> = rows(&without).into_iter().map(|r| r.key).collect();
        let kept = all.iter().filter(|c| classic.contains(&c.num.0) && classic.contains(&c.den.0));
        assert_eq!(kept.count(), 7);
    }
}
