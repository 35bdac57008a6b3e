//! The little of C's `sscanf` that the built-in option tables need, reproduced in Rust: `%u`
//! as glibc converts it, and the `/dev/fd/N` mountpoint form.

/// C's `isspace` in the "C" locale.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Convert the start of `s` as glibc's `sscanf("%u")` does: leading white space, an optional
/// sign, then decimal digits, read with `strtoul` semantics (a minus sign negates modulo 2^64,
/// overflow gives `ULONG_MAX`) and cut to 32 bits. Returns the value and the number of bytes
/// consumed, or `None` when no digit follows (the conversion fails).
pub fn scan_u32(s: &[u8]) -> Option<(u32, usize)> {
    let mut i = s.iter().take_while(|&&c| is_c_space(c)).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: Option<u64> = Some(0);
    for &d in &s[i..i + digits] {
        v = v.and_then(|v| v.checked_mul(10)).and_then(|v| v.checked_add(u64::from(d - b'0')));
    }
    let v = match v {
        None => u64::MAX,
        Some(v) if neg => v.wrapping_neg(),
        Some(v) => v,
    };
    Some((v as u32, i + digits))
}

/// The file descriptor named by a mountpoint of the form `/dev/fd/N` (the whole string must be
/// that form, `N` read like `%u`), or `None`. A value that reads as -1 counts as no descriptor.
pub fn dev_fd(mountpoint: &[u8]) -> Option<i32> {
    let rest = mountpoint.strip_prefix(b"/dev/fd/")?;
    let (v, used) = scan_u32(rest)?;
    let fd = v as i32;
    (used == rest.len() && fd != -1).then_some(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_like_glibc() {
        assert_eq!(scan_u32(b"10"), Some((10, 2)));
        assert_eq!(scan_u32(b"  7x"), Some((7, 3)));
        assert_eq!(scan_u32(b"+5"), Some((5, 2)));
        assert_eq!(scan_u32(b"-1"), Some((u32::MAX, 2)));
        assert_eq!(scan_u32(b"4294967296"), Some((0, 10)));
        assert_eq!(scan_u32(b"99999999999999999999999"), Some((u32::MAX, 23)));
        assert_eq!(scan_u32(b""), None);
        assert_eq!(scan_u32(b"-"), None);
        assert_eq!(scan_u32(b" x"), None);
    }

    #[test]
    fn dev_fd_form() {
        assert_eq!(dev_fd(b"/dev/fd/3"), Some(3));
        assert_eq!(dev_fd(b"/dev/fd/ 3"), Some(3));
        assert_eq!(dev_fd(b"/dev/fd/-0"), Some(0));
        assert_eq!(dev_fd(b"/dev/fd/-1"), None);
        assert_eq!(dev_fd(b"/dev/fd/3x"), None);
        assert_eq!(dev_fd(b"/dev/fd/"), None);
        assert_eq!(dev_fd(b"/mnt"), None);
    }
}
