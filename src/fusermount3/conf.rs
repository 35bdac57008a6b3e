//! Mirrors fusermount3's reading of `/etc/fuse.conf`: `user_allow_other` and `mount_max = N`.
//!
//! The path is fixed: a setuid helper takes no configuration from its caller.

/// The configuration file's path, as messages name it.
pub const FUSE_CONF: &str = "/etc/fuse.conf";

/// fusermount3's default limit on the number of FUSE mounts.
const DEFAULT_MOUNT_MAX: i64 = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conf {
    pub user_allow_other: bool,
    /// -1: no limit.
    pub mount_max: i64,
}

impl Default for Conf {
    fn default() -> Self {
        Conf { user_allow_other: false, mount_max: DEFAULT_MOUNT_MAX }
    }
}

/// Parse the file's text. Returns the settings and the warnings to print (without the program
/// name): unknown lines, bad values, over-long lines, a missing final newline.
pub fn parse(text: &[u8]) -> (Conf, Vec<String>) {
    let mut conf = Conf::default();
    let mut warnings = Vec::new();
    let mut lines = text.split(|&b| b == b'\n').peekable();
    let mut linenum = 0;
    while let Some(raw) = lines.next() {
        linenum += 1;
        let last = lines.peek().is_none();
        if last {
            if !raw.is_empty() {
                warnings.push(format!("reading {FUSE_CONF}: missing newline at end of file"));
            }
            break;
        }
        // fusermount3 reads lines into a 256-byte buffer and skips longer ones.
        if raw.len() + 1 >= 256 {
            warnings.push(format!("reading {FUSE_CONF}: line {linenum} too long"));
            continue;
        }
        let line = raw.split(|&b| b == b'#').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "user_allow_other" {
            conf.user_allow_other = true;
        } else if let Some(v) = parse_mount_max(line) {
            match v {
                Some(n) if n >= -1 => conf.mount_max = n,
                Some(n) => warnings
                    .push(format!("invalid mount_max = {n} in {FUSE_CONF} at line {linenum}")),
                None => warnings
                    .push(format!("unknown parameter in {FUSE_CONF} at line {linenum}: '{line}'")),
            }
        } else {
            warnings.push(format!("unknown parameter in {FUSE_CONF} at line {linenum}: '{line}'"));
        }
    }
    (conf, warnings)
}

/// `mount_max = N` with any spacing around `=`; N in C's `%i` forms (decimal, 0x hex, 0 octal).
/// None: not a mount_max line; Some(None): a mount_max line with no number.
fn parse_mount_max(line: &str) -> Option<Option<i64>> {
    let rest = line.strip_prefix("mount_max")?;
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let (neg, digits) = match rest.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, rest.strip_prefix('+').unwrap_or(rest)),
    };
    let (radix, body) = if let Some(h) = digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
        (16, h)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    let end = body.find(|c: char| !c.is_digit(radix)).unwrap_or(body.len());
    let n = i64::from_str_radix(&body[..end], radix).ok().filter(|n| *n <= i64::from(i32::MAX));
    Some(n.map(|n| if neg { -n } else { n }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings() {
        let (c, w) = parse(b"# comment\nuser_allow_other\n  mount_max = 3  # three\n");
        assert_eq!(c, Conf { user_allow_other: true, mount_max: 3 });
        assert!(w.is_empty(), "{w:?}");
        let (c, _) = parse(b"mount_max=0x10\n");
        assert_eq!(c.mount_max, 16);
        let (c, _) = parse(b"mount_max = -1\n");
        assert_eq!(c.mount_max, -1);
    }

    #[test]
    fn warnings() {
        let (c, w) = parse(b"bogus\nmount_max = -5\nuser_allow_other");
        assert_eq!(c, Conf::default());
        assert_eq!(
            w,
            [
                "unknown parameter in /etc/fuse.conf at line 1: 'bogus'",
                "invalid mount_max = -5 in /etc/fuse.conf at line 2",
                "reading /etc/fuse.conf: missing newline at end of file",
            ]
        );
    }
}
