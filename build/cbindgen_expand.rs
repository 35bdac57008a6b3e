//! What cbindgen cannot see: cbindgen reads our sources without expanding macros, so the
//! `fuse_fs_*` calls that `src/capi/hl_fs.rs` defines with `fs_ops! { ... }` are written out
//! here as plain functions (signature and documentation, empty bodies) for it to read. The
//! documentation is the one `fs_ops!` gives them; keep the two in step.

use std::path::{Path, PathBuf};

/// One `fs_ops!` entry: `[/// doc...] "NODE" export = op(params) [-> R] [, else 0];`.
fn expand_entry(entry: &str) -> String {
    let mut docs: Vec<&str> = Vec::new();
    let mut code = String::new();
    for line in entry.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.strip_prefix("///") {
            Some(d) => docs.push(d.strip_prefix(' ').unwrap_or(d)),
            None => {
                code.push_str(line);
                code.push(' ');
            }
        }
    }
    let bad = || panic!("fs_ops! entry not understood: {entry}");
    let after_node = code.trim().strip_prefix('"').and_then(|c| c.split_once('"')).map(|x| x.1);
    let Some((name, rest)) = after_node.and_then(|c| c.split_once('=')) else { bad() };
    let Some((op, rest)) = rest.split_once('(') else { bad() };
    let Some((params, tail)) = rest.split_once(')') else { bad() };
    let (name, op, tail) = (name.trim(), op.trim(), tail.trim());
    let zero = tail.ends_with(", else 0");
    let tail = tail.trim_end_matches(", else 0").trim();
    let ret = tail.strip_prefix("->").map_or("c_int", str::trim);
    let params: Vec<&str> = params.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();

    let mut out = String::new();
    if docs.is_empty() {
        let none = if zero { " (0 when it has none)" } else { "" };
        out.push_str(&format!("/// Runs the filesystem's `{op}`{none}.\n"));
        out.push_str("///\n/// # Safety\n");
        out.push_str(
            "/// `fs` is a live `struct fuse_fs`; the other pointers are what the operation \
             expects.\n",
        );
    }
    for d in docs {
        out.push_str(if d.is_empty() { "///\n" } else { "/// " });
        if !d.is_empty() {
            out.push_str(d);
            out.push('\n');
        }
    }
    out.push_str(&format!(
        "#[unsafe(no_mangle)]\npub unsafe extern \"C\" fn {name}(fs: *mut fuse_fs, {}) -> {ret} {{}}\n",
        params.join(", ")
    ));
    out
}

/// `text` with its `fs_ops! { ... }` block (at the start of a line, closed by a `}` line)
/// replaced by the functions it defines; None when it has none.
fn expand(text: &str) -> Option<String> {
    let start = text.find("\nfs_ops! {\n")? + 1;
    let body_start = start + "fs_ops! {\n".len();
    let end = body_start + text[body_start..].find("\n}\n")?;
    let mut out = text[..start].to_string();
    // An entry ends with the code line that ends in `;` (documentation may hold `;` too).
    let mut entry = String::new();
    for line in text[body_start..end].lines() {
        entry.push_str(line);
        entry.push('\n');
        let code = !line.trim_start().starts_with("///");
        if code && line.trim_end().ends_with(';') {
            out.push_str(&expand_entry(entry.trim_end().trim_end_matches(';')));
            entry.clear();
        }
    }
    assert!(entry.trim().is_empty(), "fs_ops! entry without its `;`: {entry}");
    out.push_str(&text[end + "\n}\n".len()..]);
    Some(out)
}

/// The file cbindgen should read for `src`: `src` itself, or its expansion under `out_dir`.
pub fn source_for_cbindgen(src: &Path, out_dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    let Some(expanded) = expand(&text) else { return src.to_path_buf() };
    let dir = out_dir.join("cbindgen");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let path = dir.join(src.file_name().expect("a file"));
    std::fs::write(&path, expanded).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}
