//! Directory entry packing: `fuse_add_direntry` and `fuse_add_direntry_plus` called the way
//! readdir callbacks call them (size probe with NULL, then pack into what is left), with
//! arbitrary names, offsets, attributes and buffer sizes. The packed buffer is decoded back
//! and must hold exactly the entries that were accepted; no byte past the buffer is touched.
//!
//! Input: byte 0 picks plain or plus entries; bytes 1..3 the buffer size; then records of
//! 8 bytes (offset) + 4 (mode) + 8 (ino) + a NUL-terminated name.
#![no_main]

use std::ffi::CString;

use fuse3::capi::fuse_lowlevel::fuse_entry_param;
use fuse3::capi::ll_reply::{fuse_add_direntry, fuse_add_direntry_plus};
use fuse3::kernel::{FUSE_NAME_OFFSET, FUSE_NAME_OFFSET_DIRENTPLUS, fuse_rec_align};
use libfuzzer_sys::fuzz_target;

#[path = "../common/mod.rs"]
mod common;

const CANARY: u8 = 0xa5;
const NAME_MAX: usize = 255;

struct Entry {
    name: Vec<u8>,
    off: u64,
    ino: u64,
    mode: u32,
}

fn take<const N: usize>(d: &mut &[u8]) -> Option<[u8; N]> {
    if d.len() < N {
        return None;
    }
    let (a, b) = d.split_at(N);
    *d = b;
    Some(a.try_into().expect("N bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fuzz_target!(|data: &[u8]| {
    common::quiet();
    let mut d = data;
    let Some([mode_byte]) = take::<1>(&mut d) else { return };
    let Some(sz) = take::<2>(&mut d) else { return };
    let plus = mode_byte & 1 != 0;
    let bufsize = u16::from_le_bytes(sz) as usize;
    let mut entries = Vec::new();
    while entries.len() < 256 {
        let (Some(off), Some(mode), Some(ino)) =
            (take::<8>(&mut d), take::<4>(&mut d), take::<8>(&mut d))
        else {
            break;
        };
        let end = d.iter().position(|&b| b == 0).unwrap_or(d.len());
        let name = d[..end].to_vec();
        d = &d[(end + 1).min(d.len())..];
        entries.push(Entry {
            name,
            off: u64::from_le_bytes(off),
            ino: u64::from_le_bytes(ino),
            mode: u32::from_le_bytes(mode),
        });
    }

    // The buffer, followed by canary bytes the packer must never write.
    let mut buf = vec![CANARY; bufsize + 64];
    let mut used = 0usize;
    let mut packed: Vec<&Entry> = Vec::new();
    for e in &entries {
        let name = CString::new(e.name.clone()).expect("no NUL inside");
        // SAFETY: a zeroed stat / entry is a valid value of the C struct.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        st.st_ino = e.ino;
        st.st_mode = e.mode;
        // SAFETY: as above.
        let mut ep: fuse_entry_param = unsafe { std::mem::zeroed() };
        ep.ino = e.ino;
        ep.attr = st;
        ep.entry_timeout = 1.0;
        let rem = bufsize - used;
        let p = buf[used..].as_mut_ptr().cast::<libc::c_char>();
        // SAFETY: NULL buffer (size probe) or `rem` writable bytes of `buf`; a valid name,
        // stat and entry; a NULL request is allowed for entries.
        let (probe, n) = unsafe {
            if plus {
                (
                    fuse_add_direntry_plus(
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        0,
                        name.as_ptr(),
                        &ep,
                        e.off as i64,
                    ),
                    fuse_add_direntry_plus(
                        std::ptr::null_mut(),
                        p,
                        rem,
                        name.as_ptr(),
                        &ep,
                        e.off as i64,
                    ),
                )
            } else {
                (
                    fuse_add_direntry(
                        std::ptr::null_mut(),
                        std::ptr::null_mut(),
                        0,
                        name.as_ptr(),
                        &st,
                        e.off as i64,
                    ),
                    fuse_add_direntry(
                        std::ptr::null_mut(),
                        p,
                        rem,
                        name.as_ptr(),
                        &st,
                        e.off as i64,
                    ),
                )
            }
        };
        assert_eq!(probe, n, "probe and pack disagree");
        let legal = !e.name.is_empty() && e.name.len() <= NAME_MAX;
        if !legal {
            // A name the kernel would refuse is never packed.
            assert_eq!(n, 0, "illegal name of {} bytes packed", e.name.len());
            continue;
        }
        let base = if plus { FUSE_NAME_OFFSET_DIRENTPLUS } else { FUSE_NAME_OFFSET };
        assert_eq!(n, fuse_rec_align(base + e.name.len()));
        if n > rem {
            break; // what a readdir callback does: the entry did not fit
        }
        used += n;
        packed.push(e);
    }
    assert!(buf[bufsize..].iter().all(|&b| b == CANARY), "wrote past the buffer");
    assert!(buf[used..bufsize].iter().all(|&b| b == CANARY), "wrote past the packed entries");

    // Decode what was packed, the way the kernel walks it.
    let mut at = 0;
    for e in packed {
        let (dirent, base) =
            if plus { (at + 128, FUSE_NAME_OFFSET_DIRENTPLUS) } else { (at, FUSE_NAME_OFFSET) };
        if plus {
            assert_eq!(u64_at(&buf, at), e.ino, "entry_out.nodeid");
        }
        assert_eq!(u64_at(&buf, dirent), e.ino, "ino");
        assert_eq!(u64_at(&buf, dirent + 8), e.off, "off");
        let namelen = u32_at(&buf, dirent + 16) as usize;
        assert_eq!(namelen, e.name.len(), "namelen");
        assert_eq!(u32_at(&buf, dirent + 20), (e.mode & libc::S_IFMT) >> 12, "type");
        assert_eq!(&buf[at + base..at + base + namelen], &e.name[..], "name");
        let end = at + fuse_rec_align(base + namelen);
        assert!(buf[at + base + namelen..end].iter().all(|&b| b == 0), "padding not zero");
        at = end;
    }
    assert_eq!(at, used);
});
