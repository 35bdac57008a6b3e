//! Symbol versions that differ between our two images, for `build.rs` (`libfuse3.so.4`) and
//! `abi3/build.rs` (`libfuse3.so.3`), which both include this file.
//!
//! Most exports carry the same versions in both images: `symver!` puts them into the shared
//! rlib's objects. A few names changed their default version in libfuse 3.17 (3.14 has
//! `fuse_new@@FUSE_3.1`, 3.17+ has only `fuse_new@FUSE_3.1`), so the one rlib cannot carry
//! them. Those are written next to their function as
//! `crate::image_symver!(impl, so3 = "name@@NODE", so4 = "name@NODE")`; this file reads them
//! from `src/capi/*.rs` and makes, per image:
//! - a version script: `src/capi/fuse3.map` with each default alias's name listed in its node;
//! - a linker script that defines each alias at its function's address (`"name" = impl` for a
//!   default version, `"name@NODE" = impl` for an older one). The package's test and helper
//!   executables are linked with the same arguments (cargo has no cdylib-only link argument
//!   that stays out of abi3/'s link) and may not contain the function: there the alias is 0.
//!   `tests/symbols.rs` checks that in the libraries each alias has its function's address.
//!
//! Only the linker can alias a symbol another object defines, so these aliases are not
//! `.symver` directives; unlike those, they show a size of 0 in `objdump -T`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One `image_symver!` alias for one image.
#[derive(Debug)]
struct Alias {
    imp: String,
    name: String,
    node: String,
    default: bool,
    at: String,
}

/// The invocations' text: everything between `image_symver!(` and its `)`, per file, for
/// invocations that start a line (not doc comments).
fn invocations(capi: &Path) -> Vec<(String, String)> {
    let mut files: Vec<PathBuf> = fs::read_dir(capi)
        .unwrap_or_else(|e| panic!("read {}: {e}", capi.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap_or_else(|e| panic!("read {}: {e}", f.display()));
        let mut rest = text.as_str();
        while let Some(i) = rest.find("image_symver!(") {
            let line_start = rest[..i].rfind('\n').map_or(0, |n| n + 1);
            let before = rest[line_start..i].trim_start();
            let after = &rest[i + "image_symver!(".len()..];
            let end = after.find(')').unwrap_or_else(|| {
                panic!("{}: unterminated image_symver!(", f.display());
            });
            if before.is_empty() || before == "crate::" {
                out.push((f.display().to_string(), after[..end].to_string()));
            }
            rest = &after[end..];
        }
    }
    out
}

/// The aliases `image` ("so3" or "so4") gets, checked against the nodes of `fuse3.map`.
fn aliases(capi: &Path, image: &str, nodes: &[String]) -> Vec<Alias> {
    let mut out: Vec<Alias> = Vec::new();
    for (file, args) in invocations(capi) {
        let mut parts = args.split(',').map(str::trim).filter(|s| !s.is_empty());
        let imp = parts.next().unwrap_or_else(|| panic!("{file}: image_symver! without a name"));
        for part in parts {
            let (img, lit) = part.split_once('=').unwrap_or_else(|| {
                panic!("{file}: image_symver!({imp}, ...): expected IMAGE = \"...\"")
            });
            let img = img.trim();
            assert!(img == "so3" || img == "so4", "{file}: unknown image `{img}` for {imp}");
            if img != image {
                continue;
            }
            let lit = lit.trim().trim_matches('"');
            let (name, node, default) = if let Some((n, v)) = lit.split_once("@@") {
                (n, v, true)
            } else if let Some((n, v)) = lit.split_once('@') {
                (n, v, false)
            } else {
                panic!("{file}: {imp}: `{lit}` is not NAME@NODE or NAME@@NODE")
            };
            assert!(nodes.iter().any(|x| x == node), "{file}: {imp}: no version node {node}");
            let clash =
                out.iter().find(|a| a.name == name && (a.node == node || (a.default && default)));
            if let Some(a) = clash {
                panic!("{file}: {imp}: {lit} clashes with {}'s alias in {}", a.imp, a.at);
            }
            out.push(Alias {
                imp: imp.to_string(),
                name: name.to_string(),
                node: node.to_string(),
                default,
                at: file.clone(),
            });
        }
    }
    out
}

/// Writes `fuse3-<image>.map` and `aliases-<image>.ld` into `out_dir` and returns their paths.
/// `capi` is `src/capi`, holding `fuse3.map` and the Rust sources.
pub fn write_link_files(capi: &Path, image: &str, out_dir: &Path) -> (PathBuf, PathBuf) {
    let soname = match image {
        "so3" => "libfuse3.so.3",
        "so4" => "libfuse3.so.4",
        other => panic!("unknown image {other}"),
    };
    let map_src = capi.join("fuse3.map");
    let map =
        fs::read_to_string(&map_src).unwrap_or_else(|e| panic!("read {}: {e}", map_src.display()));
    // Node lines look like `FUSE_3.1 { } FUSE_3.0;`.
    let nodes: Vec<String> = map
        .lines()
        .filter(|l| l.contains("{ }"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(!nodes.is_empty(), "{}: no version nodes", map_src.display());
    let aliases = aliases(capi, image, &nodes);

    let mut listed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in aliases.iter().filter(|a| a.default) {
        listed.entry(a.node.as_str()).or_default().push(a.name.as_str());
    }
    let mut version_script = format!(
        "/* Generated by build/image_symbols.rs for {soname}: src/capi/fuse3.map with the\n \
         * names this image's linker script defines under their default version. */\n"
    );
    for line in map.lines() {
        let node = line.split_whitespace().next().unwrap_or("");
        match listed.get(node) {
            Some(names) if line.contains("{ }") => {
                let names: String = names.iter().map(|n| format!("{n}; ")).collect();
                version_script.push_str(&line.replacen("{ }", &format!("{{ {names}}}"), 1));
            }
            _ => version_script.push_str(line),
        }
        version_script.push('\n');
    }

    let mut script = format!(
        "/* Generated by build/image_symbols.rs: the symbol versions only {soname} has\n \
         * (the image_symver! entries in src/capi). */\n"
    );
    for a in &aliases {
        let (lhs, version) = if a.default {
            (a.name.clone(), format!("{}@@{}", a.name, a.node))
        } else {
            (format!("{}@{}", a.name, a.node), format!("{}@{}", a.name, a.node))
        };
        script.push_str(&format!(
            "\"{lhs}\" = DEFINED({imp}) ? {imp} : 0;  /* {version} */\n",
            imp = a.imp
        ));
    }

    let map_out = out_dir.join(format!("fuse3-{image}.map"));
    let ld_out = out_dir.join(format!("aliases-{image}.ld"));
    for (path, text) in [(&map_out, &version_script), (&ld_out, &script)] {
        if fs::read_to_string(path).map(|old| old != *text).unwrap_or(true) {
            fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }
    (map_out, ld_out)
}

/// The cargo instructions that link an image with these files.
pub fn link_args(capi: &Path, image: &str, out_dir: &Path) {
    let (map, ld) = write_link_files(capi, image, out_dir);
    println!("cargo:rustc-link-arg=-Wl,--version-script={}", map.display());
    println!("cargo:rustc-link-arg=-Wl,{}", ld.display());
    println!("cargo:rerun-if-changed={}", capi.display());
}
