//! Unit tests of the engine, with a recording handler over plain vectors.

use super::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Stored {
    Int(i32),
    Param(Vec<u8>, Vec<u8>),
}

/// Records every callback call and store; answers the callback from `answer`.
struct Rec {
    calls: Vec<(String, i32, ArgSrc)>,
    stores: BTreeMap<u32, Stored>,
    answer: fn(&[u8], i32, &mut Vec<Vec<u8>>) -> i32,
}

impl Rec {
    fn new() -> Self {
        Rec { calls: Vec::new(), stores: BTreeMap::new(), answer: |_, _, _| 1 }
    }
}

impl Handler<Vec<Vec<u8>>, u32> for Rec {
    fn call(&mut self, arg: &[u8], src: ArgSrc, key: i32, out: &mut Vec<Vec<u8>>) -> i32 {
        self.calls.push((String::from_utf8_lossy(arg).into_owned(), key, src));
        (self.answer)(arg, key, out)
    }
    fn set_int(&mut self, target: &u32, value: i32, _arg: &[u8]) -> Result<(), OptError> {
        self.stores.insert(*target, Stored::Int(value));
        Ok(())
    }
    fn set_param(
        &mut self,
        target: &u32,
        format: &[u8],
        param: &[u8],
        arg: &[u8],
    ) -> Result<(), OptError> {
        if param == b"bad" {
            return Err(OptError::InvalidParam(arg.to_vec()));
        }
        self.stores.insert(*target, Stored::Param(format.to_vec(), param.to_vec()));
        Ok(())
    }
}

fn v(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

fn s(templ: &'static str, target: u32, value: i32) -> OptSpec<'static, u32> {
    OptSpec { templ: templ.as_bytes(), target: Some(target), value }
}

fn k(templ: &'static str, key: i32) -> OptSpec<'static, u32> {
    OptSpec { templ: templ.as_bytes(), target: None, value: key }
}

fn run(
    args: &[&str],
    specs: &[OptSpec<'static, u32>],
    h: &mut Rec,
) -> (Result<(), OptError>, Vec<Vec<u8>>) {
    let mut out = Vec::new();
    let r = parse(&v(args), specs, h, &mut out);
    (r, out)
}

#[test]
fn template_matching() {
    assert_eq!(match_template(b"-x", b"-x"), Some(0));
    assert_eq!(match_template(b"-x", b"-xy"), None);
    assert_eq!(match_template(b"foo", b"foo"), Some(0));
    assert_eq!(match_template(b"foo=", b"foo=1"), Some(3));
    assert_eq!(match_template(b"foo=", b"foo"), None);
    assert_eq!(match_template(b"foo=%s", b"foo="), Some(3));
    assert_eq!(match_template(b"foo=%s", b"foobar"), None);
    assert_eq!(match_template(b"foo=bar", b"foo=bar"), Some(0));
    assert_eq!(match_template(b"foo=bar", b"foo=baz"), None);
    assert_eq!(match_template(b"-x ", b"-x"), Some(2));
    assert_eq!(match_template(b"-x %u", b"-x12"), Some(2));
    assert_eq!(match_template(b"-x y", b"-x y"), Some(0));
    assert_eq!(match_template(b"-x y", b"-xy"), None);
    // The first '=' decides, even if a space comes earlier.
    assert_eq!(match_template(b"a b=%s", b"a b=1"), Some(3));
    assert_eq!(match_template(b"", b""), Some(0));
}

#[test]
fn groups_split_and_unescape() {
    assert_eq!(split_group(b"a,b"), v(&["a", "b"]));
    assert_eq!(split_group(b"a\\,b,c"), v(&["a,b", "c"]));
    assert_eq!(split_group(b"a\\\\b"), v(&["a\\b"]));
    assert_eq!(split_group(b"\\101\\7"), v(&["A7"]));
    assert_eq!(split_group(b"\\400"), v(&["400"]));
    assert_eq!(split_group(b"x\\000y,z"), v(&["x", "z"]));
    assert_eq!(split_group(b"tail\\"), v(&["tail\\"]));
    assert_eq!(split_group(b""), v(&[""]));
    assert_eq!(split_group(b",a,,"), v(&["", "a", "", ""]));
}

#[test]
fn add_opt_lists() {
    let mut l = None;
    add_opt(&mut l, b"a,b", true);
    add_opt(&mut l, b"c\\d", true);
    add_opt(&mut l, b"e,f", false);
    assert_eq!(l.as_deref(), Some(&b"a\\,b,c\\\\d,e,f"[..]));
    let mut e = None;
    add_opt(&mut e, b"", false);
    assert_eq!(e.as_deref(), Some(&b""[..]));
    add_opt(&mut e, b"x", false);
    assert_eq!(e.as_deref(), Some(&b"x"[..]));
}

#[test]
fn stores_and_keys() {
    let specs = [
        s("-f", 1, 7),
        s("--bar=%s", 2, 0),
        s("size=%u", 3, 0),
        s("-n %i", 4, 0),
        k("keyed", 42),
        k("-k", KEY_KEEP),
        k("drop", KEY_DISCARD),
        s("flag", 5, 3),
        s("flag", 6, 4),
    ];
    let mut h = Rec::new();
    let (r, out) = run(
        &["p", "-f", "--bar=hi", "-n", "12", "-n3", "-oflag,keyed,drop,size=9,other", "x", "-k"],
        &specs,
        &mut h,
    );
    assert_eq!(r, Ok(()));
    assert_eq!(out, v(&["p", "-o", "keyed,other", "x", "-k"]));
    assert_eq!(h.stores[&1], Stored::Int(7));
    assert_eq!(h.stores[&2], Stored::Param(b"%s".to_vec(), b"hi".to_vec()));
    assert_eq!(h.stores[&3], Stored::Param(b"%u".to_vec(), b"9".to_vec()));
    assert_eq!(h.stores[&4], Stored::Param(b"%i".to_vec(), b"3".to_vec()));
    assert_eq!(h.stores[&5], Stored::Int(3));
    assert_eq!(h.stores[&6], Stored::Int(4));
    let calls: Vec<_> = h.calls.iter().map(|(a, k, _)| (a.as_str(), *k)).collect();
    assert_eq!(calls, [("keyed", 42), ("other", KEY_OPT), ("x", KEY_NONOPT)]);
    assert_eq!(h.calls[2].2, ArgSrc::Input(7));
}

#[test]
fn separate_parameter_is_joined() {
    let specs = [k("-x ", 9)];
    let mut h = Rec::new();
    let (r, out) = run(&["p", "-x", "val", "-xinline"], &specs, &mut h);
    assert_eq!(r, Ok(()));
    assert_eq!(out, v(&["p", "-xval", "-xinline"]));
    assert_eq!(h.calls[0], ("-xval".into(), 9, ArgSrc::Built));
    assert_eq!(h.calls[1], ("-xinline".into(), 9, ArgSrc::Input(3)));
}

#[test]
fn missing_arguments() {
    let mut h = Rec::new();
    let (r, _) = run(&["p", "-x"], &[k("-x ", 1)], &mut h);
    assert_eq!(r, Err(OptError::MissingArg(b"-x".to_vec())));
    let (r, _) = run(&["p", "-o"], &[], &mut h);
    assert_eq!(r, Err(OptError::MissingArg(b"-o".to_vec())));
    assert_eq!(
        OptError::MissingArg(b"-o".to_vec()).message().unwrap(),
        b"fuse: missing argument after `-o'\n"
    );
}

#[test]
fn bad_parameter_stops() {
    let mut h = Rec::new();
    let (r, _) = run(&["p", "-ov=bad", "after"], &[s("v=%u", 1, 0)], &mut h);
    assert_eq!(r, Err(OptError::InvalidParam(b"v=bad".to_vec())));
    assert!(h.calls.is_empty());
    assert_eq!(
        OptError::InvalidParam(b"v=bad".to_vec()).message().unwrap(),
        b"fuse: invalid parameter in option `v=bad'\n"
    );
}

#[test]
fn callback_answers() {
    let mut h = Rec::new();
    h.answer = |arg, _, _| match arg {
        b"drop" => 0,
        b"fail" => -1,
        b"two" => 2,
        _ => -7,
    };
    let (r, out) = run(&["p", "drop", "two", "odd", "-odrop,two"], &[], &mut h);
    assert_eq!(r, Ok(()));
    assert_eq!(out, v(&["p", "-o", "two", "two", "odd"]));
    let (r, _) = run(&["p", "fail", "never"], &[], &mut h);
    assert_eq!(r, Err(OptError::Callback));
    assert_eq!(h.calls.last().unwrap().0, "fail");
}

#[test]
fn callback_edits_output() {
    let mut h = Rec::new();
    h.answer = |_, _, out| {
        out.push(b"added".to_vec());
        0
    };
    let (r, out) = run(&["p", "a"], &[], &mut h);
    assert_eq!(r, Ok(()));
    assert_eq!(out, v(&["p", "added"]));
}

#[test]
fn double_dash() {
    let mut h = Rec::new();
    let (_, out) = run(&["p", "--", "-f", "--"], &[s("-f", 1, 1)], &mut h);
    assert_eq!(out, v(&["p", "--", "-f", "--"]));
    assert!(h.stores.is_empty());
    assert_eq!(h.calls[0], ("-f".into(), KEY_NONOPT, ArgSrc::Input(2)));

    let (_, out) = run(&["p", "a", "--"], &[], &mut Rec::new());
    assert_eq!(out, v(&["p", "a"]));
    // With kept -o options, the trailing "--" stays.
    let (_, out) = run(&["p", "-ox", "--"], &[], &mut Rec::new());
    assert_eq!(out, v(&["p", "-o", "x", "--"]));
}

#[test]
fn empty_members_and_lists() {
    let (_, out) = run(&["p", "-o", ""], &[], &mut Rec::new());
    assert_eq!(out, v(&["p", "-o", ""]));
    let (_, out) = run(&["p", "-o", ",a,,b"], &[], &mut Rec::new());
    assert_eq!(out, v(&["p", "-o", "a,,b"]));
    let (_, out) = run(&["p", "-o", "a\\,b", "-oc\\\\"], &[], &mut Rec::new());
    assert_eq!(out, v(&["p", "-o", "a\\,b,c\\\\"]));
}

#[test]
fn only_program_name_and_empty_input() {
    let (r, out) = run(&["p"], &[], &mut Rec::new());
    assert_eq!((r, out), (Ok(()), v(&["p"])));
    let (r, out) = run(&[], &[], &mut Rec::new());
    assert_eq!((r, out), (Ok(()), Vec::<Vec<u8>>::new()));
}

#[test]
fn matches_any() {
    let specs = [s("foo=%s", 0, 0), k("-x", 1)];
    assert!(matches(&specs, b"foo=1"));
    assert!(matches(&specs, b"-x"));
    assert!(!matches(&specs, b"-y"));
    assert!(!matches::<u32>(&[], b"-x"));
}
