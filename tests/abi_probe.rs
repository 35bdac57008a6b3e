//! Our C headers against libfuse's, as a C compiler sees them.
//!
//! For each FUSE_USE_VERSION a C program may pick, the probe in `tests/abi/` is built against a
//! reference header set and against ours, and the two descriptions are compared key by key:
//! sizes, alignments, field offsets, bitfield positions, enum and macro values, what the
//! function-like macros expand to, every prototype and field type (checked for compatibility by
//! the compiler itself), and which library symbol each API call binds to.
//!
//! References: Debian 12's libfuse 3.14.0 headers (`/usr/include/fuse3`, the `.so.3` ABI) and
//! libfuse 3.18.3's (Debian unstable, fetched by `tests/fetch-reference.sh`, the `.so.4` ABI).
//! Expected differences live in `tests/abi/*.txt`:
//! - `known-3.14-differences.txt`: keys where ours may differ from 3.14.0, because 3.17 changed
//!   them; for those, ours must agree with 3.18.3 instead.
//! - `known-3.18-differences.txt`: keys where ours (libfuse 3.19 level) may differ from 3.18.3.
//! - `not-yet-provided.txt`: keys the references have and ours do not have yet. It may only
//!   shrink: an entry that no longer matches anything missing fails the test.
//!   `FERROFUSE_BLESS=1` rewrites it with what is missing now.
//!
//! Also here: every header of ours compiles alone as C and C++, and Debian's low-level example
//! programs compile unchanged against ours (`-Wall -Werror`, through our `fuse3.pc`).
//!
//! `FERROFUSE_ABI_OURS_INCLUDE=<dir>` points the tests at another header directory (for testing
//! the test itself).

mod common;

use common::{
    glob_match, libfuse_318_tree, parallel_map, read_list, repo_root, run, run_ok, scratch_dir,
    target_profile_dir,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const GCC_TIMEOUT: Duration = Duration::from_secs(120);
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// The API levels compared against Debian's 3.14.0 headers.
const VERSIONS_314: &[u32] = &[30, 31, 35, 312, 314];
/// The API levels compared against 3.18.3's headers (3.17+ layouts: PROBE_NEW).
const VERSIONS_318: &[u32] = &[30, 31, 35, 312, 314, 317, 319];

const DEBIAN_INCLUDE: &str = "/usr/include/fuse3";
const DEBIAN_EXAMPLES: &str = "/usr/share/doc/libfuse3-dev/examples";

/// How many report lines to print per section before pointing at the full report file.
const PRINT_LIMIT: usize = 150;

fn abi_dir() -> PathBuf {
    repo_root().join("tests/abi")
}

fn ours_include() -> PathBuf {
    std::env::var_os("FERROFUSE_ABI_OURS_INCLUDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("include/fuse3"))
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

fn bless() -> bool {
    std::env::var_os("FERROFUSE_BLESS").is_some_and(|v| v != "0" && !v.is_empty())
}

// ------------------------------------------------------------------------------------------
// Header sets

/// One set of headers a program could be compiled against.
#[derive(Clone, Debug)]
struct HeaderSet {
    /// For messages: "Debian 3.14.0", "libfuse 3.18.3", "ours".
    label: String,
    /// Directory-name-safe tag.
    tag: String,
    /// `-I` directories, in order.
    incs: Vec<PathBuf>,
    /// Declarations and macros from files under these directories belong to the set.
    owned: Vec<PathBuf>,
    /// Compile the probe with `-DPROBE_NEW=1` (3.17+ layouts).
    probe_new: bool,
    /// A reference: the probe's own sources must compile as they are.
    reference: bool,
}

impl HeaderSet {
    fn debian_314() -> HeaderSet {
        let dir = PathBuf::from(DEBIAN_INCLUDE);
        HeaderSet {
            label: "Debian 3.14.0".into(),
            tag: "debian314".into(),
            incs: vec![dir.clone()],
            owned: vec![dir],
            probe_new: false,
            reference: true,
        }
    }

    /// libfuse 3.18.3's include/ plus a libfuse_config.h of our own making (meson generates
    /// that file at build time; the headers need the version numbers and the symbol-versioning
    /// switch from it).
    fn libfuse_318(scratch: &Path) -> Result<HeaderSet, String> {
        let tree = libfuse_318_tree()?;
        let (major, minor, hotfix) = meson_version(&tree)?;
        let config = scratch.join("ref318-config");
        std::fs::create_dir_all(&config).map_err(|e| e.to_string())?;
        let text = format!(
            "/* Written by tests/abi_probe.rs: the macros libfuse's headers expect from the\n \
             * libfuse_config.h its build generates. */\n\
             #pragma once\n\
             #define FUSE_MAJOR_VERSION {major}\n\
             #define FUSE_MINOR_VERSION {minor}\n\
             #define FUSE_HOTFIX_VERSION {hotfix}\n\
             #define LIBFUSE_BUILT_WITH_VERSIONED_SYMBOLS 1\n"
        );
        std::fs::write(config.join("libfuse_config.h"), text).map_err(|e| e.to_string())?;
        let include = canonical(&tree.join("include"));
        let config = canonical(&config);
        Ok(HeaderSet {
            label: format!("libfuse {major}.{minor}.{hotfix}"),
            tag: "libfuse318".into(),
            incs: vec![include.clone(), config.clone()],
            owned: vec![include, config],
            probe_new: true,
            reference: true,
        })
    }

    fn ours(probe_new: bool) -> Result<HeaderSet, String> {
        let dir = ours_include();
        if !dir.join("fuse_lowlevel.h").is_file() {
            return Err(format!(
                "our headers are not there (yet?): {} not found",
                dir.join("fuse_lowlevel.h").display()
            ));
        }
        let dir = canonical(&dir);
        Ok(HeaderSet {
            label: "ours".into(),
            tag: if probe_new { "ours-new" } else { "ours-old" }.into(),
            incs: vec![dir.clone()],
            owned: vec![dir],
            probe_new,
            reference: false,
        })
    }

    fn owns(&self, path: &str) -> bool {
        let p = Path::new(path);
        self.owned.iter().any(|d| p.starts_with(d))
    }

    fn cflags(&self, version: u32) -> Vec<String> {
        let mut v = vec![format!("-DFUSE_USE_VERSION={version}")];
        if self.probe_new {
            v.push("-DPROBE_NEW=1".into());
        }
        for i in &self.incs {
            v.push(format!("-I{}", i.display()));
        }
        v
    }
}

/// `version: 'X.Y.Z'` from a libfuse tree's meson.build.
fn meson_version(tree: &Path) -> Result<(u32, u32, u32), String> {
    let text = std::fs::read_to_string(tree.join("meson.build")).map_err(|e| e.to_string())?;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("version:") {
            let v = rest.trim().trim_matches(|c| c == '\'' || c == ',' || c == '"');
            let v = v.split('-').next().unwrap_or(v);
            let n: Vec<u32> = v.split('.').filter_map(|x| x.parse().ok()).collect();
            if n.len() == 3 {
                return Ok((n[0], n[1], n[2]));
            }
        }
    }
    Err(format!("no version in {}/meson.build", tree.display()))
}

// ------------------------------------------------------------------------------------------
// Compiling with dropped lines

/// A line of our scratch sources that did not compile and was blanked.
#[derive(Clone, Debug)]
struct Dropped {
    file: String,
    line: usize,
    text: String,
    error: String,
}

/// Run gcc in `dir` with `args`. When it fails on lines of files in `dir` (the probe sources
/// copied there), blank those lines and try again, unless the file is in `strict`. Errors
/// elsewhere (in the headers) or in strict files fail the compile.
fn compile_dropping(dir: &Path, args: &[String], strict: &[&str]) -> Result<Vec<Dropped>, String> {
    let mut dropped = Vec::new();
    for _round in 0..80 {
        let ran = run(Command::new("gcc").args(args).current_dir(dir), GCC_TIMEOUT)?;
        if ran.ok() {
            return Ok(dropped);
        }
        let mut to_drop: BTreeMap<(String, usize), String> = BTreeMap::new();
        let mut fatal = false;
        for l in ran.stderr.lines() {
            let Some((loc, msg)) =
                l.split_once(": error: ").or_else(|| l.split_once(": fatal error: "))
            else {
                continue;
            };
            let mut parts = loc.rsplitn(3, ':');
            let (a, b, c) = (parts.next(), parts.next(), parts.next());
            // path:line:col or path:line
            let (file, line) = match (a, b, c) {
                (Some(_col), Some(line), Some(file)) if line.parse::<usize>().is_ok() => {
                    (file, line.parse::<usize>().unwrap())
                }
                (Some(line), Some(file), None) if line.parse::<usize>().is_ok() => {
                    (file, line.parse::<usize>().unwrap())
                }
                _ => {
                    fatal = true;
                    continue;
                }
            };
            let path =
                if Path::new(file).is_absolute() { PathBuf::from(file) } else { dir.join(file) };
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let ours = path.parent().map(canonical) == Some(canonical(dir));
            match name {
                Some(n) if ours && !strict.contains(&n.as_str()) && !l.contains("fatal error") => {
                    to_drop.entry((n, line)).or_insert_with(|| msg.to_string());
                }
                _ => fatal = true,
            }
        }
        if fatal || to_drop.is_empty() {
            let mut cmd = String::from("gcc");
            for a in args {
                cmd.push(' ');
                cmd.push_str(a);
            }
            return Err(format!(
                "compile failed (in {}):\n  {cmd}\n{}",
                dir.display(),
                trim_output(&ran.stderr, 60)
            ));
        }
        for ((file, line), error) in to_drop {
            let path = dir.join(&file);
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            if line == 0 || line > lines.len() {
                return Err(format!("gcc reported {file}:{line}, which does not exist"));
            }
            let old = std::mem::take(&mut lines[line - 1]);
            if old.trim().is_empty() {
                return Err(format!("gcc keeps failing on {file}:{line}: {error}"));
            }
            dropped.push(Dropped { file: file.clone(), line, text: old.trim().to_string(), error });
            std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
        }
    }
    Err(format!("gave up dropping lines in {} after 80 rounds", dir.display()))
}

fn trim_output(s: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    if lines.len() <= max_lines {
        return s.to_string();
    }
    format!("{}\n... ({} more lines)\n", lines[..max_lines].join("\n"), lines.len() - max_lines)
}

/// Make `<scratch>/<name>` holding fresh copies of the probe sources.
fn job_dir(scratch: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = scratch.join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    for f in ["probe.c", "items.h", "types.c"] {
        std::fs::copy(abi_dir().join(f), dir.join(f))
            .map_err(|e| format!("copying tests/abi/{f}: {e}"))?;
    }
    Ok(dir)
}

// ------------------------------------------------------------------------------------------
// What a header set shows

/// A declaration from `gcc -aux-info`: `ret name params`, e.g. `int ` `fuse_reply_err` `(fuse_req_t, int)`.
#[derive(Clone, Debug)]
struct Decl {
    ret: String,
    name: String,
    params: String,
}

impl Decl {
    fn text(&self) -> String {
        format!("{}{}{}", self.ret, self.name, self.params)
    }

    /// `extern <ret> <new_name> <params>;`, optionally without any `const`.
    fn redeclare(&self, new_name: &str, strip_const: bool) -> String {
        let mut s = format!("extern {}{} {};", self.ret, new_name, self.params);
        if strip_const {
            s = strip_word(&s, "const");
        }
        s
    }

    fn arity(&self) -> usize {
        let inner = self.params.trim().trim_start_matches('(').trim_end_matches(')').trim();
        if inner.is_empty() || inner == "void" {
            return 0;
        }
        let (mut depth, mut n) = (0i32, 1usize);
        for c in inner.chars() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' => depth -= 1,
                ',' if depth == 0 => n += 1,
                _ => {}
            }
        }
        if inner.ends_with("...") { n - 1 } else { n }
    }
}

fn strip_word(s: &str, word: &str) -> String {
    let mut out = String::new();
    let mut ident = String::new();
    let flush = |ident: &mut String, out: &mut String| {
        if ident != word {
            out.push_str(ident);
        }
        ident.clear();
    };
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            ident.push(c);
        } else {
            flush(&mut ident, &mut out);
            out.push(c);
        }
    }
    flush(&mut ident, &mut out);
    out
}

/// Parse one line of `-aux-info` output: `/* FILE:LINE:XX */ [extern|static] DECL; [/* ... */]`.
fn parse_aux_line(line: &str) -> Option<(String, Decl)> {
    let rest = line.strip_prefix("/* ")?;
    let (loc, decl) = rest.split_once(" */ ")?;
    let file = loc.rsplitn(3, ':').nth(2)?.to_string();
    let decl = decl.split(';').next()?.trim();
    let decl =
        decl.strip_prefix("extern ").or_else(|| decl.strip_prefix("static ")).unwrap_or(decl);
    let open = decl.find('(')?;
    let head = decl[..open].trim_end();
    let name_start =
        head.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let name = head[name_start..].to_string();
    if name.is_empty() {
        return None;
    }
    let ret = head[..name_start].to_string();
    let params = decl[open..].trim().to_string();
    Some((file, Decl { ret, name, params }))
}

/// A macro a header set defines.
#[derive(Clone, Debug)]
enum Macro {
    /// Object-like with a body: probed for its value.
    Value,
    /// Object-like, empty (include guards, feature switches).
    Empty,
    /// Object-like, a brace initializer (`FUSE_OPT_END`): probe.c evaluates those by hand.
    Initializer,
    /// Function-like, with its parameter count (`None` when variadic).
    Function(Option<usize>),
}

#[derive(Default, Debug)]
struct Facts {
    /// `key value` facts: probe output, macro shapes, call bindings.
    values: BTreeMap<String, String>,
    /// Functions the set's headers declare.
    protos: BTreeMap<String, Decl>,
    /// Field and typedef types, keyed `fuse_file_info.fh` / `fuse_ino_t`.
    types: BTreeMap<String, Decl>,
    /// Lines of the probe sources that did not compile against this set.
    dropped: Vec<String>,
}

/// `gcc -E -dD`: the macros the set's own header files define.
fn scan_macros(
    set: &HeaderSet,
    version: u32,
    dir: &Path,
) -> Result<BTreeMap<String, Macro>, String> {
    std::fs::write(dir.join("scan.c"), "#include <fuse_lowlevel.h>\n")
        .map_err(|e| e.to_string())?;
    let mut args = vec!["-std=gnu11".to_string(), "-E".into(), "-dD".into()];
    args.extend(set.cflags(version));
    args.push("scan.c".into());
    let ran = run_ok(Command::new("gcc").args(&args).current_dir(dir), GCC_TIMEOUT)?;
    let mut macros = BTreeMap::new();
    let mut current = String::new();
    for line in ran.stdout.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            // # LINE "FILE" FLAGS
            if let Some(q) = rest.find('"') {
                if let Some(end) = rest[q + 1..].find('"') {
                    current = rest[q + 1..q + 1 + end].to_string();
                }
            }
            continue;
        }
        if !set.owns(&current) {
            continue;
        }
        if let Some(rest) = line.strip_prefix("#define ") {
            let name_end =
                rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            let name = rest[..name_end].to_string();
            let after = &rest[name_end..];
            let m = if let Some(params) = after.strip_prefix('(') {
                let params = params.split(')').next().unwrap_or("");
                if params.contains("...") {
                    Macro::Function(None)
                } else if params.trim().is_empty() {
                    Macro::Function(Some(0))
                } else {
                    Macro::Function(Some(params.split(',').count()))
                }
            } else if after.trim().is_empty() {
                Macro::Empty
            } else if after.trim_start().starts_with('{') {
                Macro::Initializer
            } else {
                Macro::Value
            };
            macros.insert(name, m);
        } else if let Some(rest) = line.strip_prefix("#undef ") {
            macros.remove(rest.trim());
        }
    }
    Ok(macros)
}

/// The generated part of the probe: one P_CONST per object-like macro either side defines.
fn consts_header(names: &BTreeSet<String>) -> String {
    let mut s = String::from("/* Generated by tests/abi_probe.rs. */\n");
    for n in names {
        let _ = write!(s, "#ifdef {n}\nP_CONST({n})\n#else\nP_NOCONST({n})\n#endif\n");
    }
    s
}

/// Build and run the probe against `set`, then extract prototypes with -aux-info and the
/// symbols each API call binds to.
fn gather(
    set: &HeaderSet,
    version: u32,
    scratch: &Path,
    macros: &BTreeMap<String, Macro>,
    const_names: &BTreeSet<String>,
) -> Result<Facts, String> {
    let mut facts = Facts::default();
    let base = format!("{}-v{version}", set.tag);
    let strict: &[&str] = if set.reference { &["probe.c", "items.h", "types.c"] } else { &[] };
    let note_drops = |drops: Vec<Dropped>, facts: &mut Facts| {
        for d in drops {
            facts.dropped.push(format!("{}:{}: `{}`: {}", d.file, d.line, d.text, d.error));
        }
    };

    for (name, m) in macros {
        match m {
            Macro::Value => {}
            Macro::Empty => {
                facts.values.insert(format!("macro.{name}"), "defined".into());
            }
            Macro::Initializer => {
                facts.values.insert(format!("macro.{name}"), "initializer".into());
            }
            Macro::Function(n) => {
                let arity = n.map_or("variadic".to_string(), |n| n.to_string());
                facts.values.insert(format!("fnmacro.{name}"), arity);
            }
        }
    }

    // 1. The probe itself.
    let dir = job_dir(scratch, &format!("{base}-probe"))?;
    std::fs::write(dir.join("probe_consts.h"), consts_header(const_names))
        .map_err(|e| e.to_string())?;
    let mut args = vec![
        "-std=c11".to_string(),
        "-Wall".into(),
        "-Werror".into(),
        "-ftrack-macro-expansion=0".into(),
        "-fmax-errors=0".into(),
        "-DPROBE_CONSTS=1".into(),
    ];
    args.extend(set.cflags(version));
    args.extend(["probe.c".into(), "-o".into(), "probe".into()]);
    let drops = compile_dropping(&dir, &args, strict)?;
    note_drops(drops, &mut facts);
    let ran = run_ok(&mut Command::new(dir.join("probe")), RUN_TIMEOUT)?;
    for line in ran.stdout.lines() {
        let (k, v) = line.split_once(' ').unwrap_or((line, ""));
        if v == "MISSING" {
            continue;
        }
        if facts.values.insert(k.to_string(), v.to_string()).is_some() {
            return Err(format!("the probe printed {k} twice"));
        }
    }

    // 2. Prototypes and field types.
    let dir = job_dir(scratch, &format!("{base}-types"))?;
    let mut args = vec![
        "-std=c11".to_string(),
        "-Wall".into(),
        "-Werror".into(),
        "-ftrack-macro-expansion=0".into(),
        "-fmax-errors=0".into(),
        "-aux-info".into(),
        "types.aux".into(),
        "-c".into(),
    ];
    args.extend(set.cflags(version));
    args.extend(["types.c".into(), "-o".into(), "types.o".into()]);
    let drops = compile_dropping(&dir, &args, strict)?;
    note_drops(drops, &mut facts);
    let aux = std::fs::read_to_string(dir.join("types.aux")).map_err(|e| e.to_string())?;
    for line in aux.lines() {
        let Some((file, decl)) = parse_aux_line(line) else { continue };
        if let Some(key) = decl.name.strip_prefix("probe_ty__") {
            facts.types.insert(key.replace("__", "."), decl);
        } else if set.owns(&file) {
            facts.protos.insert(decl.name.clone(), decl);
        }
    }

    // 3. What each call binds to.
    let calls = call_bindings(set, version, scratch, &facts.protos, macros)?;
    note_drops(calls.1, &mut facts);
    for (name, syms) in calls.0 {
        facts.values.insert(format!("call.{name}"), syms);
    }
    Ok(facts)
}

/// Compile a call of every function and function-like macro (with zeros for arguments) into
/// its own section, then follow the relocations: the library symbols each call ends up using.
fn call_bindings(
    set: &HeaderSet,
    version: u32,
    scratch: &Path,
    protos: &BTreeMap<String, Decl>,
    macros: &BTreeMap<String, Macro>,
) -> Result<(BTreeMap<String, String>, Vec<Dropped>), String> {
    let mut callable: BTreeMap<String, usize> = BTreeMap::new();
    for (name, d) in protos {
        callable.insert(name.clone(), d.arity());
    }
    for (name, m) in macros {
        if let Macro::Function(Some(n)) = m {
            if name.starts_with("fuse_") || name.starts_with("cuse_") {
                callable.insert(name.clone(), *n);
            }
        }
    }
    let dir = job_dir(scratch, &format!("{}-v{version}-calls", set.tag))?;
    let mut src = String::from("#include <fuse_lowlevel.h>\n");
    for (name, n) in &callable {
        let zeros = vec!["0"; *n].join(", ");
        let _ = writeln!(src, "void probe_call__{name}(void) {{ (void){name}({zeros}); }}");
    }
    std::fs::write(dir.join("calls.c"), src).map_err(|e| e.to_string())?;
    let mut args = vec![
        "-std=gnu11".to_string(),
        "-O0".into(),
        "-w".into(),
        "-ffunction-sections".into(),
        "-fno-asynchronous-unwind-tables".into(),
        "-fmax-errors=0".into(),
        "-c".into(),
    ];
    args.extend(set.cflags(version));
    args.extend(["calls.c".into(), "-o".into(), "calls.o".into()]);
    let dropped = compile_dropping(&dir, &args, &[])?;

    let syms =
        run_ok(Command::new("readelf").args(["-sW", "calls.o"]).current_dir(&dir), GCC_TIMEOUT)?;
    let mut local_funcs = BTreeSet::new();
    for l in syms.stdout.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        // Num: Value Size Type Bind Vis Ndx Name
        if t.len() >= 8 && t[3] == "FUNC" && t[6] != "UND" {
            local_funcs.insert(t[7].to_string());
        }
    }
    let rel =
        run_ok(Command::new("readelf").args(["-rW", "calls.o"]).current_dir(&dir), GCC_TIMEOUT)?;
    let mut refs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut section = String::new();
    for l in rel.stdout.lines() {
        if let Some(rest) = l.strip_prefix("Relocation section '") {
            let name = rest.split('\'').next().unwrap_or("");
            section = name.strip_prefix(".rela.text.").unwrap_or("").to_string();
            continue;
        }
        let t: Vec<&str> = l.split_whitespace().collect();
        if section.is_empty() || t.len() < 5 || !t[2].starts_with("R_") {
            continue;
        }
        // A call to a static function in its own section shows as that section's symbol.
        let sym = t[4].strip_prefix(".text.").unwrap_or(t[4]);
        if !sym.starts_with('.') {
            refs.entry(section.clone()).or_default().insert(sym.to_string());
        }
    }
    let mut out = BTreeMap::new();
    for name in callable.keys() {
        let start = format!("probe_call__{name}");
        if !local_funcs.contains(&start) {
            continue; // the call did not compile (dropped)
        }
        let mut seen = BTreeSet::new();
        let mut external = BTreeSet::new();
        let mut stack = vec![start];
        while let Some(f) = stack.pop() {
            if !seen.insert(f.clone()) {
                continue;
            }
            for s in refs.get(&f).into_iter().flatten() {
                if local_funcs.contains(s) {
                    stack.push(s.clone());
                } else {
                    external.insert(s.clone());
                }
            }
        }
        let v = if external.is_empty() {
            "(none)".to_string()
        } else {
            external.into_iter().collect::<Vec<_>>().join(" ")
        };
        out.insert(name.clone(), v);
    }
    Ok((out, dropped))
}

/// Per key: (strictly compatible, compatible once every `const` is removed).
type Compat = BTreeMap<String, (bool, bool)>;

/// Whether each of our prototypes / field types is compatible with the reference's, decided by
/// gcc in a translation unit built on the reference headers. For each key: (strictly
/// compatible, compatible once every `const` is removed from both).
fn check_types(
    reference: &HeaderSet,
    version: u32,
    scratch: &Path,
    ref_facts: &Facts,
    ours: &Facts,
) -> Result<(Compat, Vec<Dropped>), String> {
    let dir = job_dir(scratch, &format!("{}-v{version}-check", reference.tag))?;
    let mut decls = String::from("#include \"types.c\"\n#include <stdio.h>\n");
    let mut body = String::from("int main(void)\n{\n");
    let mut pairs: Vec<(String, String, &Decl, &Decl)> = Vec::new();
    for (name, r) in &ref_facts.protos {
        if let Some(o) = ours.protos.get(name) {
            pairs.push((format!("proto.{name}"), name.clone(), r, o));
        }
    }
    for (key, r) in &ref_facts.types {
        if let Some(o) = ours.types.get(key) {
            pairs.push((format!("type.{key}"), r.name.clone(), r, o));
        }
    }
    for (i, (key, refname, r, o)) in pairs.iter().enumerate() {
        let _ = writeln!(decls, "{}", o.redeclare(&format!("probe_o{i}"), false));
        let _ = writeln!(decls, "{}", r.redeclare(&format!("probe_rn{i}"), true));
        let _ = writeln!(decls, "{}", o.redeclare(&format!("probe_on{i}"), true));
        let _ = writeln!(
            body,
            "\tprintf(\"%s %d %d\\n\", \"{key}\", \
             __builtin_types_compatible_p(__typeof__({refname}), __typeof__(probe_o{i})), \
             __builtin_types_compatible_p(__typeof__(probe_rn{i}), __typeof__(probe_on{i})));"
        );
    }
    body.push_str("\treturn 0;\n}\n");
    std::fs::write(dir.join("check.c"), decls + &body).map_err(|e| e.to_string())?;
    let mut args = vec!["-std=gnu11".to_string(), "-w".into(), "-fmax-errors=0".into()];
    args.extend(reference.cflags(version));
    args.extend(["check.c".into(), "-o".into(), "check".into()]);
    let dropped = compile_dropping(&dir, &args, &["types.c", "items.h"])?;
    let ran = run_ok(&mut Command::new(dir.join("check")), RUN_TIMEOUT)?;
    let mut out = BTreeMap::new();
    for l in ran.stdout.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.len() == 3 {
            out.insert(t[0].to_string(), (t[1] == "1", t[2] == "1"));
        }
    }
    Ok((out, dropped))
}

// ------------------------------------------------------------------------------------------
// Comparing

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// Both sides have the key, with different values.
    Differs,
    /// The reference has it, ours does not.
    Missing,
}

#[derive(Clone, Debug)]
struct Diff {
    key: String,
    kind: Kind,
    reference: String,
    ours: String,
    note: String,
}

/// One reference compared with ours at one FUSE_USE_VERSION.
struct Comparison {
    reference: HeaderSet,
    version: u32,
    /// Err: something failed to build or run (the message says what).
    outcome: Result<Compared, String>,
}

struct Compared {
    ref_facts: Facts,
    ours_facts: Facts,
    diffs: Vec<Diff>,
    notes: Vec<String>,
}

fn compare(
    reference: &HeaderSet,
    ours: &HeaderSet,
    version: u32,
    scratch: &Path,
) -> Result<Compared, String> {
    let rdir = scratch.join(format!("{}-v{version}-scan", reference.tag));
    let odir = scratch.join(format!("{}-v{version}-scan", ours.tag));
    std::fs::create_dir_all(&rdir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&odir).map_err(|e| e.to_string())?;
    let rmac =
        scan_macros(reference, version, &rdir).map_err(|e| format!("{}: {e}", reference.label))?;
    let omac = scan_macros(ours, version, &odir).map_err(|e| format!("our headers: {e}"))?;
    let const_names: BTreeSet<String> = rmac
        .iter()
        .chain(omac.iter())
        .filter(|(_, m)| matches!(m, Macro::Value))
        .map(|(n, _)| n.clone())
        .collect();
    let ref_facts = gather(reference, version, scratch, &rmac, &const_names)
        .map_err(|e| format!("probing {} headers: {e}", reference.label))?;
    let ours_facts = gather(ours, version, scratch, &omac, &const_names)
        .map_err(|e| format!("probing our headers: {e}"))?;
    let (compat, check_drops) = check_types(reference, version, scratch, &ref_facts, &ours_facts)?;

    let mut diffs = Vec::new();
    for (k, rv) in &ref_facts.values {
        match ours_facts.values.get(k) {
            None => diffs.push(Diff {
                key: k.clone(),
                kind: Kind::Missing,
                reference: rv.clone(),
                ours: String::new(),
                note: String::new(),
            }),
            Some(ov) if ov != rv => diffs.push(Diff {
                key: k.clone(),
                kind: Kind::Differs,
                reference: rv.clone(),
                ours: ov.clone(),
                note: String::new(),
            }),
            Some(_) => {}
        }
    }
    let typed = ref_facts
        .protos
        .iter()
        .map(|(n, d)| (format!("proto.{n}"), d, ours_facts.protos.get(n)))
        .chain(
            ref_facts.types.iter().map(|(n, d)| (format!("type.{n}"), d, ours_facts.types.get(n))),
        );
    for (key, r, o) in typed {
        let Some(o) = o else {
            diffs.push(Diff {
                key,
                kind: Kind::Missing,
                reference: r.text(),
                ours: String::new(),
                note: String::new(),
            });
            continue;
        };
        let note = match compat.get(&key) {
            Some((true, _)) => continue,
            Some((false, true)) => "differs only in const qualifiers",
            Some((false, false)) => "incompatible types",
            None => "our declaration does not compile against the reference headers",
        };
        diffs.push(Diff {
            key,
            kind: Kind::Differs,
            reference: r.text(),
            ours: o.text(),
            note: note.into(),
        });
    }
    let mut notes = Vec::new();
    for d in &ref_facts.dropped {
        notes.push(format!("{} v{version}: not evaluable in the reference: {d}", reference.label));
    }
    for d in check_drops {
        notes.push(format!("v{version} type check: {}:{}: {}", d.file, d.line, d.error));
    }
    Ok(Compared { ref_facts, ours_facts, diffs, notes })
}

/// A list file of ours: key patterns with a reason each.
struct KeyList {
    path: PathBuf,
    entries: Vec<(usize, String, String)>,
}

impl KeyList {
    fn load(name: &str) -> KeyList {
        let path = abi_dir().join(name);
        let entries = read_list(&path);
        KeyList { path, entries }
    }

    fn matching(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(_, pat, _)| glob_match(pat, key))
    }
}

fn rel(p: &Path) -> String {
    p.strip_prefix(repo_root()).unwrap_or(p).display().to_string()
}

fn one_line(s: &str, max: usize) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s
    }
}

/// Group identical findings across API versions: key -> (ref, ours, note) -> versions.
type Grouped = BTreeMap<String, BTreeMap<(String, String, String), Vec<String>>>;

/// `["Debian 3.14.0:v30", "Debian 3.14.0:v31"]` -> `Debian 3.14.0 @ 30 31`.
fn compress_tags(tags: &[String]) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    let mut tags = tags.to_vec();
    tags.sort_by_key(|t| {
        let (label, v) = t.rsplit_once(":v").unwrap_or((t.as_str(), ""));
        (label.to_string(), v.parse::<u32>().unwrap_or(0))
    });
    for t in &tags {
        let (label, v) = t.rsplit_once(":v").unwrap_or((t.as_str(), ""));
        match groups.iter_mut().find(|(l, _)| l == label) {
            Some((_, vs)) => vs.push(v.to_string()),
            None => groups.push((label.to_string(), vec![v.to_string()])),
        }
    }
    groups.iter().map(|(l, vs)| format!("{l} @ {}", vs.join(" "))).collect::<Vec<_>>().join("; ")
}

fn render(grouped: &Grouped, out: &mut String, limit: usize) -> usize {
    let mut n = 0;
    for (key, variants) in grouped {
        for ((r, o, note), versions) in variants {
            n += 1;
            if n > limit {
                continue;
            }
            let _ = write!(
                out,
                "  {key}  [{}]\n      reference: {}\n",
                compress_tags(versions),
                one_line(r, 200)
            );
            if !o.is_empty() || !note.is_empty() {
                let _ = writeln!(out, "      ours:      {}", one_line(o, 200));
            }
            if !note.is_empty() {
                let _ = writeln!(out, "      ({note})");
            }
        }
    }
    if n > limit {
        let _ = writeln!(out, "  ... and {} more", n - limit);
    }
    n
}

#[test]
fn probe_matches_reference_headers() {
    let scratch = scratch_dir("abi_probe");
    let debian = HeaderSet::debian_314();
    let r318 = HeaderSet::libfuse_318(&scratch).unwrap_or_else(|e| panic!("{e}"));
    let ours_old = HeaderSet::ours(false).unwrap_or_else(|e| panic!("{e}"));
    let ours_new = HeaderSet::ours(true).unwrap_or_else(|e| panic!("{e}"));

    let mut jobs: Vec<(HeaderSet, HeaderSet, u32)> = Vec::new();
    for &v in VERSIONS_314 {
        jobs.push((debian.clone(), ours_old.clone(), v));
    }
    for &v in VERSIONS_318 {
        jobs.push((r318.clone(), ours_new.clone(), v));
    }
    let comparisons: Vec<Comparison> = parallel_map(&jobs, |(r, o, v)| Comparison {
        reference: r.clone(),
        version: *v,
        outcome: compare(r, o, *v, &scratch),
    });

    let known314 = KeyList::load("known-3.14-differences.txt");
    let known318 = KeyList::load("known-3.18-differences.txt");
    let pending = KeyList::load("not-yet-provided.txt");
    let mut used314 = vec![false; known314.entries.len()];
    let mut used318 = vec![false; known318.entries.len()];
    let mut used_pending = vec![false; pending.entries.len()];

    // For the 3.14 rule: per version, does ours agree with 3.18.3 on a key?
    let mut agrees_318: BTreeMap<u32, &Compared> = BTreeMap::new();
    for c in &comparisons {
        if c.reference.tag == r318.tag {
            if let Ok(x) = &c.outcome {
                agrees_318.insert(c.version, x);
            }
        }
    }

    let mut failures: Vec<String> = Vec::new();
    let mut unexpected: Grouped = BTreeMap::new();
    let mut missing: Grouped = BTreeMap::new();
    let mut missing_keys: BTreeSet<String> = BTreeSet::new();
    let mut accepted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut notes: BTreeSet<String> = BTreeSet::new();
    let mut ours_dropped: BTreeSet<String> = BTreeSet::new();

    for c in &comparisons {
        let tag = format!("{}:v{}", c.reference.label, c.version);
        let x = match &c.outcome {
            Ok(x) => x,
            Err(e) => {
                failures.push(format!("{tag}: {e}"));
                continue;
            }
        };
        notes.extend(x.notes.iter().cloned());
        for d in &x.ours_facts.dropped {
            ours_dropped.insert(format!(
                "v{}{}: {d}",
                c.version,
                if c.reference.probe_new { " PROBE_NEW" } else { "" }
            ));
        }
        let is_314 = c.reference.tag == debian.tag;
        for d in &x.diffs {
            let in318 = known318.matching(&d.key);
            // 1. Differences from 3.14.0 that 3.17 made: ours must then agree with 3.18.3
            //    (or differ from it as known-3.18-differences.txt allows).
            if is_314 {
                if let Some(i) = known314.matching(&d.key) {
                    used314[i] = true;
                    let Some(other) = agrees_318.get(&c.version) else {
                        failures.push(format!(
                            "{tag}: {} is a known 3.14 difference, but the 3.18.3 comparison at \
                             v{} did not run, so it cannot be checked",
                            d.key, c.version
                        ));
                        continue;
                    };
                    let in_ref = other.ref_facts.values.contains_key(&d.key)
                        || key_in_typed(&other.ref_facts, &d.key);
                    let differs = other.diffs.iter().any(|e| e.key == d.key);
                    let agrees = !differs && (in_ref || d.kind == Kind::Missing);
                    if agrees || in318.is_some() {
                        let how = if agrees {
                            "known-3.14, as 3.18.3"
                        } else {
                            "known-3.14 + known-3.18"
                        };
                        accepted
                            .entry(format!("{} ({how})", d.key))
                            .or_default()
                            .insert(tag.clone());
                        if let Some(j) = in318 {
                            used318[j] |= !agrees;
                        }
                        continue;
                    }
                    let why = if differs {
                        "ours differs from 3.18.3 too"
                    } else {
                        "3.18.3 has no such key, so ours cannot be following it"
                    };
                    unexpected
                        .entry(d.key.clone())
                        .or_default()
                        .entry((
                            d.reference.clone(),
                            d.ours.clone(),
                            format!("listed in known-3.14-differences.txt, but {why}"),
                        ))
                        .or_default()
                        .push(tag.clone());
                    continue;
                }
            }
            // 2. Ours is 3.19-level: differences 3.19 made. An entry there covers the key
            //    against 3.14.0 too: the difference is 3.19's doing either way.
            if let Some(i) = in318 {
                used318[i] = true;
                accepted.entry(format!("{} (known-3.18)", d.key)).or_default().insert(tag.clone());
                continue;
            }
            match d.kind {
                Kind::Missing => {
                    if let Some(i) = pending.matching(&d.key) {
                        used_pending[i] = true;
                        missing_keys.insert(d.key.clone());
                        continue;
                    }
                    missing_keys.insert(d.key.clone());
                    missing
                        .entry(d.key.clone())
                        .or_default()
                        .entry((d.reference.clone(), String::new(), String::new()))
                        .or_default()
                        .push(tag.clone());
                }
                Kind::Differs => {
                    unexpected
                        .entry(d.key.clone())
                        .or_default()
                        .entry((d.reference.clone(), d.ours.clone(), d.note.clone()))
                        .or_default()
                        .push(tag.clone());
                }
            }
        }
    }

    // The not-yet-provided list only shrinks.
    let mut stale = Vec::new();
    for (i, (line, pat, _)) in pending.entries.iter().enumerate() {
        if !used_pending[i] && !missing_keys.iter().any(|k| glob_match(pat, k)) {
            stale.push(format!("  {}:{line}: {pat}", rel(&pending.path)));
        }
    }

    let mut report = String::new();
    let _ = writeln!(
        report,
        "ABI probe: ours ({}) against Debian 3.14.0 at {:?} and {} at {:?}",
        rel(&ours_include()),
        VERSIONS_314,
        r318.label,
        VERSIONS_318
    );
    for f in &failures {
        let _ = writeln!(report, "\nFAILED TO RUN: {f}");
    }
    if !unexpected.is_empty() {
        let _ = writeln!(report, "\nDIFFERENCES (reference value vs ours; [where]):");
        render(&unexpected, &mut report, usize::MAX);
    }
    if !missing.is_empty() {
        let _ = writeln!(
            report,
            "\nMISSING FROM OURS ({} keys; while work is in progress list them in {}):",
            missing.len(),
            rel(&pending.path)
        );
        render(&missing, &mut report, usize::MAX);
    }
    if !stale.is_empty() {
        let _ = writeln!(
            report,
            "\nSTALE ENTRIES in not-yet-provided.txt (ours has these now: delete the lines):"
        );
        for s in &stale {
            let _ = writeln!(report, "{s}");
        }
    }
    if !ours_dropped.is_empty() {
        let _ = writeln!(
            report,
            "\nProbe lines that did not compile against our headers (their keys count as missing):"
        );
        for d in &ours_dropped {
            let _ = writeln!(report, "  {d}");
        }
    }
    let _ = writeln!(report, "\nAccepted differences ({}):", accepted.len());
    for (k, w) in &accepted {
        let _ =
            writeln!(report, "  {k}: {}", compress_tags(&w.iter().cloned().collect::<Vec<_>>()));
    }
    for (list, used) in [(&known314, &used314), (&known318, &used318)] {
        for (i, (line, pat, _)) in list.entries.iter().enumerate() {
            if !used[i] {
                let _ = writeln!(
                    report,
                    "  note: {}:{line}: `{pat}` matched no difference",
                    rel(&list.path)
                );
            }
        }
    }
    if !notes.is_empty() {
        let _ = writeln!(report, "\nNotes:");
        for n in &notes {
            let _ = writeln!(report, "  {n}");
        }
    }
    let report_path = scratch.join("report.txt");
    let _ = std::fs::write(&report_path, &report);

    if bless() && failures.is_empty() {
        write_pending(&pending.path, &missing_keys);
        println!("FERROFUSE_BLESS: wrote {} keys to {}", missing_keys.len(), rel(&pending.path));
        missing.clear();
        stale.clear();
    }

    let ok = failures.is_empty() && unexpected.is_empty() && missing.is_empty() && stale.is_empty();
    if ok {
        println!("{report}");
        println!(
            "ABI probe: no unexpected differences ({} keys still pending in {})",
            missing_keys.len(),
            rel(&pending.path)
        );
        return;
    }
    // Short form on the console, the whole report on disk.
    let mut short = String::new();
    for f in &failures {
        let _ = writeln!(short, "FAILED TO RUN: {}", trim_output(f, 40));
    }
    if !unexpected.is_empty() {
        let _ = writeln!(short, "\nDIFFERENCES (reference value vs ours; [where]):");
        render(&unexpected, &mut short, PRINT_LIMIT);
    }
    if !missing.is_empty() {
        let _ = writeln!(
            short,
            "\nMISSING FROM OURS: {} keys (list them in {} while in progress, \
            or run with FERROFUSE_BLESS=1 to write that list):",
            missing.len(),
            rel(&pending.path)
        );
        render(&missing, &mut short, 40);
    }
    if !stale.is_empty() {
        let _ = writeln!(
            short,
            "\nSTALE ENTRIES in {} (ours has these now: delete the lines):",
            rel(&pending.path)
        );
        for s in &stale {
            let _ = writeln!(short, "{s}");
        }
    }
    panic!("ABI probe found problems.\n{short}\nFull report: {}", report_path.display());
}

fn key_in_typed(f: &Facts, key: &str) -> bool {
    if let Some(n) = key.strip_prefix("proto.") {
        return f.protos.contains_key(n);
    }
    if let Some(n) = key.strip_prefix("type.") {
        return f.types.contains_key(n);
    }
    false
}

fn write_pending(path: &Path, keys: &BTreeSet<String>) {
    let mut s = String::from(
        "# Keys the reference headers have and ours do not provide yet (see tests/abi_probe.rs).\n\
         # This list may only shrink: the test fails on an entry that matches nothing missing.\n\
         # `*` matches any run of characters. Regenerate with FERROFUSE_BLESS=1.\n",
    );
    for k in keys {
        s.push_str(k);
        s.push('\n');
    }
    std::fs::write(path, s).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}

// ------------------------------------------------------------------------------------------
// Each header alone

/// The ways a header must compile on its own (C flags or C++ flags).
const ALONE_MODES: &[(&str, &str, &[&str])] = &[
    ("c11-pedantic", "gcc", &["-x", "c", "-std=c11", "-pedantic"]),
    ("gnu11", "gcc", &["-x", "c", "-std=gnu11"]),
    ("c99", "gcc", &["-x", "c", "-std=c99"]),
    ("c++11", "g++", &["-x", "c++", "-std=c++11"]),
    ("gnu++17", "g++", &["-x", "c++", "-std=gnu++17"]),
];

fn compile_alone(
    header: &str,
    incs: &[PathBuf],
    version: u32,
    mode: &(&str, &str, &[&str]),
    dir: &Path,
) -> Result<(), String> {
    let src = dir.join(format!("alone-{}-{}-{version}.src", header.replace('.', "_"), mode.0));
    std::fs::write(
        &src,
        format!("#include <{header}>\ntypedef int probe_translation_unit_is_not_empty;\n"),
    )
    .map_err(|e| e.to_string())?;
    let mut cmd = Command::new(mode.1);
    cmd.args(mode.2)
        .args(["-Wall", "-Wextra", "-Werror", "-fsyntax-only"])
        .arg(format!("-DFUSE_USE_VERSION={version}"));
    for i in incs {
        cmd.arg(format!("-I{}", i.display()));
    }
    cmd.arg(&src);
    run_ok(&mut cmd, GCC_TIMEOUT).map(|_| ())
}

#[test]
fn each_header_compiles_alone() {
    let scratch = scratch_dir("abi_headers_alone");
    let ours = HeaderSet::ours(true).unwrap_or_else(|e| panic!("{e}"));
    let r318 = HeaderSet::libfuse_318(&scratch).unwrap_or_else(|e| panic!("{e}"));
    let mut headers: Vec<String> = std::fs::read_dir(&ours.incs[0])
        .unwrap_or_else(|e| panic!("reading {}: {e}", ours.incs[0].display()))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h"))
        .collect();
    headers.sort();

    struct Job {
        header: String,
        version: u32,
        mode: usize,
    }
    let mut jobs = Vec::new();
    for h in &headers {
        for &v in VERSIONS_318 {
            for m in 0..ALONE_MODES.len() {
                jobs.push(Job { header: h.clone(), version: v, mode: m });
            }
        }
    }
    let results = parallel_map(&jobs, |j| {
        let mode = &ALONE_MODES[j.mode];
        // The control: the same header of a reference, where there is one.
        let control_incs = if Path::new(DEBIAN_INCLUDE).join(&j.header).is_file() {
            Some(vec![PathBuf::from(DEBIAN_INCLUDE)])
        } else if r318.incs[0].join(&j.header).is_file() {
            Some(r318.incs.clone())
        } else {
            None
        };
        let control =
            control_incs.map(|incs| compile_alone(&j.header, &incs, j.version, mode, &scratch));
        let mine = compile_alone(&j.header, &ours.incs, j.version, mode, &scratch);
        (control, mine)
    });
    let mut failures = Vec::new();
    let mut skipped = BTreeSet::new();
    for (j, (control, mine)) in jobs.iter().zip(results) {
        let what = format!("{} FUSE_USE_VERSION={} {}", j.header, j.version, ALONE_MODES[j.mode].0);
        match (control, mine) {
            (Some(Err(_)), _) => {
                skipped.insert(format!("{} {}", j.header, ALONE_MODES[j.mode].0));
            }
            (_, Err(e)) => failures.push(format!("{what}:\n{}", trim_output(&e, 15))),
            _ => {}
        }
    }
    println!("headers: {headers:?}");
    println!("not required (the reference's own header fails the same way): {skipped:?}");
    assert!(
        failures.is_empty(),
        "{} header compile(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ------------------------------------------------------------------------------------------
// Debian's example programs

enum Example {
    /// Uses an API we provide (low-level or high-level): must compile against ours.
    Provided,
    /// Cannot be compared: fails against Debian's own installed headers.
    NotComparable(&'static str),
    /// Includes no libfuse header at all.
    NoFuse,
}

fn example_kind(name: &str) -> Option<Example> {
    use Example::*;
    Some(match name {
        "hello_ll.c"
        | "notify_inval_entry.c"
        | "notify_inval_inode.c"
        | "notify_store_retrieve.c"
        | "passthrough_ll.c"
        | "printcap.c"
        | "cuse.c" => Provided,
        // Includes only <libfuse_config.h>.
        "poll_client.c" => Provided,
        // The high-level API (fuse.h).
        "hello.c" | "invalidate_path.c" | "ioctl.c" | "null.c" | "passthrough.c"
        | "passthrough_fh.c" | "poll.c" => Provided,
        "hello_ll_uds.c" => {
            NotComparable("includes <fuse_kernel.h>, which Debian does not install")
        }
        "cuse_client.c" | "ioctl_client.c" => NoFuse,
        _ => return None,
    })
}

/// `pkg-config --cflags fuse3`, from our fuse3.pc only (ours) or the system's (None).
fn fuse3_cflags(pc_dir: Option<&Path>) -> Result<Vec<String>, String> {
    let mut cmd = Command::new("pkg-config");
    cmd.args(["--cflags", "fuse3"]);
    if let Some(dir) = pc_dir {
        // LIBDIR, not PATH: never fall back to the system's fuse3.pc.
        cmd.env("PKG_CONFIG_LIBDIR", dir).env_remove("PKG_CONFIG_PATH");
    }
    let ran = run_ok(&mut cmd, Duration::from_secs(30))?;
    Ok(ran.stdout.split_whitespace().map(str::to_string).collect())
}

#[test]
fn debian_examples_compile_against_ours() {
    let scratch = scratch_dir("abi_examples");
    let examples = Path::new(DEBIAN_EXAMPLES);
    assert!(
        examples.is_dir(),
        "{DEBIAN_EXAMPLES} is missing: install Debian's libfuse3-dev (apt-get install libfuse3-dev)"
    );
    let pc_dir = target_profile_dir();
    let ours_cflags = match std::env::var_os("FERROFUSE_ABI_OURS_INCLUDE") {
        Some(dir) => vec![format!("-I{}", Path::new(&dir).display())],
        None => fuse3_cflags(Some(&pc_dir)).unwrap_or_else(|e| {
            panic!(
                "our fuse3.pc is not usable ({}/fuse3.pc; build.rs writes it): {e}",
                pc_dir.display()
            )
        }),
    };
    assert!(
        !ours_cflags.iter().any(|f| f.contains("/usr/include/fuse3")),
        "our fuse3.pc points at the system's headers: {ours_cflags:?}"
    );
    let debian_cflags = fuse3_cflags(None).unwrap_or_else(|e| panic!("Debian's fuse3.pc: {e}"));

    let mut files: Vec<String> = std::fs::read_dir(examples)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c"))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let unknown: Vec<&String> = files.iter().filter(|f| example_kind(f).is_none()).collect();
    if !unknown.is_empty() {
        failures.push(format!("unclassified example(s), add them to example_kind(): {unknown:?}"));
    }
    let compile = |file: &str, cflags: &[String], tag: &str| -> Result<(), String> {
        let mut cmd = Command::new("gcc");
        cmd.args(["-Wall", "-Werror", "-c"])
            .args(cflags)
            .arg(examples.join(file))
            .arg("-o")
            .arg(scratch.join(format!("{tag}-{file}.o")));
        run_ok(&mut cmd, GCC_TIMEOUT).map(|_| ())
    };
    let results = parallel_map(&files, |f| {
        (compile(f, &debian_cflags, "debian"), compile(f, &ours_cflags, "ours"))
    });
    for (f, (control, mine)) in files.iter().zip(results) {
        match example_kind(f) {
            Some(Example::Provided) => {
                if let Err(e) = control {
                    failures
                        .push(format!("{f}: does not even compile against Debian's headers:\n{e}"));
                } else if let Err(e) = mine {
                    failures.push(format!(
                        "{f}: does not compile against ours:\n{}",
                        trim_output(&e, 30)
                    ));
                } else {
                    println!("ok: {f}");
                }
            }
            Some(Example::NotComparable(why)) => println!("skipped: {f}: {why}"),
            Some(Example::NoFuse) | None => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn reference_headers_are_present() {
    // The probe test needs them; say so plainly when they are not there.
    libfuse_318_tree().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        Path::new(DEBIAN_INCLUDE).join("fuse_lowlevel.h").is_file(),
        "{DEBIAN_INCLUDE}/fuse_lowlevel.h is missing: install Debian's libfuse3-dev"
    );
}
