//! The command line: which program, which of our libraries, how long, where to write.

use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "\
usage: ferrofuse-bench --program PATH --lib-dir DIR [--quick] [--rounds N] [--duration SECS]
                       [--file-mib N] [--out DIR] [--work-parent DIR]
                       [--pt-program PATH --pt-libfuse-dir DIR [--pt-only]]
                       [--uring-program PATH --uring-libfuse-dir DIR] [--only KEY]...
                       [-- ARGS...]

Runs PATH once per round on the system's libfuse and once on ours (LD_LIBRARY_PATH=DIR),
alternating which goes first, and the same client workloads on the tmpfs source itself.
ARGS are the program's arguments; {src} and {mnt} stand for the tmpfs source directory and the
mountpoint. The default is passthrough_ll's: -f -o source={src},cache=never {mnt}
The program must run in the foreground and show {src} at {mnt}.

  --quick          one round, 1 s per workload, 64 MiB files (what CI runs)
  --rounds N       rounds (default 5)
  --duration SECS  seconds per throughput workload (default 2)
  --file-mib N     size of the sequential/random-read file (default 256)
  --out DIR        also write DIR/results.md, DIR/results.csv and DIR/raw.csv
  --work-parent D  where the scratch directory (tmpfs source, mountpoint) goes (default /tmp)
  --set NAME       which daemon variants to run: default (passthrough_ll: multithreaded, -s,
                   clone_fd), splice (a program taking --nosplice: spliced vs copied replies)
                   or io_uring (ours over /dev/fuse and over -o io_uring; libfuse has none
                   and runs both on /dev/fuse; the kernel's enable_uring must be Y). Every
                   /dev/fuse variant gets FUSE_URING_ENABLE=0, and each daemon's
                   /proc/PID/fdinfo must show rings with completions where io_uring is meant
                   and no ring elsewhere, or the run is refused
  --pt-program P   also the passthrough suite: P (run as `P -f -o source={src} {mnt}`) opens
                   files in FUSE passthrough mode and prints `reads=N writes=N` when it exits;
                   it runs on the libfuse in --pt-libfuse-dir (LD_LIBRARY_PATH) and on ours,
                   and a run where either daemon saw a READ or WRITE is refused
  --pt-libfuse-dir DIR  the reference libfuse3.so.4 for --pt-program (libfuse 3.17 or later)
  --pt-only        only the passthrough suite
  --uring-program P  with --set io_uring: also P (built against a libfuse with io_uring:
                   libfuse 3.18.3's passthrough_ll), run with ARGS on the libfuse in
                   --uring-libfuse-dir and on ours, each over /dev/fuse and over -o io_uring
  --uring-libfuse-dir DIR  the libfuse (with io_uring) for --uring-program
  --only KEY       only the rows whose key is KEY (repeatable): a workload's key, e.g.
                   stat-8t, seq-read-1m, rand-read-4k-8t, open-close, with `/VARIANT` for a
                   variant's row (stat-8t/clone_fd, seq-read-1m/passthrough); variants left
                   without a row are not mounted (and give no mount, unmount or RSS rows)
";

/// The passthrough program's arguments.
pub const PT_ARGS: [&str; 4] = ["-f", "-o", "source={src}", "{mnt}"];

/// The passthrough suite's program and reference library.
#[derive(Clone, Debug)]
pub struct Passthrough {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// Holds the reference `libfuse3.so.4`; the daemon's `LD_LIBRARY_PATH` on the libfuse side.
    pub libfuse_dir: PathBuf,
}

/// The default arguments: Debian's passthrough_ll with no caching, so every request reaches
/// the daemon.
pub const DEFAULT_ARGS: [&str; 4] = ["-f", "-o", "source={src},cache=never", "{mnt}"];

/// The io_uring set's libfuse-with-io_uring program and its library.
#[derive(Clone, Debug)]
pub struct UringRef {
    pub program: PathBuf,
    /// Holds the libfuse built with io_uring; the daemon's `LD_LIBRARY_PATH` on the libfuse side.
    pub libfuse_dir: PathBuf,
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The FUSE program, run unchanged on both libraries.
    pub program: PathBuf,
    /// Its arguments, with `{src}` and `{mnt}` placeholders.
    pub args: Vec<String>,
    /// The directory holding our `libfuse3.so.3` / `libfuse3.so.4`.
    pub lib_dir: PathBuf,
    pub rounds: usize,
    /// Length of each throughput workload.
    pub duration: Duration,
    /// Size of the files the sequential and random workloads use.
    pub file_bytes: u64,
    pub out: Option<PathBuf>,
    pub work_parent: PathBuf,
    pub quick: bool,
    /// The variant set (plan::SETS).
    pub set: String,
    pub passthrough: Option<Passthrough>,
    pub uring: Option<UringRef>,
    /// Run the classic suite (`--program`); false with `--pt-only`.
    pub classic: bool,
    /// `--only`: the row keys to keep (empty: all).
    pub only: Vec<String>,
}

pub enum Parsed {
    Run(Box<Config>),
    Help,
}

pub fn parse(args: Vec<String>) -> Result<Parsed, String> {
    let mut program = None;
    let mut lib_dir = None;
    let mut quick = false;
    let mut rounds = None;
    let mut duration = None;
    let mut file_mib = None;
    let mut out = None;
    let mut work_parent = PathBuf::from("/tmp");
    let mut prog_args = None;
    let mut set = String::from("default");
    let mut pt_program = None;
    let mut pt_libfuse_dir = None;
    let mut pt_only = false;
    let mut uring_program = None;
    let mut uring_libfuse_dir = None;
    let mut only = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--quick" => quick = true,
            "--program" => program = Some(PathBuf::from(value("--program")?)),
            "--lib-dir" => lib_dir = Some(PathBuf::from(value("--lib-dir")?)),
            "--rounds" => rounds = Some(number::<usize>("--rounds", &value("--rounds")?)?),
            "--duration" => duration = Some(number::<f64>("--duration", &value("--duration")?)?),
            "--file-mib" => file_mib = Some(number::<u64>("--file-mib", &value("--file-mib")?)?),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--work-parent" => work_parent = PathBuf::from(value("--work-parent")?),
            "--set" => set = value("--set")?,
            "--pt-program" => pt_program = Some(PathBuf::from(value("--pt-program")?)),
            "--pt-libfuse-dir" => {
                pt_libfuse_dir = Some(PathBuf::from(value("--pt-libfuse-dir")?));
            }
            "--pt-only" => pt_only = true,
            "--only" => only.push(value("--only")?),
            "--uring-program" => uring_program = Some(PathBuf::from(value("--uring-program")?)),
            "--uring-libfuse-dir" => {
                uring_libfuse_dir = Some(PathBuf::from(value("--uring-libfuse-dir")?));
            }
            "--" => {
                prog_args = Some(it.by_ref().collect::<Vec<_>>());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    crate::plan::check_set(&set)?;
    let program = program.ok_or("--program is required")?;
    let lib_dir = lib_dir.ok_or("--lib-dir is required")?;
    let lib_dir =
        lib_dir.canonicalize().map_err(|e| format!("--lib-dir {}: {e}", lib_dir.display()))?;
    let program =
        program.canonicalize().map_err(|e| format!("--program {}: {e}", program.display()))?;
    let rounds = rounds.unwrap_or(if quick { 1 } else { 5 });
    let duration = duration.unwrap_or(if quick { 1.0 } else { 2.0 });
    let file_mib = file_mib.unwrap_or(if quick { 64 } else { 256 });
    if rounds == 0 || !(duration > 0.0 && duration.is_finite()) || file_mib == 0 {
        return Err("--rounds, --duration and --file-mib must be positive".into());
    }
    let args = prog_args.unwrap_or_else(|| DEFAULT_ARGS.iter().map(|s| s.to_string()).collect());
    if !args.iter().any(|a| a.contains("{mnt}")) {
        return Err("the program's arguments must contain {mnt}".into());
    }
    let canon = |what: &str, p: PathBuf| {
        p.canonicalize().map_err(|e| format!("{what} {}: {e}", p.display()))
    };
    let passthrough = match (pt_program, pt_libfuse_dir) {
        (Some(p), Some(d)) => Some(Passthrough {
            program: canon("--pt-program", p)?,
            args: PT_ARGS.iter().map(|s| s.to_string()).collect(),
            libfuse_dir: canon("--pt-libfuse-dir", d)?,
        }),
        (None, None) if pt_only => return Err("--pt-only needs --pt-program".into()),
        (None, None) => None,
        _ => return Err("--pt-program and --pt-libfuse-dir go together".into()),
    };
    if passthrough.as_ref().is_some_and(|pt| pt.libfuse_dir == lib_dir) {
        return Err("--pt-libfuse-dir is our library directory".into());
    }
    let uring = match (uring_program, uring_libfuse_dir) {
        (Some(p), Some(d)) if set == "io_uring" => Some(UringRef {
            program: canon("--uring-program", p)?,
            libfuse_dir: canon("--uring-libfuse-dir", d)?,
        }),
        (Some(_), Some(_)) => return Err("--uring-program needs --set io_uring".into()),
        (None, None) => None,
        _ => return Err("--uring-program and --uring-libfuse-dir go together".into()),
    };
    if uring.as_ref().is_some_and(|u| u.libfuse_dir == lib_dir) {
        return Err("--uring-libfuse-dir is our library directory".into());
    }
    Ok(Parsed::Run(Box::new(Config {
        program,
        args,
        lib_dir,
        rounds,
        duration: Duration::from_secs_f64(duration),
        file_bytes: file_mib << 20,
        out,
        work_parent,
        quick,
        set,
        passthrough,
        uring,
        classic: !pt_only,
        only,
    })))
}

fn number<T: std::str::FromStr>(name: &str, v: &str) -> Result<T, String> {
    v.parse().map_err(|_| format!("{name}: `{v}` is not a number"))
}
