//! Mirrors <fuse_opt.h>: templates, argument vectors, key callbacks, on Rust byte strings.
//!
//! The engine here knows nothing about C memory. [`parse`] walks an input argument vector,
//! matches every argument (and every member of a `-o a,b,c` group) against a template table,
//! and reports what it finds to a [`Handler`]: integer and parameter stores, and calls of the
//! key callback. The rebuilt argument vector goes into an [`ArgVec`], which the C layer backs
//! with a `struct fuse_args` so that a C callback can see and change it while parsing runs.
//!
//! What libfuse does, and so what this does:
//! - `argv[0]` is copied first. A non-option (an argument not starting with `-`, or anything
//!   after `--`) goes to the callback with [`KEY_NONOPT`]. `--` itself is copied to the output
//!   and switches to non-option mode; if it ends up last it is dropped again.
//! - `-oLIST` and `-o LIST` are split at unescaped commas; `\x` stands for `x`, and `\ooo`
//!   (first digit 0 to 3) for an octal byte. Each member is matched like an option.
//! - Every matching template acts, in table order. With none, the callback gets [`KEY_OPT`].
//! - What the callback keeps (return value other than 0 and -1) is appended to the output: a
//!   plain argument at the end, a `-o` member to one collected option list (escaped again),
//!   which at the end goes to positions 1 and 2 as `-o LIST`.

pub mod cmdline;
pub mod scan;

/// Key for an option that matched no template.
pub const KEY_OPT: i32 = -1;
/// Key for a non-option argument.
pub const KEY_NONOPT: i32 = -2;
/// Template key: keep the argument without calling the callback.
pub const KEY_KEEP: i32 = -3;
/// Template key: drop the argument without calling the callback.
pub const KEY_DISCARD: i32 = -4;

/// Why parsing (or an argument-vector edit) failed. Every variant but `Callback` comes with
/// libfuse's log line; the callback already said what it had to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptError {
    /// The key callback returned -1.
    Callback,
    /// An option that takes the next argument came last.
    MissingArg(Vec<u8>),
    /// A parameter did not convert with the template's format.
    InvalidParam(Vec<u8>),
    /// Out of memory.
    Alloc,
    /// Anything else, with its complete log line.
    Other(Vec<u8>),
}

impl OptError {
    /// The `fuse: ...` line to log for this error (with its newline), if any.
    pub fn message(&self) -> Option<Vec<u8>> {
        let quoted = |head: &[u8], what: &[u8]| {
            let mut m = head.to_vec();
            m.extend_from_slice(what);
            m.extend_from_slice(b"'\n");
            m
        };
        match self {
            OptError::Callback => None,
            OptError::MissingArg(a) => Some(quoted(b"fuse: missing argument after `", a)),
            OptError::InvalidParam(a) => Some(quoted(b"fuse: invalid parameter in option `", a)),
            OptError::Alloc => Some(b"fuse: memory allocation failed\n".to_vec()),
            OptError::Other(m) => Some(m.clone()),
        }
    }
}

/// One template: `templ` and what to do on a match. `target` is `None` for a key template
/// (`FUSE_OPT_KEY`): then `value` is the key handed to the callback. Otherwise `value` is what
/// a template without a format stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptSpec<'a, T> {
    pub templ: &'a [u8],
    pub target: Option<T>,
    pub value: i32,
}

impl<'a, T> OptSpec<'a, T> {
    /// An entry that sets field `f` (to 1, or to the parsed value of a `%` template).
    pub const fn set(templ: &'a [u8], f: T) -> Self {
        OptSpec { templ, target: Some(f), value: 1 }
    }

    /// An entry that hands the matching argument to the callback with key `k`.
    pub const fn key(templ: &'a [u8], k: i32) -> Self {
        OptSpec { templ, target: None, value: k }
    }
}

/// Where an argument handed to the callback comes from. C callbacks sometimes keep the
/// pointer of a non-option, so the C layer passes the caller's own string for `Input`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSrc {
    /// Exactly the input argument with this index.
    Input(usize),
    /// A string built by the parser (an `-o` member, or `-x` joined with its parameter).
    Built,
}

/// An argument vector the parser can append to.
pub trait ArgVec {
    /// Number of arguments.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A copy of argument `i`.
    fn get(&self, i: usize) -> Option<Vec<u8>>;
    /// Append a copy of `arg`.
    fn push(&mut self, arg: &[u8]) -> Result<(), OptError>;
    /// Insert a copy of `arg` at `pos` (at most `len()`).
    fn insert(&mut self, pos: usize, arg: &[u8]) -> Result<(), OptError>;
    /// Drop the last argument.
    fn pop(&mut self);
}

impl ArgVec for Vec<Vec<u8>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn get(&self, i: usize) -> Option<Vec<u8>> {
        <[Vec<u8>]>::get(self, i).cloned()
    }
    fn push(&mut self, arg: &[u8]) -> Result<(), OptError> {
        Vec::push(self, arg.to_vec());
        Ok(())
    }
    fn insert(&mut self, pos: usize, arg: &[u8]) -> Result<(), OptError> {
        if pos > Vec::len(self) {
            let m = format!("fuse: no position {pos} in {} arguments\n", Vec::len(self));
            return Err(OptError::Other(m.into_bytes()));
        }
        Vec::insert(self, pos, arg.to_vec());
        Ok(())
    }
    fn pop(&mut self) {
        Vec::pop(self);
    }
}

/// What the parser reports to: the key callback and the stores into the caller's data.
pub trait Handler<A: ArgVec, T> {
    /// The key callback: `-1` is an error, `0` discards `arg`, anything else keeps it.
    /// With no callback, answer 1.
    fn call(&mut self, arg: &[u8], src: ArgSrc, key: i32, out: &mut A) -> i32;
    /// A template without a format matched `arg`: store `value` as an int.
    fn set_int(&mut self, target: &T, value: i32, arg: &[u8]) -> Result<(), OptError>;
    /// A template with a format matched. `format` starts with `%`; `%s` stores a copy of
    /// `param`, other formats convert as `sscanf(param, format, ...)` would. `arg` is the whole
    /// option, for the error ([`OptError::InvalidParam`]).
    fn set_param(
        &mut self,
        target: &T,
        format: &[u8],
        param: &[u8],
        arg: &[u8],
    ) -> Result<(), OptError>;
}

/// Where a template's parameter starts, if `templ` matches `arg`: `Some(sep)` with `sep` the
/// index of the template's `=` or ` ` when it matched as a prefix, `Some(0)` for an exact
/// match, `None` for no match.
///
/// A template with a parameter is one whose first `=` (or, lacking one, first space) ends the
/// template or is followed by a `%` format. Such a template matches every argument that starts
/// with the part before the separator (`=` included). Any template also matches itself.
pub fn match_template(templ: &[u8], arg: &[u8]) -> Option<usize> {
    let sep =
        templ.iter().position(|&c| c == b'=').or_else(|| templ.iter().position(|&c| c == b' '));
    if let Some(sep) = sep {
        let after = templ.get(sep + 1).copied();
        if after.is_none() || after == Some(b'%') {
            let tlen = if templ[sep] == b'=' { sep + 1 } else { sep };
            if arg.len() >= tlen && arg[..tlen] == templ[..tlen] {
                return Some(sep);
            }
        }
    }
    (templ == arg).then_some(0)
}

/// Whether any template in `specs` matches `opt` (`fuse_opt_match`).
pub fn matches<T>(specs: &[OptSpec<'_, T>], opt: &[u8]) -> bool {
    specs.iter().any(|s| match_template(s.templ, opt).is_some())
}

/// Append `opt` to a comma-separated list, `\`-escaping commas and backslashes if `escape`.
/// Like libfuse, no comma goes after an empty list, so adding to `""` just sets it.
pub fn add_opt(list: &mut Option<Vec<u8>>, opt: &[u8], escape: bool) {
    let l = list.get_or_insert_with(Vec::new);
    if !l.is_empty() {
        l.push(b',');
    }
    for &c in opt {
        if escape && (c == b',' || c == b'\\') {
            l.push(b'\\');
        }
        l.push(c);
    }
}

/// Split an option group (the text after `-o`) at unescaped commas, undoing the escapes.
/// An escaped `\000` yields a NUL, which ends that member as it would a C string.
pub fn split_group(group: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    let is_oct = |c: Option<&u8>, hi: u8| matches!(c, Some(&d) if (b'0'..=hi).contains(&d));
    while i < group.len() {
        let c = group[i];
        if c == b',' {
            out.push(std::mem::take(&mut cur));
        } else if c == b'\\' && i + 1 < group.len() {
            i += 1;
            if is_oct(group.get(i), b'3')
                && is_oct(group.get(i + 1), b'7')
                && is_oct(group.get(i + 2), b'7')
            {
                let v = (group[i] - b'0') * 64 + (group[i + 1] - b'0') * 8 + (group[i + 2] - b'0');
                cur.push(v);
                i += 2;
            } else {
                cur.push(group[i]);
            }
        } else {
            cur.push(c);
        }
        i += 1;
    }
    out.push(cur);
    for m in &mut out {
        if let Some(nul) = m.iter().position(|&c| c == 0) {
            m.truncate(nul);
        }
    }
    out
}

/// Parse `input` (`input[0]` being the program name) against `specs`, rebuilding the kept
/// arguments into `out`, which should start empty. An empty `input` leaves `out` alone.
///
/// On error, `out` holds whatever was built so far; the caller throws it away.
pub fn parse<A: ArgVec, T, H: Handler<A, T>>(
    input: &[Vec<u8>],
    specs: &[OptSpec<'_, T>],
    handler: &mut H,
    out: &mut A,
) -> Result<(), OptError> {
    let mut p = Parser { input, specs, handler, out, argctr: 0, opts: None, nonopt: 0 };
    p.run()
}

struct Parser<'p, 's, A, T, H> {
    input: &'p [Vec<u8>],
    specs: &'p [OptSpec<'s, T>],
    handler: &'p mut H,
    out: &'p mut A,
    /// Index of the input argument being looked at.
    argctr: usize,
    /// The `-o` members kept so far, escaped, comma-separated.
    opts: Option<Vec<u8>>,
    /// Output length right after `--` was copied; 0 before any `--`.
    nonopt: usize,
}

impl<A: ArgVec, T, H: Handler<A, T>> Parser<'_, '_, A, T, H> {
    fn run(&mut self) -> Result<(), OptError> {
        let Some(prog) = self.input.first() else { return Ok(()) };
        self.out.push(prog)?;
        self.argctr = 1;
        while self.argctr < self.input.len() {
            self.one(self.argctr)?;
            self.argctr += 1;
        }
        if let Some(opts) = self.opts.take() {
            self.out.insert(1, b"-o")?;
            self.out.insert(2, &opts)?;
        }
        // A trailing `--` goes again. The position was recorded before the `-o LIST` insertion,
        // so with kept `-o` options it stays (libfuse does the same).
        let n = self.out.len();
        if self.nonopt != 0 && self.nonopt == n && self.out.get(n - 1).as_deref() == Some(b"--") {
            self.out.pop();
        }
        Ok(())
    }

    /// Take the next input argument as the parameter of `opt`.
    fn next_arg(&mut self, opt: &[u8]) -> Result<usize, OptError> {
        if self.argctr + 1 >= self.input.len() {
            return Err(OptError::MissingArg(opt.to_vec()));
        }
        self.argctr += 1;
        Ok(self.argctr)
    }

    fn one(&mut self, idx: usize) -> Result<(), OptError> {
        let input = self.input;
        let arg = &input[idx];
        if self.nonopt != 0 || arg.first() != Some(&b'-') {
            return self.call_proc(arg, ArgSrc::Input(idx), KEY_NONOPT, false);
        }
        match arg.get(1) {
            Some(b'o') => {
                if arg.len() > 2 {
                    self.group(&arg[2..])
                } else {
                    let next = self.next_arg(arg)?;
                    self.group(&input[next])
                }
            }
            Some(b'-') if arg.len() == 2 => {
                self.out.push(arg)?;
                self.nonopt = self.out.len();
                Ok(())
            }
            _ => self.gopt(arg, ArgSrc::Input(idx), false),
        }
    }

    fn group(&mut self, group: &[u8]) -> Result<(), OptError> {
        for member in split_group(group) {
            self.gopt(&member, ArgSrc::Built, true)?;
        }
        Ok(())
    }

    /// Act on every template matching `arg`, or hand it to the callback as [`KEY_OPT`].
    fn gopt(&mut self, arg: &[u8], src: ArgSrc, iso: bool) -> Result<(), OptError> {
        let specs = self.specs;
        let mut any = false;
        for spec in specs {
            let Some(sep) = match_template(spec.templ, arg) else { continue };
            any = true;
            if sep != 0 && spec.templ[sep] == b' ' && arg.len() == sep {
                // "-x %s" given as "-x" "param": join them into "-xparam".
                let next = self.next_arg(arg)?;
                let mut joined = arg[..sep].to_vec();
                joined.extend_from_slice(&self.input[next]);
                self.act(spec, sep, &joined, ArgSrc::Built, iso)?;
            } else {
                self.act(spec, sep, arg, src, iso)?;
            }
        }
        if any { Ok(()) } else { self.call_proc(arg, src, KEY_OPT, iso) }
    }

    fn act(
        &mut self,
        spec: &OptSpec<'_, T>,
        sep: usize,
        arg: &[u8],
        src: ArgSrc,
        iso: bool,
    ) -> Result<(), OptError> {
        let Some(target) = &spec.target else {
            return self.call_proc(arg, src, spec.value, iso);
        };
        if sep != 0 && spec.templ.len() > sep + 1 {
            let skip = if spec.templ[sep] == b'=' { sep + 1 } else { sep };
            let param = arg.get(skip..).unwrap_or_default();
            self.handler.set_param(target, &spec.templ[sep + 1..], param, arg)
        } else {
            self.handler.set_int(target, spec.value, arg)
        }
    }

    fn call_proc(&mut self, arg: &[u8], src: ArgSrc, key: i32, iso: bool) -> Result<(), OptError> {
        if key == KEY_DISCARD {
            return Ok(());
        }
        if key != KEY_KEEP {
            match self.handler.call(arg, src, key, self.out) {
                -1 => return Err(OptError::Callback),
                0 => return Ok(()),
                _ => {}
            }
        }
        if iso {
            add_opt(&mut self.opts, arg, true);
            Ok(())
        } else {
            self.out.push(arg)
        }
    }
}

#[cfg(test)]
mod tests;
