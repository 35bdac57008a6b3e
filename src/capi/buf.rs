//! Mirrors libfuse's buffer.c: `fuse_buf_size` and `fuse_buf_copy` over C `fuse_bufvec`s,
//! whose element stride depends on the ABI (40-byte `fuse_buf` before 3.17, 48 after).

use std::ffi::c_void;

use super::abi::{BUF_FD_RETRY, BUF_FD_SEEK, BUF_IS_FD, BUF_SIZE_PRE_317, Buf};
use super::fuse_common::fuse_bufvec;

/// Header of a `fuse_bufvec` (count, idx, off); the buffers follow.
#[repr(C)]
struct VecHead {
    count: usize,
    idx: usize,
    off: usize,
}

/// Zeroed, page-aligned memory: what a file opened with O_DIRECT can be read into or written
/// from (libfuse's copies use page-aligned memory for the same reason).
pub struct AlignedBuf {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

const ALIGN: usize = 4096;

impl AlignedBuf {
    /// `len` zero bytes (at least one page, so the pointer is always real).
    pub fn zeroed(len: usize) -> AlignedBuf {
        let len = len.max(ALIGN);
        let layout = std::alloc::Layout::from_size_align(len, ALIGN).expect("valid layout");
        // SAFETY: the layout has a non-zero size.
        let p = unsafe { std::alloc::alloc_zeroed(layout) };
        let Some(ptr) = std::ptr::NonNull::new(p) else { std::alloc::handle_alloc_error(layout) };
        AlignedBuf { ptr, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `ptr` owns `len` initialised (zeroed) bytes, borrowed mutably through self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        let layout = std::alloc::Layout::from_size_align(self.len, ALIGN).expect("valid layout");
        // SAFETY: allocated in `zeroed` with this very layout.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), layout) };
    }
}

// SAFETY: AlignedBuf owns its memory exclusively, like a Vec<u8>.
unsafe impl Send for AlignedBuf {}

fn stride() -> usize {
    if super::image_pre_317() { BUF_SIZE_PRE_317 } else { std::mem::size_of::<Buf>() }
}

/// Read element `i` of a C bufvec (only the fields every ABI has).
///
/// # Safety
/// `v` is a valid bufvec with more than `i` elements.
unsafe fn elem(v: *const fuse_bufvec, i: usize) -> Buf {
    // SAFETY: the caller's contract; the first element sits right after the header and the
    // fields read lie within the first 40 bytes of every element in both layouts.
    unsafe {
        let p = v.cast::<u8>().add(std::mem::size_of::<VecHead>() + i * stride());
        let mut b =
            Buf { size: 0, flags: 0, mem: std::ptr::null_mut(), fd: -1, pos: 0, mem_size: 0 };
        std::ptr::copy_nonoverlapping(p, (&raw mut b).cast::<u8>(), BUF_SIZE_PRE_317);
        b
    }
}

/// Total size of a bufvec, saturating.
///
/// # Safety
/// `v` is a valid bufvec.
pub unsafe fn buf_size(v: *const fuse_bufvec) -> usize {
    // SAFETY: the caller's contract.
    let head = unsafe { &*v.cast::<VecHead>() };
    let mut size = 0usize;
    for i in 0..head.count {
        // SAFETY: i < count.
        let b = unsafe { elem(v, i) };
        if b.size >= usize::MAX - size {
            return usize::MAX;
        }
        size += b.size;
    }
    size
}

/// The loop libfuse runs for one fd transfer: call `step(done)` for the part from byte `done`
/// on, until `len` bytes moved, end of file, an error, or (without `retry`) after one call.
/// Returns the bytes moved, or -errno if the first call failed.
fn transfer(len: usize, retry: bool, mut step: impl FnMut(usize) -> Result<usize, i32>) -> isize {
    let mut copied = 0usize;
    while copied < len {
        match step(copied) {
            Err(e) if copied == 0 => return -(e as isize),
            Err(_) | Ok(0) => break,
            Ok(n) => {
                copied += n;
                if !retry {
                    break;
                }
            }
        }
    }
    copied as isize
}

/// # Safety
/// `src.mem + src_off .. + len` is readable; `dst.fd` is the caller's fd.
unsafe fn write_fd(dst: &Buf, dst_off: usize, src: &Buf, src_off: usize, len: usize) -> isize {
    transfer(len, dst.flags & BUF_FD_RETRY != 0, |done| {
        // SAFETY: the caller's contract on src memory; done < len.
        let data = unsafe {
            std::slice::from_raw_parts(src.mem.cast::<u8>().add(src_off + done), len - done)
        };
        if dst.flags & BUF_FD_SEEK != 0 {
            crate::sys::pwrite_fd(dst.fd, data, dst.pos + (dst_off + done) as i64)
        } else {
            crate::sys::write_fd(dst.fd, data)
        }
    })
}

/// # Safety
/// `dst.mem + dst_off .. + len` is writable; `src.fd` is the caller's fd.
unsafe fn read_fd(dst: &Buf, dst_off: usize, src: &Buf, src_off: usize, len: usize) -> isize {
    transfer(len, src.flags & BUF_FD_RETRY != 0, |done| {
        // SAFETY: the caller's contract on dst memory; done < len.
        let out = unsafe {
            std::slice::from_raw_parts_mut(dst.mem.cast::<u8>().add(dst_off + done), len - done)
        };
        if src.flags & BUF_FD_SEEK != 0 {
            crate::sys::pread_fd(src.fd, out, src.pos + (src_off + done) as i64)
        } else {
            crate::sys::read_fd(src.fd, out)
        }
    })
}

/// # Safety
/// Both fds are the caller's.
unsafe fn fd_to_fd(
    dst: &Buf,
    mut dst_off: usize,
    src: &Buf,
    mut src_off: usize,
    mut len: usize,
) -> isize {
    let mut tmp = AlignedBuf::zeroed(64 * 1024);
    let t = Buf {
        size: tmp.len(),
        flags: 0,
        mem: tmp.as_mut_slice().as_mut_ptr().cast::<c_void>(),
        fd: -1,
        pos: 0,
        mem_size: tmp.len(),
    };
    let mut copied = 0usize;
    while len > 0 {
        let this = len.min(tmp.len());
        // SAFETY: `t` is our buffer of at least `this` bytes.
        let res = unsafe { read_fd(&t, 0, src, src_off, this) };
        if res < 0 {
            if copied == 0 {
                return res;
            }
            break;
        }
        if res == 0 {
            break;
        }
        // SAFETY: `t` holds `res` bytes just read.
        let w = unsafe { write_fd(dst, dst_off, &t, 0, res as usize) };
        if w < 0 {
            if copied == 0 {
                return w;
            }
            break;
        }
        if w == 0 {
            break;
        }
        copied += w as usize;
        if (w as usize) < this {
            break;
        }
        dst_off += w as usize;
        src_off += w as usize;
        len -= w as usize;
    }
    copied as isize
}

/// # Safety
/// As for `fuse_buf_copy`: the buffers' memory and fds are valid for the offsets and length.
unsafe fn copy_one(dst: &Buf, dst_off: usize, src: &Buf, src_off: usize, len: usize) -> isize {
    let src_fd = src.flags & BUF_IS_FD != 0;
    let dst_fd = dst.flags & BUF_IS_FD != 0;
    // SAFETY: forwarded contract, for all branches.
    unsafe {
        match (src_fd, dst_fd) {
            (false, false) => {
                let d = dst.mem.cast::<u8>().add(dst_off);
                let s = src.mem.cast::<u8>().add(src_off);
                if d.cast_const() != s {
                    std::ptr::copy(s, d, len);
                }
                len as isize
            }
            (false, true) => write_fd(dst, dst_off, src, src_off, len),
            (true, false) => read_fd(dst, dst_off, src, src_off, len),
            (true, true) => fd_to_fd(dst, dst_off, src, src_off, len),
        }
    }
}

/// Advance a bufvec by `len`; false when it is used up.
///
/// # Safety
/// `v` is a valid, writable bufvec.
unsafe fn advance(v: *mut fuse_bufvec, len: usize) -> bool {
    // SAFETY: the caller's contract.
    let head = unsafe { &mut *v.cast::<VecHead>() };
    if head.idx >= head.count {
        return false;
    }
    // SAFETY: idx < count.
    let cur = unsafe { elem(v, head.idx) };
    head.off += len;
    if head.off >= cur.size {
        head.idx += 1;
        if head.idx == head.count {
            return false;
        }
        head.off = 0;
    }
    true
}

/// Copy data between two bufvecs (libfuse's `fuse_buf_copy`). Returns bytes copied or -errno.
///
/// # Safety
/// Both are valid, writable bufvecs whose memory buffers hold their stated sizes.
pub unsafe fn buf_copy(dstv: *mut fuse_bufvec, srcv: *mut fuse_bufvec) -> isize {
    if dstv == srcv {
        // SAFETY: the caller's contract.
        return unsafe { buf_size(dstv) } as isize;
    }
    let mut copied = 0usize;
    loop {
        // SAFETY: the caller's contract.
        let (sh, dh) = unsafe { (&*srcv.cast::<VecHead>(), &*dstv.cast::<VecHead>()) };
        if sh.idx >= sh.count || dh.idx >= dh.count {
            break;
        }
        // SAFETY: indices checked just above.
        let (src, dst) = unsafe { (elem(srcv, sh.idx), elem(dstv, dh.idx)) };
        let (soff, doff) = (sh.off, dh.off);
        let len = src.size.saturating_sub(soff).min(dst.size.saturating_sub(doff));
        // SAFETY: the caller's contract covers each buffer's stated size.
        let res = unsafe { copy_one(&dst, doff, &src, soff, len) };
        if res < 0 {
            if copied == 0 {
                return res;
            }
            break;
        }
        copied += res as usize;
        // SAFETY: the caller's contract.
        if !unsafe { advance(srcv, res as usize) } || !unsafe { advance(dstv, res as usize) } {
            break;
        }
        if (res as usize) < len {
            break;
        }
    }
    copied as isize
}

/// Free a `malloc`ed bufvec a filesystem handed over (its `read_buf` result): the memory of every
/// memory buffer, then the vector, as libfuse does.
///
/// # Safety
/// `v` is NULL or a `malloc`ed bufvec whose memory buffers are `malloc`ed, not used afterwards.
pub unsafe fn free_bufvec(v: *mut fuse_bufvec) {
    if v.is_null() {
        return;
    }
    // SAFETY: the caller's contract.
    let head = unsafe { &*v.cast::<VecHead>() };
    for i in 0..head.count {
        // SAFETY: i < count.
        let b = unsafe { elem(v, i) };
        if b.flags & BUF_IS_FD == 0 && !b.mem.is_null() {
            // SAFETY: malloc'd by the filesystem, by the contract.
            unsafe { libc::free(b.mem) };
        }
    }
    // SAFETY: as above.
    unsafe { libc::free(v.cast()) };
}

/// A `malloc`ed one-element bufvec over `size` bytes of `malloc`ed memory at `mem`, for
/// [`free_bufvec`]. Room for the 3.17+ element covers both layouts.
///
/// # Safety
/// `mem` is `malloc`ed (ownership passes to the vector).
pub unsafe fn alloc_mem_bufvec(mem: *mut c_void, size: usize) -> Option<*mut fuse_bufvec> {
    let v = super::abi::BufVec1::mem(mem, size);
    // SAFETY: a fresh allocation of the vector's size.
    let p = unsafe { libc::malloc(std::mem::size_of::<super::abi::BufVec1>()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` holds a BufVec1.
    unsafe { p.cast::<super::abi::BufVec1>().write(v) };
    Some(p.cast())
}

/// Copy a bufvec's data (from its current position) into `out`; returns the bytes copied.
///
/// # Safety
/// `srcv` is a valid bufvec.
pub unsafe fn gather_into(srcv: *mut fuse_bufvec, out: &mut [u8]) -> Result<usize, i32> {
    let total = out.len();
    let mut dst = super::abi::BufVec1 {
        count: 1,
        idx: 0,
        off: 0,
        buf: [Buf {
            size: total,
            flags: 0,
            mem: out.as_mut_ptr().cast(),
            fd: -1,
            pos: 0,
            mem_size: total,
        }],
    };
    // The destination is ours and has the 3.17+ layout, but `buf_copy` reads elements with the
    // caller's stride: a one-element vector only uses element 0, identical in both layouts.
    // SAFETY: `dst` is a valid one-element bufvec over `out`; `srcv` is the caller's.
    let n = unsafe { buf_copy((&raw mut dst).cast(), srcv) };
    if n < 0 { Err(-n as i32) } else { Ok(n as usize) }
}

thread_local! {
    /// Per-thread buffer replies are gathered into: reused, so answering costs no allocation.
    static SCRATCH: std::cell::RefCell<Option<AlignedBuf>> = const { std::cell::RefCell::new(None) };
}

/// Buffers up to this size stay with the thread between replies.
const SCRATCH_KEEP: usize = 2 << 20;

/// Copy a bufvec's data (from its current position) into page-aligned memory and hand it to
/// `f`.
///
/// # Safety
/// `srcv` is a valid bufvec.
pub unsafe fn with_gathered<R>(
    srcv: *mut fuse_bufvec,
    f: impl FnOnce(Result<&[u8], i32>) -> R,
) -> R {
    // SAFETY: the caller's contract.
    let total = unsafe { buf_size(srcv) }.min(1 << 30);
    // Inside a loop's request processing, the receive buffer's unused tail is free memory.
    let mut f = Some(f);
    let in_place = crate::session::spare_reply_buffer(total, |buf| {
        // SAFETY: forwarded contract; `buf` has at least `total` bytes.
        let r = unsafe { gather_into(srcv, &mut buf[..total]) };
        (f.take().expect("called once"))(r.map(|n| &buf[..n]))
    });
    if let Some(r) = in_place {
        return r;
    }
    let f = f.expect("not called");
    SCRATCH.with(|cell| {
        let mut own = None;
        let mut kept = cell.try_borrow_mut().ok().filter(|_| total <= SCRATCH_KEEP);
        let slot: &mut Option<AlignedBuf> = match kept.as_deref_mut() {
            Some(b) => b,
            None => &mut own,
        };
        if slot.as_ref().is_none_or(|b| b.len() < total) {
            // Kept buffers start at 64 KiB so small replies do not regrow them step by step.
            let size = if total <= SCRATCH_KEEP { total.max(64 * 1024) } else { total };
            *slot = Some(AlignedBuf::zeroed(size));
        }
        let buf = slot.as_mut().expect("set above").as_mut_slice();
        // SAFETY: forwarded contract; `buf` has at least `total` bytes.
        let r = unsafe { gather_into(srcv, &mut buf[..total]) };
        f(r.map(|n| &buf[..n]))
    })
}

/// A bufvec's data (from its current position) as splice pieces, or None when some element
/// is not usable that way (memory missing).
///
/// # Safety
/// `srcv` is a valid bufvec whose memory elements stay valid while the pieces are used.
pub unsafe fn splice_pieces<'a>(
    srcv: *const fuse_bufvec,
) -> Option<Vec<crate::session::splice::Piece<'a>>> {
    use crate::session::splice::Piece;
    // SAFETY: the caller's contract.
    let head = unsafe { &*srcv.cast::<VecHead>() };
    let mut out = Vec::with_capacity(head.count.saturating_sub(head.idx));
    let mut off = head.off;
    for i in head.idx..head.count {
        // SAFETY: i < count.
        let b = unsafe { elem(srcv, i) };
        let len = b.size.checked_sub(off)?;
        if len > 0 {
            if b.flags & BUF_IS_FD != 0 {
                let pos = if b.flags & BUF_FD_SEEK != 0 {
                    Some(b.pos.checked_add(i64::try_from(off).ok()?)?)
                } else {
                    None
                };
                out.push(Piece::Fd { fd: b.fd, pos, len });
            } else {
                if b.mem.is_null() {
                    return None;
                }
                // SAFETY: the caller's memory holds `size` bytes; off <= size.
                out.push(Piece::Mem(unsafe {
                    std::slice::from_raw_parts(b.mem.cast::<u8>().add(off), len)
                }));
            }
        }
        off = 0;
    }
    Some(out)
}

/// Whether any element of the bufvec (from its current position) is a file descriptor.
///
/// # Safety
/// `srcv` is a valid bufvec.
pub unsafe fn has_fd(srcv: *const fuse_bufvec) -> bool {
    // SAFETY: the caller's contract.
    let head = unsafe { &*srcv.cast::<VecHead>() };
    // SAFETY: i < count.
    (head.idx..head.count).any(|i| unsafe { elem(srcv, i) }.flags & BUF_IS_FD != 0)
}
