//! Build steps that cargo cannot express on its own:
//! 1. compile the C shim (the variadic `fuse_log`, version-node symbols);
//! 2. link the cdylib as `libfuse3.so.4` with libfuse's symbol version nodes and 3.17+'s
//!    versions of the names whose default changed then (`build/image_symbols.rs`);
//! 3. generate `include/fuse3/*.h` with cbindgen from `src/capi/*.rs`, spliced into the
//!    hand-written frames in `include/parts/*.h.in`;
//! 4. leave `libfuse3.so.3`, `libfuse3.so.4` and `fuse3.pc` beside the built library.

#[path = "build/cbindgen_expand.rs"]
mod cbindgen_expand;
#[path = "build/image_symbols.rs"]
mod image_symbols;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// One generated header: its frame, and the Rust files whose items it declares.
struct Header {
    name: &'static str,
    sources: &'static [&'static str],
    /// Items that C defines by hand in the frame (bitfields, va_list typedefs).
    exclude: &'static [&'static str],
}

const HEADERS: &[Header] = &[
    Header { name: "libfuse_config.h", sources: &["src/capi/libfuse_config.rs"], exclude: &[] },
    Header { name: "fuse_opt.h", sources: &["src/capi/fuse_opt.rs"], exclude: &[] },
    Header {
        name: "fuse_log.h",
        sources: &["src/log.rs", "src/capi/fuse_log.rs"],
        exclude: &["fuse_log_func_t", "VaListTag"],
    },
    Header {
        name: "fuse_common.h",
        sources: &["src/capi/fuse_common.rs"],
        exclude: &["fuse_loop_config_v1"],
    },
    Header {
        name: "fuse_lowlevel.h",
        sources: &[
            "src/capi/fuse_lowlevel.rs",
            "src/capi/ll_reply.rs",
            "src/capi/ll_session.rs",
            "src/capi/ll_notify.rs",
            "src/capi/cmdline.rs",
        ],
        // Declared by hand in the frame (static inline wrapper or versioned alias).
        exclude: &[
            "fuse_session_new",
            "fuse_session_custom_io_30",
            "fuse_session_loop_mt_31",
            "fuse_session_loop_mt_32",
            "fuse_session_loop_mt_312",
        ],
    },
    Header {
        name: "fuse.h",
        sources: &["src/capi/fuse.rs", "src/capi/hl_fs.rs"],
        // Declared by hand in the frame (static inline wrappers, versioned aliases).
        exclude: &[
            "fuse_new_30",
            "fuse_new_31",
            "fuse_main_real",
            "fuse_loop_mt_31",
            "fuse_loop_mt_32",
            "fuse_loop_mt_312",
        ],
    },
    Header {
        name: "cuse_lowlevel.h",
        sources: &["src/capi/cuse_lowlevel.rs"],
        // The 3.0 entry points: C reaches them through the frame's inline wrappers' names.
        exclude: &["cuse_lowlevel_new", "cuse_lowlevel_setup", "cuse_lowlevel_main"],
    },
    Header { name: "fuse_daemonize.h", sources: &["src/capi/fuse_daemonize.rs"], exclude: &[] },
    Header {
        name: "fuse_service.h",
        sources: &["src/capi/fuse_service.rs"],
        // fuse.h declares it, with its inline wrapper.
        exclude: &["fuse_service_main_real_versioned"],
    },
];

/// C spellings of types that a header uses but does not define itself.
const FOREIGN_TYPES: &[(&str, &str)] = &[
    ("stat", "struct stat"),
    ("statvfs", "struct statvfs"),
    ("statx", "struct statx"),
    ("flock", "struct flock"),
    ("iovec", "struct iovec"),
    // Written by hand in the fuse_common.h frame: its name depends on FUSE_USE_VERSION.
    ("fuse_loop_config_v1", "struct fuse_loop_config_v1"),
    // C passes OR-ed flag values; Rust takes them as a plain int (capi/abi.rs).
    ("BufCopyFlags", "enum fuse_buf_copy_flags"),
    ("ReaddirFlags", "enum fuse_readdir_flags"),
    ("FillDirFlags", "enum fuse_fill_dir_flags"),
    ("timespec", "struct timespec"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));

    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/capi");
    println!("cargo:rerun-if-changed=src/log.rs");
    println!("cargo:rerun-if-changed=include/parts");
    println!("cargo:rerun-if-changed=build");
    println!("cargo::rustc-check-cfg=cfg(fuse_api_35)");
    println!("cargo::rustc-check-cfg=cfg(fuse_api_312)");
    println!("cargo::rustc-check-cfg=cfg(fuse_api_319)");
    // The Rust side always has the newest API level; the headers choose by FUSE_USE_VERSION.
    println!("cargo:rustc-cfg=fuse_api_35");
    println!("cargo:rustc-cfg=fuse_api_312");
    println!("cargo:rustc-cfg=fuse_api_319");

    // 1. fuse_log(level, fmt, ...) and the version-node symbols: linked whole, so that both
    //    cdylibs keep them although no Rust code refers to them.
    cc::Build::new()
        .file("src/capi/shim.c")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .link_lib_modifier("+whole-archive")
        .compile("ferrofuse_shim");

    // 2. Applies to this package's own links (the cdylib, and test binaries, where it is
    //    harmless); unlike rustc-cdylib-link-arg it does not leak into abi3/'s link. The
    //    version script and the aliases only this image has (image_symver!) come from
    //    build/image_symbols.rs.
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    image_symbols::link_args(&manifest.join("src/capi"), "so4", &out);
    println!("cargo:rerun-if-changed=build/image_symbols.rs");
    println!("cargo:rustc-link-arg=-Wl,-soname,libfuse3.so.4");

    // 3. Headers.
    for h in HEADERS {
        let text = generate_header(&manifest, h);
        write_if_changed(&manifest.join("include/fuse3").join(h.name), &text);
    }

    // 4. The library directory: target/<profile>/ (OUT_DIR is target/<profile>/build/<pkg>/out).
    if let Some(libdir) = out.ancestors().nth(3) {
        let _ = fs::create_dir_all(libdir);
        symlink(libdir, "libfuse3.so.4", "libfuse3.so");
        symlink(libdir, "libfuse3.so.3", "libfuse3_abi3.so");
        let pc = pkg_config(&manifest.join("include"), libdir);
        write_if_changed(&libdir.join("fuse3.pc"), &pc);
    }
}

/// The pkg-config file, also used (with other paths) by `install.sh`.
fn pkg_config(includedir: &Path, libdir: &Path) -> String {
    format!(
        "# ferrofuse: libfuse3 in Rust\n\
         includedir={}\n\
         libdir={}\n\
         \n\
         Name: fuse3\n\
         Description: Filesystem in Userspace (ferrofuse, a Rust implementation)\n\
         Version: 3.19.0\n\
         URL: https://github.com/libfuse/libfuse\n\
         Libs: -L${{libdir}} -lfuse3\n\
         Libs.private: -lpthread -ldl\n\
         Cflags: -I${{includedir}}/fuse3\n",
        includedir.display(),
        libdir.display()
    )
}

fn symlink(dir: &Path, name: &str, target: &str) {
    let link = dir.join(name);
    if fs::read_link(&link).map(|t| t == Path::new(target)).unwrap_or(false) {
        return;
    }
    let _ = fs::remove_file(&link);
    if let Err(e) = std::os::unix::fs::symlink(target, &link) {
        println!("cargo:warning=cannot create {}: {e}", link.display());
    }
}

fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).map(|old| old == text).unwrap_or(false) {
        return;
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("create header directory");
    }
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Splice cbindgen's output into the frame `include/parts/<name>.in`: `@TYPES@` receives the
/// constants, enums, structs and typedefs, `@FUNCTIONS@` the prototypes.
fn generate_header(manifest: &Path, h: &Header) -> String {
    let frame_path = manifest.join("include/parts").join(format!("{}.in", h.name));
    let frame = fs::read_to_string(&frame_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", frame_path.display()));
    let types = cbindgen_items(manifest, h, false);
    let functions = cbindgen_items(manifest, h, true);
    let text =
        frame.replace("@TYPES@", types.trim_end()).replace("@FUNCTIONS@", functions.trim_end());
    c_literal_types(&cfg_field_semicolons(&text))
}

/// cbindgen closes a `#[cfg]`-guarded struct field with `#endif` and only then its `;`, which
/// leaves an empty declaration when the field is compiled out (`-pedantic` rejects it). Move
/// the semicolon inside the guard.
fn cfg_field_semicolons(text: &str) -> String {
    text.replace(")\n#endif\n  ;\n", ");\n#endif\n")
}

/// cbindgen spells every u64 shift as `1ull << n`; libfuse's capability macros are
/// `unsigned long` below bit 32 (`1UL << n`) and `unsigned long long` above. Keep the C types
/// identical, since they show in printf format checks.
fn c_literal_types(text: &str) -> String {
    text.lines()
        .map(|line| {
            let Some(rest) = line.strip_prefix("#define FUSE_CAP_") else {
                return line.to_string();
            };
            let Some((name, expr)) = rest.split_once(' ') else { return line.to_string() };
            let bit = expr
                .strip_prefix("(1ull << ")
                .and_then(|b| b.strip_suffix(')'))
                .and_then(|b| b.parse::<u32>().ok());
            match bit {
                Some(b) if b < 32 => format!("#define FUSE_CAP_{name} (1UL << {b})"),
                Some(b) => format!("#define FUSE_CAP_{name} (1ULL << {b})"),
                None => line.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn cbindgen_items(manifest: &Path, h: &Header, functions: bool) -> String {
    use cbindgen::{Builder, Config, ItemType, Language, Style};

    let mut config = Config {
        language: Language::C,
        style: Style::Tag,
        no_includes: true,
        cpp_compat: false,
        documentation: true,
        documentation_style: cbindgen::DocumentationStyle::Doxy,
        usize_is_size_t: true,
        sort_by: cbindgen::SortKey::None,
        ..Config::default()
    };
    config.include_guard = None;
    config.autogen_warning = None;
    config.export.item_types = if functions {
        vec![ItemType::Functions]
    } else {
        vec![
            ItemType::Constants,
            ItemType::Globals,
            ItemType::Enums,
            ItemType::Structs,
            ItemType::Unions,
            ItemType::Typedefs,
            ItemType::OpaqueItems,
        ]
    };
    config.export.exclude = h.exclude.iter().map(|s| s.to_string()).collect();
    // cbindgen emits only what exported functions reach; a header declares all its types.
    config.export.include = defined_names(manifest, h)
        .into_iter()
        .filter(|n| !h.exclude.contains(&n.as_str()))
        .collect();
    let mut rename: BTreeMap<String, String> = BTreeMap::new();
    for (rust, c) in FOREIGN_TYPES {
        rename.insert(rust.to_string(), c.to_string());
    }
    // Types defined by another of our headers are spelled with their tag here.
    let defined_here = defined_names(manifest, h);
    for other in HEADERS.iter().filter(|o| o.name != h.name) {
        for name in tag_names(manifest, other) {
            if !defined_here.contains(&name) {
                let tag = if other.name == "fuse_log.h" || name.ends_with("_flags") {
                    "enum"
                } else {
                    "struct"
                };
                rename.insert(name.clone(), format!("{tag} {name}"));
            }
        }
    }
    config.export.rename = rename.into_iter().collect();
    config.defines = [
        ("fuse_api_35".to_string(), "FUSE__API_35".to_string()),
        ("fuse_api_312".to_string(), "FUSE__API_312".to_string()),
        ("fuse_api_319".to_string(), "FUSE__API_319".to_string()),
    ]
    .into_iter()
    .collect();

    let mut builder = Builder::new().with_config(config);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    for src in h.sources {
        let path = manifest.join(src);
        if path.exists() {
            builder = builder.with_src(cbindgen_expand::source_for_cbindgen(&path, &out));
        }
    }
    let bindings = builder.generate().unwrap_or_else(|e| panic!("cbindgen for {}: {e}", h.name));
    let mut buf = Vec::new();
    bindings.write(&mut buf);
    String::from_utf8(buf).expect("cbindgen writes UTF-8")
}

/// Names of the types a header's Rust sources define: the `pub struct X`, `pub enum X` and
/// `pub type X` items whose name is a libfuse C name (lower case).
fn defined_names(manifest: &Path, h: &Header) -> Vec<String> {
    let mut names = Vec::new();
    for src in h.sources {
        let Ok(text) = fs::read_to_string(manifest.join(src)) else { continue };
        for line in text.lines() {
            let line = line.trim_start();
            for kw in ["pub struct ", "pub enum ", "pub type "] {
                if let Some(rest) = line.strip_prefix(kw) {
                    let name: String =
                        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
                        names.push(name);
                    }
                }
            }
        }
    }
    names
}

/// The struct and enum names among [`defined_names`]: C spells these with their tag.
fn tag_names(manifest: &Path, h: &Header) -> Vec<String> {
    let typedefs: Vec<String> = h
        .sources
        .iter()
        .filter_map(|src| fs::read_to_string(manifest.join(src)).ok())
        .flat_map(|text| {
            text.lines()
                .filter_map(|l| l.trim_start().strip_prefix("pub type "))
                .map(|rest| rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect())
                .collect::<Vec<String>>()
        })
        .collect();
    defined_names(manifest, h).into_iter().filter(|n| !typedefs.contains(n)).collect()
}
