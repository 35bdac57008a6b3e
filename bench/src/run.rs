//! The rounds. Each round runs the workloads on the tmpfs source, then, for each daemon
//! variant, mounts the program on both libraries at once and runs every workload on one and
//! then the other. Which library goes first alternates from step to step and round to round,
//! so drift on a shared machine hits both alike.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cli::Config;
use crate::daemon::{Daemon, Lib};
use crate::load::{self, Outcome};
use crate::plan::Transport;
use crate::plan::{self, Load, MOUNT_KEY, Program, RSS_KEY, Suites, UNMOUNT_KEY, Variant};
use crate::report::{self, Meta, ProgramMeta, Results, Sample, Target};
use crate::workdir::{Workdir, stopped};

/// How long past its duration a workload may run before the daemon is killed.
const GRACE: Duration = Duration::from_secs(60);
/// Extra fresh starts (and unmounts) per library and round for the latency rows.
const LIFECYCLE_EXTRA: usize = 2;

pub fn run(cfg: &Config) -> Result<Results, String> {
    let variants = plan::variants(
        Suites {
            classic: cfg.classic,
            passthrough: cfg.passthrough.is_some(),
            uring: cfg.uring.is_some(),
        },
        &cfg.set,
    );
    let variants = plan::keep_only(variants, &cfg.only)?;
    let wd = Workdir::create(&cfg.work_parent, cfg.file_bytes)?;
    let mut samples = Vec::new();
    let mut programs: Vec<ProgramMeta> = Vec::new();
    for p in Program::ALL {
        if variants.iter().any(|v| v.program == p) {
            let (program, args, _) = program_of(cfg, p);
            programs.push(ProgramMeta {
                command: std::iter::once(
                    program.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                )
                .chain(args.iter().cloned())
                .collect::<Vec<_>>()
                .join(" "),
                ..ProgramMeta::default()
            });
        }
    }
    let mut mapped: Vec<(Program, Lib, String)> = Vec::new();
    for round in 0..cfg.rounds {
        eprintln!("ferrofuse-bench: round {}/{}", round + 1, cfg.rounds);
        tmpfs_round(cfg, &variants, &wd, round, &mut samples)?;
        let mut order = Order { round, slot: 0 };
        for v in &variants {
            variant_round(cfg, v, &mut order, &wd, &mut samples, &mut mapped)?;
        }
    }
    let mut i = 0;
    for p in Program::ALL {
        if !variants.iter().any(|v| v.program == p) {
            continue;
        }
        for (q, lib, m) in &mapped {
            if *q == p {
                match lib {
                    Lib::Libfuse => programs[i].libfuse = m.clone(),
                    Lib::Ours => programs[i].ours = m.clone(),
                }
            }
        }
        i += 1;
    }
    let meta = Meta {
        date: utc_now(),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
        rounds: cfg.rounds,
        duration_s: cfg.duration.as_secs_f64(),
        file_mib: cfg.file_bytes >> 20,
        programs,
        quick: cfg.quick,
    };
    drop(wd);
    let rows = plan::rows(&variants);
    // Only the comparisons between rows this run has (the 3.18.3 ones need --uring-program).
    let mut comparisons = plan::comparisons(&cfg.set);
    comparisons.retain(|c| [&c.num.0, &c.den.0].iter().all(|k| rows.iter().any(|r| &r.key == *k)));
    Ok(Results { meta, rows, samples, comparisons })
}

/// The physical limit: each distinct workload once on the tmpfs source, no FUSE.
fn tmpfs_round(
    cfg: &Config,
    variants: &[Variant],
    wd: &Workdir,
    round: usize,
    samples: &mut Vec<Sample>,
) -> Result<(), String> {
    let mut done: Vec<(Load, f64, u64)> = Vec::new();
    for v in variants {
        for &l in &v.loads {
            let (rate, ops) = match done.iter().find(|d| d.0 == l) {
                Some(d) => (d.1, d.2),
                None => {
                    let o =
                        load::run_guarded(l, &wd.src, cfg.duration, cfg.file_bytes, GRACE, || {})?;
                    done.push((l, o.rate(), o.ops));
                    (o.rate(), o.ops)
                }
            };
            samples.push(Sample {
                round,
                target: Target::Tmpfs,
                key: plan::row_key(v, l),
                value: rate,
                ops,
                cpu_us_per_op: None,
            });
        }
    }
    Ok(())
}

/// Which library goes first at each step of a round: the order flips from one step to the
/// next, and for the same step from one round to the next.
struct Order {
    round: usize,
    slot: usize,
}

impl Order {
    fn next(&mut self) -> [Lib; 2] {
        let flip = (self.round + self.slot) % 2 == 1;
        self.slot += 1;
        if flip { [Lib::Ours, Lib::Libfuse] } else { [Lib::Libfuse, Lib::Ours] }
    }
}

/// The program, its arguments and the reference library's directory (None: the system's) of
/// a suite.
fn program_of(cfg: &Config, p: Program) -> (&std::path::Path, &[String], Option<&std::path::Path>) {
    match (p, &cfg.passthrough, &cfg.uring) {
        (Program::Passthrough, Some(pt), _) => (&pt.program, &pt.args, Some(&pt.libfuse_dir)),
        (Program::Uring, _, Some(u)) => (&u.program, &cfg.args, Some(&u.libfuse_dir)),
        _ => (&cfg.program, &cfg.args, None),
    }
}

/// Passthrough was in effect for the whole run of a daemon: its exit line (mirror_pt's
/// counters) says no READ or WRITE reached it and no backing file failed to register.
pub fn check_passthrough_log(lib: Lib, log: &str) -> Result<(), String> {
    let line =
        log.lines().rev().find(|l| l.contains(" reads=") && l.contains(" writes=")).ok_or_else(
            || format!("the passthrough daemon on {} printed no counters", lib.name()),
        )?;
    let count = |name: &str| -> Option<u64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
    };
    let zero = |name: &str| count(name).is_none_or(|n| n == 0);
    if count("reads") == Some(0) && count("writes") == Some(0) && zero("backing_fail") {
        Ok(())
    } else {
        Err(format!(
            "passthrough was not in effect on {}: `{line}` (a READ or WRITE reached the daemon, \
             or a backing file failed to register): refusing to report",
            lib.name()
        ))
    }
}

/// Mount the program with variant `v` on both libraries (each on its own mountpoint), run
/// each workload on one then the other, so a pair is measured seconds apart; unmount both.
/// The lifecycle variant also records mount and unmount latency and the daemons' peak RSS.
fn variant_round(
    cfg: &Config,
    v: &Variant,
    order: &mut Order,
    wd: &Workdir,
    samples: &mut Vec<Sample>,
    mapped: &mut Vec<(Program, Lib, String)>,
) -> Result<(), String> {
    let first = v.lifecycle;
    let (program, args, libfuse_dir) = program_of(cfg, v.program);
    let round = order.round;
    let sample = |lib: Lib, key: String, value: f64, ops: u64, cpu: Option<f64>| Sample {
        round,
        target: Target::Lib(lib),
        key,
        value,
        ops,
        cpu_us_per_op: cpu,
    };
    let start = |lib: Lib| {
        let log = wd.root.join(format!("daemon-{}.log", lib.name()));
        Daemon::start(
            program,
            &plan::args_for(v, lib == Lib::Ours),
            args,
            v.transport == Transport::DevFuse,
            lib,
            &cfg.lib_dir,
            libfuse_dir,
            &wd.src,
            wd.mnt(lib),
            &log,
        )
    };
    // Dropping these (on any error) unmounts and kills.
    let mut daemons: [Option<Daemon>; 2] = [None, None];
    // Mount and unmount latencies are a few ms and one start is easily disturbed (a sample
    // of 49 ms among 2 ms ones): the lifecycle variant starts and unmounts each library
    // LIFECYCLE_EXTRA more times, fresh and unloaded, the two libraries taking turns, and each
    // round reports the medians (with the loaded daemon's start and unmount below).
    let mut lifecycle: [(Vec<f64>, Vec<f64>); 2] = Default::default();
    if first {
        for _ in 0..LIFECYCLE_EXTRA {
            for lib in order.next() {
                if stopped() {
                    return Err("interrupted".into());
                }
                let d = start(lib)?;
                let (mounts, unmounts) = &mut lifecycle[lib as usize];
                mounts.push(d.mount_latency.as_secs_f64() * 1e3);
                unmounts.push(d.unmount()?.as_secs_f64() * 1e3);
            }
        }
    }
    for lib in order.next() {
        if stopped() {
            return Err("interrupted".into());
        }
        let d = start(lib)?;
        let names = d.mapped.iter().map(|p| p.display().to_string()).collect::<Vec<_>>();
        mapped.retain(|(p, l, _)| (*p, *l) != (v.program, lib));
        mapped.push((v.program, lib, names.join(", ")));
        if first {
            let mounts = &mut lifecycle[lib as usize].0;
            mounts.push(d.mount_latency.as_secs_f64() * 1e3);
            let ms = report::median(std::mem::take(mounts)).unwrap_or(0.0);
            samples.push(sample(lib, MOUNT_KEY.into(), ms, 0, None));
        }
        daemons[lib as usize] = Some(d);
    }
    for &l in &v.loads {
        for lib in order.next() {
            let d = daemons[lib as usize].as_ref().expect("started above");
            let cpu0 = d.cpu_us()?;
            let o: Outcome =
                load::run_guarded(l, wd.mnt(lib), cfg.duration, cfg.file_bytes, GRACE, d.killer())?;
            let cpu = (d.cpu_us()? - cpu0) / o.ops.max(1) as f64;
            samples.push(sample(lib, plan::row_key(v, l), o.rate(), o.ops, Some(cpu)));
        }
    }
    // The transport each daemon was meant to use is the one it used.
    for lib in [Lib::Libfuse, Lib::Ours] {
        let d = daemons[lib as usize].as_ref().expect("started above");
        check_transport(v, lib, d.rings()?)?;
    }
    for lib in order.next() {
        let d = daemons[lib as usize].take().expect("started above");
        if first {
            samples.push(sample(lib, RSS_KEY.into(), d.peak_rss_kib()? as f64, 0, None));
        }
        let took = d.unmount()?;
        if first {
            let unmounts = &mut lifecycle[lib as usize].1;
            unmounts.push(took.as_secs_f64() * 1e3);
            let ms = report::median(std::mem::take(unmounts)).unwrap_or(0.0);
            samples.push(sample(lib, UNMOUNT_KEY.into(), ms, 0, None));
        }
        if v.program == Program::Passthrough {
            let log = wd.root.join(format!("daemon-{}.log", lib.name()));
            let text =
                std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
            check_passthrough_log(lib, &text)?;
        }
    }
    Ok(())
}

/// A daemon's rings (`rings.0`: how many, `rings.1`: their completions) match what variant `v`
/// means for `lib`: completions where io_uring is meant (at least one per workload op would be
/// too strict for cached lookups; 100 is far above what INIT-time setup alone produces, which
/// is none), no ring at all where it is not.
pub fn check_transport(v: &Variant, lib: Lib, rings: (usize, u64)) -> Result<(), String> {
    let (n, cqes) = rings;
    let what = if v.name.is_empty() { "the default variant" } else { v.name };
    if v.wants_rings(lib == Lib::Ours) {
        if cqes >= 100 {
            return Ok(());
        }
        Err(format!(
            "{what}: the daemon on {} has {n} io_uring(s) with {cqes} completions: it did not              serve over io_uring (is /sys/module/fuse/parameters/enable_uring Y?); refusing              to report",
            lib.name()
        ))
    } else if n == 0 {
        Ok(())
    } else {
        Err(format!(
            "{what}: the daemon on {} has {n} io_uring(s) ({cqes} completions) where /dev/fuse              was meant; refusing to report",
            lib.name()
        ))
    }
}

/// "YYYY-MM-DD HH:MM UTC" without a date crate.
fn utc_now() -> String {
    utc(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

fn utc(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let (h, mi) = ((secs % 86400) / 3600, (secs % 3600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

#[cfg(test)]
mod tests {
    use crate::daemon::Lib;

    #[test]
    fn passthrough_counters() {
        let ok = "mirror_pt: passthrough=1 opens=9 reads=0 writes=0 backing_open=9 \
                  backing_close=9 backing_fail=0\n";
        assert_eq!(super::check_passthrough_log(Lib::Ours, ok), Ok(()));
        let read = ok.replace("reads=0", "reads=3");
        assert!(super::check_passthrough_log(Lib::Ours, &read).is_err());
        let write = ok.replace("writes=0", "writes=1");
        assert!(super::check_passthrough_log(Lib::Libfuse, &write).is_err());
        let fail = ok.replace("backing_fail=0", "backing_fail=2");
        assert!(super::check_passthrough_log(Lib::Ours, &fail).is_err());
        assert!(super::check_passthrough_log(Lib::Ours, "fuse: something else\n").is_err());
    }

    #[test]
    fn transports_are_checked_both_ways() {
        use crate::plan::{Suites, variants};
        let v = variants(Suites { classic: true, passthrough: false, uring: true }, "io_uring");
        let by = |name: &str| v.iter().find(|x| x.name == name).expect(name);
        let check = super::check_transport;
        // Ours over io_uring: rings with completions, or refused.
        assert!(check(by("io_uring"), Lib::Ours, (2, 5000)).is_ok());
        assert!(check(by("io_uring"), Lib::Ours, (2, 3)).is_err());
        assert!(check(by("io_uring"), Lib::Ours, (0, 0)).is_err());
        // Debian's libfuse in the same variant runs on /dev/fuse: no ring.
        assert!(check(by("io_uring"), Lib::Libfuse, (0, 0)).is_ok());
        assert!(check(by("io_uring"), Lib::Libfuse, (1, 0)).is_err());
        // libfuse 3.18.3 over io_uring must use its rings too.
        assert!(check(by("3.18.3 io_uring"), Lib::Libfuse, (2, 900)).is_ok());
        assert!(check(by("3.18.3 io_uring"), Lib::Libfuse, (0, 0)).is_err());
        // /dev/fuse variants: any ring is refused, ours or libfuse's.
        for name in ["/dev/fuse", "3.18.3 /dev/fuse"] {
            for lib in [Lib::Ours, Lib::Libfuse] {
                assert!(check(by(name), lib, (0, 0)).is_ok());
                assert!(check(by(name), lib, (2, 0)).is_err(), "{name} {lib:?}");
            }
        }
    }

    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(951_782_400 + 3600 + 120), "2000-02-29 01:02 UTC");
        assert_eq!(super::utc(1_786_579_200), "2026-08-13 00:00 UTC");
    }
}
