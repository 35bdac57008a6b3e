//! The dynamic symbols of our two libraries against libfuse's.
//!
//! Ours: `target/<profile>/libfuse3.so.3` (SONAME libfuse3.so.3, for programs built against
//! libfuse <= 3.16) and `libfuse3.so.4` (SONAME libfuse3.so.4, for 3.17+). References:
//! Debian 12's `/usr/lib/x86_64-linux-gnu/libfuse3.so.3` (libfuse 3.14.0, read with `objdump`),
//! libfuse 3.18.3 built from the tree `tests/fetch-reference.sh` fetches (its library, and its
//! `lib/fuse_versionscript` and the symbol aliases in `lib/*.c`), plus
//! `tests/abi/symbols-3.19.txt` for what came after 3.18.3.
//!
//! Each image is compared name by name with the libfuse its programs were built against: a name
//! Debian's 3.14 exports has exactly 3.14's versions in our `.so.3`, each default or not as
//! there (`fuse_new@@FUSE_3.1`), and a name 3.18.3 exports has exactly 3.18.3's in our `.so.4`
//! (`fuse_new@FUSE_3.1`, `fuse_session_custom_io@@FUSE_3.17`); aliases share their function's
//! address as in libfuse. Only the CUSE calls may be missing.
//!
//! `tests/abi/symbols-missing.txt` names the functions not implemented yet. It may only shrink:
//! a listed name that is now fully exported fails the test. `FERROFUSE_BLESS=1` rewrites it.

mod common;

use common::{
    libfuse_318_build, libfuse_318_tree, read_list, repo_root, run_ok, target_profile_dir,
};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu/libfuse3.so.3";

/// libfuse's version nodes, oldest first.
const NODES: &[&str] = &[
    "FUSE_3.0",
    "FUSE_3.1",
    "FUSE_3.2",
    "FUSE_3.3",
    "FUSE_3.4",
    "FUSE_3.7",
    "FUSE_3.12",
    "FUSE_3.17",
    "FUSE_3.17.3",
    "FUSE_3.18",
    "FUSE_3.19",
];

/// `name@@NODE` (default) or `name@NODE`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Pair {
    name: String,
    node: String,
    default: bool,
}

impl Pair {
    fn parse(s: &str) -> Option<Pair> {
        if let Some((name, node)) = s.split_once("@@") {
            return Some(Pair { name: name.into(), node: node.into(), default: true });
        }
        let (name, node) = s.split_once('@')?;
        Some(Pair { name: name.into(), node: node.into(), default: false })
    }

    fn key(&self) -> (String, String) {
        (self.name.clone(), self.node.clone())
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.name, if self.default { "@@" } else { "@" }, self.node)
    }
}

/// A defined, global dynamic symbol as `objdump -T` shows it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Export {
    name: String,
    /// None: no version shown (unversioned).
    version: Option<String>,
    /// Shown in parentheses: a non-default version.
    hidden: bool,
    /// The symbol's value (its address), and whether it is absolute (`*ABS*`).
    value: u64,
    absolute: bool,
}

impl Export {
    fn pair(&self) -> Option<Pair> {
        let node = self.version.clone()?;
        Some(Pair { name: self.name.clone(), node, default: !self.hidden })
    }

    fn show(&self) -> String {
        match (&self.version, self.hidden) {
            (None, _) => format!("{} (unversioned)", self.name),
            (Some(v), false) => format!("{}@@{v}", self.name),
            (Some(v), true) => format!("{}@{v}", self.name),
        }
    }
}

fn exports(lib: &Path) -> Vec<Export> {
    let ran = run_ok(Command::new("objdump").arg("-T").arg(lib), TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("objdump -T {}: {e}", lib.display()));
    let mut out = Vec::new();
    for line in ran.stdout.lines() {
        // VALUE FLAGS(7) SECTION \t SIZE [VERSION] NAME
        let Some((left, right)) = line.split_once('\t') else { continue };
        if left.len() < 26 || !left.as_bytes()[..16].iter().all(u8::is_ascii_hexdigit) {
            continue;
        }
        let flags = &left[17..24];
        let section = left[25..].trim();
        let global =
            flags.starts_with('g') || flags.starts_with('u') || flags.as_bytes()[1] == b'w';
        if section == "*UND*" || !global {
            continue;
        }
        let t: Vec<&str> = right.split_whitespace().collect();
        let (version, name) = match t.as_slice() {
            [_size, name] => (None, *name),
            [_size, version, name] => (Some(*version), *name),
            _ => panic!("cannot parse objdump line: {line}"),
        };
        let (version, hidden) = match version {
            Some(v) if v.starts_with('(') => {
                (Some(v.trim_matches(|c| c == '(' || c == ')').to_string()), true)
            }
            Some(v) => (Some(v.to_string()), false),
            None => (None, false),
        };
        let value = u64::from_str_radix(&left[..16], 16).expect("checked hex digits");
        out.push(Export {
            name: name.to_string(),
            version,
            hidden,
            value,
            absolute: section == "*ABS*",
        });
    }
    out.sort();
    out
}

/// `objdump -p`'s "Version definitions": (flags, name, parents), in order.
fn version_definitions(lib: &Path) -> Vec<(String, String, Vec<String>)> {
    let ran = run_ok(Command::new("objdump").arg("-p").arg(lib), TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("objdump -p {}: {e}", lib.display()));
    let mut defs: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut inside = false;
    for line in ran.stdout.lines() {
        if line.starts_with("Version definitions:") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line.trim().is_empty() || line.starts_with("Version References") {
            break;
        }
        if line.starts_with('\t') || line.starts_with(' ') {
            if let Some(last) = defs.last_mut() {
                last.2.extend(line.split_whitespace().map(str::to_string));
            }
            continue;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() >= 4 {
            defs.push((t[1].to_string(), t[3].to_string(), Vec::new()));
        }
    }
    defs
}

fn soname(lib: &Path) -> Option<String> {
    let ran = run_ok(Command::new("readelf").arg("-dW").arg(lib), TOOL_TIMEOUT)
        .unwrap_or_else(|e| panic!("readelf -d {}: {e}", lib.display()));
    ran.stdout
        .lines()
        .find(|l| l.contains("(SONAME)"))
        .and_then(|l| l.split('[').nth(1))
        .map(|s| s.trim_end_matches(']').to_string())
}

/// Our two libraries, or a panic saying how to build them.
fn our_libs() -> Vec<PathBuf> {
    let dir = target_profile_dir();
    let libs = vec![dir.join("libfuse3.so.3"), dir.join("libfuse3.so.4")];
    for l in &libs {
        assert!(
            l.exists(),
            "{} is missing: build the workspace first (`cargo build`; build.rs makes the \
             libfuse3.so.3 / libfuse3.so.4 links next to libfuse3_abi3.so and libfuse3.so)",
            l.display()
        );
    }
    libs
}

fn debian_lib() -> PathBuf {
    let p = PathBuf::from(DEBIAN_LIB);
    assert!(
        p.exists(),
        "{DEBIAN_LIB} is missing: install Debian's libfuse3-3 (apt-get install libfuse3-3)"
    );
    p
}

/// libfuse 3.18.3's library (SONAME libfuse3.so.4), built once from the reference tree.
fn libfuse_318_lib() -> PathBuf {
    let lib = libfuse_318_build().join("lib/libfuse3.so.3.18.3");
    assert!(lib.exists(), "{} is missing after building libfuse 3.18.3", lib.display());
    lib
}

/// What libfuse 3.18.3's sources say, plus our list of later additions.
struct Reference {
    /// node -> parent node, from the versionscript and symbols-3.19.txt.
    parents: BTreeMap<String, Option<String>>,
    /// Every (name, node) ours may export.
    allowed: BTreeSet<(String, String)>,
    /// Pairs 3.18.3's library exports by construction, and the `required` extras.
    required: BTreeSet<Pair>,
    /// Pairs with their 3.18.3 default status, to settle Debian's older status.
    status_318: BTreeMap<(String, String), bool>,
    /// Debian's exports by name, with 3.14's default status: what `libfuse3.so.3` must have
    /// for those names instead of `required`'s.
    debian: BTreeMap<String, BTreeSet<Pair>>,
    /// The entries of tests/abi/symbols-3.19.txt.
    later: BTreeSet<Pair>,
}

fn parse_versionscript(text: &str) -> Vec<(String, Vec<String>, Option<String>)> {
    let mut nodes = Vec::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for raw in text.lines() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_suffix('{').map(str::trim) {
            current = Some((name.to_string(), Vec::new()));
        } else if let Some(rest) = line.strip_prefix('}') {
            let parent = rest.trim().trim_end_matches(';').trim();
            if let Some((name, names)) = current.take() {
                let parent = (!parent.is_empty()).then(|| parent.to_string());
                nodes.push((name, names, parent));
            }
        } else if line == "global:" || line == "local:" || line == "*;" {
        } else if let Some((_, names)) = current.as_mut() {
            names.push(line.trim_end_matches(';').trim().to_string());
        }
    }
    nodes
}

/// `FUSE_SYMVER("impl", "name@@NODE")` in libfuse's lib/*.c.
fn symver_aliases(lib_dir: &Path) -> Vec<(String, Pair)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(lib_dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", lib_dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "c"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("FUSE_SYMVER(\"") else { continue };
            let mut parts = rest.split('"');
            let (Some(imp), Some(_), Some(target)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if let Some(p) = Pair::parse(target) {
                out.push((imp.to_string(), p));
            }
        }
    }
    out
}

impl Reference {
    fn load(debian: &[Export]) -> Reference {
        let tree = libfuse_318_tree().unwrap_or_else(|e| panic!("{e}"));
        let vs_path = tree.join("lib/fuse_versionscript");
        let vs = std::fs::read_to_string(&vs_path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", vs_path.display()));
        let nodes = parse_versionscript(&vs);
        assert!(!nodes.is_empty(), "no version nodes found in {}", vs_path.display());
        let aliases = symver_aliases(&tree.join("lib"));
        assert!(!aliases.is_empty(), "no FUSE_SYMVER aliases found in {}/lib", tree.display());

        let mut parents = BTreeMap::new();
        let mut allowed = BTreeSet::new();
        let mut required = BTreeSet::new();
        let mut status_318 = BTreeMap::new();
        let mut later = BTreeSet::new();
        let mut debian_pairs: BTreeMap<String, BTreeSet<Pair>> = BTreeMap::new();
        let alias_names: BTreeSet<&str> = aliases.iter().map(|(_, p)| p.name.as_str()).collect();
        let mut listed: BTreeSet<(String, String)> = BTreeSet::new();
        for (node, names, parent) in &nodes {
            parents.insert(node.clone(), parent.clone());
            for n in names {
                listed.insert((n.clone(), node.clone()));
                allowed.insert((n.clone(), node.clone()));
                // A name that only exists as an alias gets its version from the alias.
                if !alias_names.contains(n.as_str()) {
                    let p = Pair { name: n.clone(), node: node.clone(), default: true };
                    status_318.insert(p.key(), true);
                    required.insert(p);
                }
            }
        }
        for (_imp, p) in &aliases {
            allowed.insert(p.key());
            status_318.insert(p.key(), p.default);
            if listed.contains(&p.key()) {
                required.insert(p.clone());
            }
        }
        // GNU ld also exports each node as an absolute symbol of that version.
        for node in NODES {
            allowed.insert((node.to_string(), node.to_string()));
        }
        for (node, _, _) in &nodes {
            required.insert(Pair { name: node.clone(), node: node.clone(), default: true });
        }
        let extras_path = repo_root().join("tests/abi/symbols-3.19.txt");
        for (line, first, rest) in read_list(&extras_path) {
            if let Some(node) = first.strip_prefix("node:") {
                let parent = rest.split_whitespace().next().map(str::to_string);
                parents.insert(node.to_string(), parent);
                continue;
            }
            let p = Pair::parse(&first).unwrap_or_else(|| {
                panic!("{}:{line}: expected NAME@@NODE or NAME@NODE", extras_path.display())
            });
            allowed.insert(p.key());
            later.insert(p.clone());
            match rest.as_str() {
                "" => {}
                "required" => {
                    required.insert(p);
                }
                other => panic!("{}:{line}: unexpected `{other}`", extras_path.display()),
            }
        }
        // Debian's exports are allowed, and required (with 3.18.3's default status where the
        // two disagree: 3.17 demoted some old entry points to non-default aliases).
        for e in debian {
            let Some(mut p) = e.pair() else { continue };
            debian_pairs.entry(p.name.clone()).or_default().insert(p.clone());
            allowed.insert(p.key());
            if let Some(&d) = status_318.get(&p.key()) {
                p.default = d;
            }
            required.insert(p);
        }
        Reference { parents, allowed, required, status_318, debian: debian_pairs, later }
    }

    /// What one of our libraries must export: 3.18.3's arrangement for `libfuse3.so.4`; for
    /// `libfuse3.so.3` the same, except that every name Debian's 3.14 has carries 3.14's
    /// versions.
    fn required_for(&self, file: &str) -> BTreeSet<Pair> {
        if file != "libfuse3.so.3" {
            return self.required.clone();
        }
        let mut out: BTreeSet<Pair> =
            self.required.iter().filter(|p| !self.debian.contains_key(&p.name)).cloned().collect();
        out.extend(self.debian.values().flatten().cloned());
        out
    }
}

fn is_rust_internal(name: &str) -> bool {
    name.starts_with("_ZN")
        || name.starts_with("_R")
        || name.contains("rust_")
        || name.starts_with("__rust")
}

#[test]
fn sonames() {
    let dir = target_profile_dir();
    let mut problems = Vec::new();
    for (file, want) in [
        ("libfuse3.so.3", "libfuse3.so.3"),
        ("libfuse3.so.4", "libfuse3.so.4"),
        ("libfuse3.so", "libfuse3.so.4"),
        ("libfuse3_abi3.so", "libfuse3.so.3"),
    ] {
        let path = dir.join(file);
        if !path.exists() {
            problems.push(format!(
                "{} is missing (run `cargo build` for the workspace)",
                path.display()
            ));
            continue;
        }
        let got = soname(&path);
        if got.as_deref() != Some(want) {
            problems.push(format!("{file}: SONAME {got:?}, want {want}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn exports_are_versioned_libfuse_api() {
    let debian = exports(&debian_lib());
    let reference = Reference::load(&debian);
    let mut problems = Vec::new();
    for lib in our_libs() {
        for e in exports(&lib) {
            let file = lib.file_name().unwrap().to_string_lossy();
            if is_rust_internal(&e.name) {
                problems.push(format!("{file}: Rust-internal symbol exported: {}", e.show()));
                continue;
            }
            match &e.version {
                Some(v) if NODES.contains(&v.as_str()) => {}
                _ => {
                    problems
                        .push(format!("{file}: not under a FUSE_3.x version node: {}", e.show()));
                    continue;
                }
            }
            if !reference.allowed.contains(&(e.name.clone(), e.version.clone().unwrap())) {
                problems.push(format!(
                    "{file}: {} is not libfuse API under that version (not in 3.18.3's \
                     versionscript or aliases, Debian's exports, or tests/abi/symbols-3.19.txt)",
                    e.show()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

/// A library's versioned exports by name.
fn by_name(exports: &[Export]) -> BTreeMap<String, BTreeSet<Pair>> {
    let mut out: BTreeMap<String, BTreeSet<Pair>> = BTreeMap::new();
    for p in exports.iter().filter_map(Export::pair) {
        out.entry(p.name.clone()).or_default().insert(p);
    }
    out
}

fn show_pairs<'a>(pairs: impl IntoIterator<Item = &'a Pair>) -> String {
    let v: Vec<String> = pairs.into_iter().map(Pair::to_string).collect();
    if v.is_empty() { "nothing".to_string() } else { v.join(", ") }
}

/// Ours against the libfuse build its programs were linked with, name by name: every name that
/// build exports has exactly its versions in ours, each default or not as there (beyond them
/// only the later additions of tests/abi/symbols-3.19.txt), and symbols that share an address
/// there (an alias and its implementation, `fuse_new@@FUSE_3.1` and `fuse_new_31`) share one
/// in ours. Returns the differences.
fn compare_with_libfuse(ours_lib: &Path, libfuse: &Path, later: &BTreeSet<Pair>) -> Vec<String> {
    let file = ours_lib.file_name().unwrap().to_string_lossy().into_owned();
    let theirs = exports(libfuse);
    let ours = exports(ours_lib);
    let ours_by_name = by_name(&ours);
    let mut problems = Vec::new();
    for (name, want) in by_name(&theirs) {
        let got = ours_by_name.get(&name).cloned().unwrap_or_default();
        let unexpected: Vec<&Pair> =
            got.iter().filter(|p| !want.contains(p) && !later.contains(p)).collect();
        if want.is_subset(&got) && unexpected.is_empty() {
            continue;
        }
        problems.push(format!(
            "{file}: {name}: exports {}, where {} exports {}{}",
            show_pairs(&got),
            libfuse.display(),
            show_pairs(&want),
            if unexpected.is_empty() {
                String::new()
            } else {
                format!(" (not there: {})", show_pairs(unexpected))
            }
        ));
    }

    let value_of: BTreeMap<Pair, (u64, bool)> =
        ours.iter().filter_map(|e| Some((e.pair()?, (e.value, e.absolute)))).collect();
    let mut groups: BTreeMap<u64, Vec<Pair>> = BTreeMap::new();
    for e in theirs.iter().filter(|e| !e.absolute) {
        if let Some(p) = e.pair() {
            groups.entry(e.value).or_default().push(p);
        }
    }
    for group in groups.values().filter(|g| g.len() > 1) {
        let found: Vec<(&Pair, (u64, bool))> =
            group.iter().filter_map(|p| Some((p, *value_of.get(p)?))).collect();
        let split = found.windows(2).any(|w| w[0].1 != w[1].1);
        if split || found.iter().any(|(_, (v, abs))| *abs || *v == 0) {
            let shown: Vec<String> = found
                .iter()
                .map(|(p, (v, abs))| {
                    format!("{p} = {v:#x}{}", if *abs { " (absolute)" } else { "" })
                })
                .collect();
            problems.push(format!(
                "{file}: {} share one address in {}; ours: {}",
                show_pairs(group.iter()),
                libfuse.display(),
                shown.join(", ")
            ));
        }
    }
    problems
}

fn assert_matches_libfuse(ours_lib: &Path, libfuse: &Path) {
    let reference = Reference::load(&exports(&debian_lib()));
    let problems = compare_with_libfuse(ours_lib, libfuse, &reference.later);
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn so3_exports_debian_314s_versions() {
    assert_matches_libfuse(&our_libs()[0], &debian_lib());
}

#[test]
fn so4_exports_libfuse_3183s_versions() {
    assert_matches_libfuse(&our_libs()[1], &libfuse_318_lib());
}

/// The two images export the same, except for the names whose versions libfuse itself changed
/// between 3.14 and 3.18.3 (`fuse_new`, `fuse_session_custom_io`).
#[test]
fn both_sonames_differ_only_where_libfuse_does() {
    let libs = our_libs();
    let (so3, so4) = (by_name(&exports(&libs[0])), by_name(&exports(&libs[1])));
    let (old, new) = (by_name(&exports(&debian_lib())), by_name(&exports(&libfuse_318_lib())));
    let changed: BTreeSet<&String> =
        old.iter().filter(|(n, p)| new.get(*n).is_some_and(|q| q != *p)).map(|(n, _)| n).collect();
    assert!(!changed.is_empty(), "libfuse 3.14 and 3.18.3 should differ in some names' versions");
    let empty = BTreeSet::new();
    let mut problems = Vec::new();
    for name in so3.keys().chain(so4.keys()).collect::<BTreeSet<_>>() {
        let (a, b) = (so3.get(name).unwrap_or(&empty), so4.get(name).unwrap_or(&empty));
        if a != b && !changed.contains(name) {
            problems.push(format!(
                "{name}: libfuse3.so.3 exports {}, libfuse3.so.4 {}",
                show_pairs(a),
                show_pairs(b)
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the two libraries should differ only in {changed:?} (as libfuse 3.14 and 3.18.3 do):\n{}",
        problems.join("\n")
    );
}

#[test]
fn exports_cover_debian_and_libfuse_318() {
    let debian = exports(&debian_lib());
    let reference = Reference::load(&debian);
    let list_path = repo_root().join("tests/abi/symbols-missing.txt");
    let listed: Vec<(usize, String, String)> =
        if list_path.exists() { read_list(&list_path) } else { Vec::new() };
    let listed_names: BTreeSet<&str> = listed.iter().map(|(_, n, _)| n.as_str()).collect();

    let mut wrong_status = Vec::new();
    // name -> missing pairs (across both files)
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for lib in our_libs() {
        let file = lib.file_name().unwrap().to_string_lossy().into_owned();
        let ours: BTreeMap<(String, String), bool> =
            exports(&lib).iter().filter_map(Export::pair).map(|p| (p.key(), p.default)).collect();
        for want in &reference.required_for(&file) {
            match ours.get(&want.key()) {
                Some(&d) if d == want.default => {}
                Some(_) => wrong_status.push(format!(
                    "{file}: exports {} where {want} is expected{}",
                    Pair { default: !want.default, ..want.clone() },
                    if file == "libfuse3.so.3" && reference.debian.contains_key(&want.name) {
                        " (as Debian's 3.14.0 has it)"
                    } else if reference.status_318.contains_key(&want.key()) {
                        " (as libfuse 3.18.3 has it)"
                    } else {
                        " (as Debian's 3.14.0 has it)"
                    }
                )),
                None => {
                    missing.entry(want.name.clone()).or_default().insert(format!("{file}: {want}"));
                }
            }
        }
    }

    let unlisted: Vec<(&String, &BTreeSet<String>)> =
        missing.iter().filter(|(n, _)| !listed_names.contains(n.as_str())).collect();
    let stale: Vec<String> = listed
        .iter()
        .filter(|(_, n, _)| !missing.contains_key(n))
        .map(|(line, n, _)| format!("  {}:{line}: {n}", list_path.display()))
        .collect();

    if std::env::var_os("FERROFUSE_BLESS").is_some_and(|v| !v.is_empty() && v != "0") {
        let mut s = String::from(
            "# libfuse functions our libraries do not export yet (tests/symbols.rs).\n\
             # This list may only shrink: the test fails on a name that is now exported under every\n\
             # version it needs. Regenerate with FERROFUSE_BLESS=1.\n",
        );
        for n in missing.keys() {
            s.push_str(n);
            s.push('\n');
        }
        std::fs::write(&list_path, s)
            .unwrap_or_else(|e| panic!("writing {}: {e}", list_path.display()));
        println!("FERROFUSE_BLESS: wrote {} names to {}", missing.len(), list_path.display());
        assert!(wrong_status.is_empty(), "{}", wrong_status.join("\n"));
        return;
    }

    println!(
        "{} of {} required libfuse names are not (fully) exported yet; {} of them are listed in \
         tests/abi/symbols-missing.txt",
        missing.len(),
        reference.required.iter().map(|p| &p.name).collect::<BTreeSet<_>>().len(),
        missing.keys().filter(|n| listed_names.contains(n.as_str())).count()
    );
    let mut msg = String::new();
    if !wrong_status.is_empty() {
        let _ =
            writeln!(msg, "WRONG DEFAULT/NON-DEFAULT VERSION:\n  {}", wrong_status.join("\n  "));
    }
    if !unlisted.is_empty() {
        let _ = writeln!(
            msg,
            "MISSING ({} names; implement them, or while in progress list them in {}, or run with FERROFUSE_BLESS=1):",
            unlisted.len(),
            list_path.display()
        );
        for (n, pairs) in &unlisted {
            let _ =
                writeln!(msg, "  {n}: {}", pairs.iter().cloned().collect::<Vec<_>>().join(", "));
        }
    }
    if !stale.is_empty() {
        let _ = writeln!(msg, "NOW EXPORTED, remove from the list:\n{}", stale.join("\n"));
    }
    assert!(msg.is_empty(), "{msg}");
}

#[test]
fn version_nodes_match() {
    let debian_lib = debian_lib();
    let debian = exports(&debian_lib);
    let reference = Reference::load(&debian);
    let debian_defs = version_definitions(&debian_lib);
    assert!(debian_defs.len() > 1, "no version definitions read from {}", debian_lib.display());
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for lib in our_libs() {
        let file = lib.file_name().unwrap().to_string_lossy().into_owned();
        let defs = version_definitions(&lib);
        let want_soname = soname(&lib).unwrap_or_default();
        match defs.first() {
            Some((flags, name, _)) if flags == "0x01" && *name == want_soname => {}
            other => problems.push(format!(
                "{file}: the first version definition should be the base one named after the \
                 SONAME ({want_soname}), found {other:?}"
            )),
        }
        let ours: BTreeMap<&str, &Vec<String>> =
            defs.iter().skip(1).map(|(_, n, p)| (n.as_str(), p)).collect();
        for node in NODES {
            if !ours.contains_key(node) {
                problems.push(format!("{file}: version node {node} is not defined"));
            }
        }
        for (name, parents) in &ours {
            if !NODES.contains(name) {
                problems.push(format!("{file}: unexpected version node {name}"));
            }
            let expected: Vec<String> = match debian_defs.iter().skip(1).find(|(_, n, _)| n == name)
            {
                Some((_, _, p)) => p.clone(),
                None => match reference.parents.get(*name) {
                    Some(p) => p.iter().cloned().collect(),
                    None => {
                        problems.push(format!("{file}: no reference says what {name} inherits"));
                        continue;
                    }
                },
            };
            // rust-lld writes no parent entries (the version script's inheritance is accepted
            // but not recorded); ld.so never reads them, so a difference is a note, not a
            // failure. An inheritance that is recorded must be libfuse's.
            if parents.is_empty() && !expected.is_empty() {
                notes.push(format!(
                    "{file}: node {name} records no parent ({expected:?} in libfuse)"
                ));
            } else if **parents != expected {
                problems.push(format!(
                    "{file}: node {name} inherits {parents:?}, libfuse's inherits {expected:?}"
                ));
            }
        }
    }
    if !notes.is_empty() {
        eprintln!(
            "note: {} node(s) without parent records (rust-lld):\n{}",
            notes.len(),
            notes.join("\n")
        );
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}
