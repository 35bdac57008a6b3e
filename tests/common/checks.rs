//! Recording what the checks of one run came to, so that a run on ours can be compared with the
//! same run on Debian's libfuse check by check.

use super::mount::with_timeout;
use std::time::Duration;

/// What one check came to; ours must come to the same as the reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A system call failed with this errno.
    Errno(i32),
    /// Calls succeeded but the results were wrong.
    Wrong,
    /// No answer in time: the mount hung.
    Hung,
    /// The daemon never mounted (it exited first, or took too long).
    NoMount,
    /// After `fusermount3 -u` the daemon ended with this status (not exit 0).
    Exit(String),
}

#[derive(Clone, Debug)]
pub struct Record {
    pub check: &'static str,
    pub outcome: Outcome,
    pub detail: String,
}

/// A failed check: errno from a call, or wrong data.
pub struct Fail(pub Outcome, pub String);

impl From<std::io::Error> for Fail {
    fn from(e: std::io::Error) -> Fail {
        match e.raw_os_error() {
            Some(n) => Fail(Outcome::Errno(n), e.to_string()),
            None => Fail(Outcome::Wrong, e.to_string()),
        }
    }
}

pub type Check = Result<(), Fail>;

pub fn wrong(msg: String) -> Fail {
    Fail(Outcome::Wrong, msg)
}

pub fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Check {
    if got == want { Ok(()) } else { Err(wrong(format!("{what}: got {got:?}, want {want:?}"))) }
}

/// Collects the records of one run, each check under its own deadline; after a hang the rest
/// are not attempted.
pub struct Recorder {
    pub records: Vec<Record>,
    hung: bool,
    timeout: Duration,
}

impl Recorder {
    pub fn new(timeout: Duration) -> Recorder {
        Recorder { records: Vec::new(), hung: false, timeout }
    }

    pub fn check(&mut self, name: &'static str, f: impl FnOnce() -> Check + Send + 'static) {
        if self.hung {
            self.records.push(Record {
                check: name,
                outcome: Outcome::Hung,
                detail: "not run: an earlier check hung".into(),
            });
            return;
        }
        let (outcome, detail) = match with_timeout(name, self.timeout, f) {
            Ok(Ok(())) => (Outcome::Ok, String::new()),
            Ok(Err(Fail(o, d))) => (o, d),
            Err(e) => {
                self.hung = true;
                (Outcome::Hung, e)
            }
        };
        self.records.push(Record { check: name, outcome, detail });
    }
}

/// The records as an aligned table, a line each.
pub fn table(records: &[Record]) -> String {
    let width = records.iter().map(|r| r.check.len()).max().unwrap_or(0);
    records
        .iter()
        .map(|r| format!("  {:<width$} {:?} {}\n", r.check, r.outcome, r.detail))
        .collect()
}
