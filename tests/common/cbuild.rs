//! Building the C programs the tests run: `pkg-config fuse3` of Debian's libfuse or of ours,
//! gcc under a deadline, and Debian's example sources built per flavour.

use super::{parallel_map, run_ok, scratch_dir, target_profile_dir};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// For one pkg-config or compiler run.
pub const BUILD_T: Duration = Duration::from_secs(180);
/// Debian 12's libfuse 3.14 example sources (package libfuse3-dev).
pub const DEBIAN_EXAMPLES: &str = "/usr/share/doc/libfuse3-dev/examples";

/// Whose `fuse3.pc` a program is compiled with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pc {
    /// Debian's libfuse3-dev (`PKG_CONFIG_PATH` unset): its headers, NEEDED `libfuse3.so.3`.
    Debian,
    /// Ours, in target/<profile>: our headers, NEEDED `libfuse3.so.4`.
    Ours,
}

/// `pkg-config --cflags --libs fuse3` of `pc`, split into arguments.
pub fn fuse3_flags(pc: Pc) -> Result<Vec<String>, String> {
    let mut cmd = Command::new("pkg-config");
    cmd.args(["--cflags", "--libs", "fuse3"]);
    match pc {
        Pc::Debian => {
            cmd.env_remove("PKG_CONFIG_PATH");
        }
        Pc::Ours => {
            let ours = target_profile_dir();
            if !ours.join("fuse3.pc").is_file() {
                return Err(format!(
                    "{}/fuse3.pc missing: run `cargo build --workspace` first",
                    ours.display()
                ));
            }
            cmd.env("PKG_CONFIG_PATH", ours);
        }
    }
    let ran = run_ok(&mut cmd, BUILD_T).map_err(|e| {
        format!("{e}\n(Debian's fuse3.pc comes with libfuse3-dev: apt-get install libfuse3-dev pkg-config)")
    })?;
    Ok(ran.stdout.split_whitespace().map(str::to_string).collect())
}

/// `gcc PRE... SRC -o OUT POST...` under [`BUILD_T`]; returns OUT.
pub fn gcc<A: AsRef<OsStr>, B: AsRef<OsStr>>(
    pre: impl IntoIterator<Item = A>,
    src: &Path,
    out: &Path,
    post: impl IntoIterator<Item = B>,
) -> Result<PathBuf, String> {
    let mut cmd = Command::new("gcc");
    cmd.args(pre).arg(src).arg("-o").arg(out).args(post);
    run_ok(&mut cmd, BUILD_T)?;
    Ok(out.to_path_buf())
}

/// The warnings our own C programs are compiled with.
pub const STRICT: [&str; 3] = ["-Wall", "-Wextra", "-Werror"];

/// `gcc PRE... SRC -o OUT` and `pc`'s fuse3 flags; returns OUT.
pub fn build_c(pc: Pc, pre: &[&str], src: &Path, out: &Path) -> Result<PathBuf, String> {
    gcc(pre, src, out, fuse3_flags(pc)?)
}

/// DT_NEEDED entries of an ELF file.
pub fn needed_libs(file: &Path) -> Result<Vec<String>, String> {
    let ran = run_ok(Command::new("readelf").arg("-d").arg(file), BUILD_T)?;
    Ok(ran
        .stdout
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| Some(l.split('[').nth(1)?.trim_end_matches(']').to_string()))
        .collect())
}

/// What `build` makes, made once per test binary in `cell`; a panic saying what failed.
pub fn built_once<T: Send + Sync>(
    cell: &'static OnceLock<Result<T, String>>,
    what: &str,
    build: impl FnOnce() -> Result<T, String>,
) -> &'static T {
    match cell.get_or_init(build) {
        Ok(v) => v,
        Err(e) => panic!("building {what} failed:\n{e}"),
    }
}

/// How a libfuse example is built and which library it then needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// Debian 3.14 sources, Debian's headers.
    Deb314,
    /// Debian 3.14 sources, our headers.
    OurHdr,
    /// libfuse 3.18.3 sources and headers (tests/ll_examples.rs builds these itself).
    Sid318,
}

impl Flavour {
    pub fn name(self) -> &'static str {
        match self {
            Flavour::Deb314 => "deb314",
            Flavour::OurHdr => "ourhdr",
            Flavour::Sid318 => "sid318",
        }
    }

    /// The `fuse3.pc` of Debian's sources built this way.
    pub fn pc(self) -> Pc {
        match self {
            Flavour::Deb314 => Pc::Debian,
            Flavour::OurHdr => Pc::Ours,
            Flavour::Sid318 => panic!("3.18.3's examples are not built with pkg-config"),
        }
    }

    pub fn soname(self) -> &'static str {
        match self {
            Flavour::Deb314 => "libfuse3.so.3",
            Flavour::OurHdr | Flavour::Sid318 => "libfuse3.so.4",
        }
    }
}

/// Example name -> its binary, or why it could not be built.
pub type Built = BTreeMap<&'static str, Result<PathBuf, String>>;

/// The binary of `example`, or a panic saying why there is none.
pub fn exe(built: &Built, flavour: Flavour, example: &str) -> PathBuf {
    match built.get(example) {
        Some(Ok(p)) => p.clone(),
        Some(Err(e)) => panic!("building {example} ({}) failed:\n{e}", flavour.name()),
        None => panic!("{example} is not built in flavour {}", flavour.name()),
    }
}

/// Compiles `plan` (source, flags before it, flags after it) into `dir` in parallel, each
/// binary named after its source; one that needs a libfuse must need `flavour`'s (clients such
/// as poll_client need none: the linker drops an unused `-lfuse3`).
pub fn build_plan(
    flavour: Flavour,
    dir: &Path,
    plan: &[(PathBuf, Vec<String>, Vec<String>)],
) -> Vec<Result<PathBuf, String>> {
    parallel_map(plan, |(src, pre, post)| {
        if !src.is_file() {
            return Err(format!(
                "{} missing (libfuse3-dev, or the reference trees)",
                src.display()
            ));
        }
        let out = gcc(pre, src, &dir.join(src.file_stem().expect("a file name")), post)?;
        let needed = needed_libs(&out)?;
        let fuse: Vec<&String> = needed.iter().filter(|n| n.starts_with("libfuse")).collect();
        if fuse.iter().any(|n| *n != flavour.soname()) {
            return Err(format!(
                "{} needs {needed:?}, expected {}",
                out.display(),
                flavour.soname()
            ));
        }
        Ok(out)
    })
}

/// Debian's examples `names` in flavour `Deb314` or `OurHdr`, as its examples Makefile builds
/// them (`-Wall`, pkg-config), in the scratch directory `<scratch>-build-<flavour>`.
/// `pre(name)` adds flags before an example's source, `post` after the pkg-config flags.
pub fn debian_examples(
    flavour: Flavour,
    names: &[&'static str],
    scratch: &str,
    pre: impl Fn(&str) -> Vec<String>,
    post: &[&str],
) -> Built {
    let flags = match fuse3_flags(flavour.pc()) {
        Ok(f) => f,
        Err(e) => return names.iter().map(|n| (*n, Err(e.clone()))).collect(),
    };
    let dir = scratch_dir(&format!("{scratch}-build-{}", flavour.name()));
    let plan: Vec<(PathBuf, Vec<String>, Vec<String>)> = names
        .iter()
        .map(|name| {
            let mut before = vec!["-Wall".to_string()];
            before.extend(pre(name));
            let after = flags.iter().cloned().chain(post.iter().map(|s| s.to_string())).collect();
            (Path::new(DEBIAN_EXAMPLES).join(format!("{name}.c")), before, after)
        })
        .collect();
    names.iter().copied().zip(build_plan(flavour, &dir, &plan)).collect()
}
