//! Thin wrappers for FUSE-over-io_uring: one io_uring per queue (128-byte SQEs, the device as
//! fixed file 0), the mmap'd buffers of its entries, and the queue's wake-up eventfd.
//!
//! Ownership of an entry's buffers alternates: from the submission of a REGISTER or
//! COMMIT_AND_FETCH until its completion the kernel may write them; from the completion until
//! the answer is committed exactly one party (whoever answers the request) uses them. The
//! session layer keeps that protocol (a request is answered once, through the request table);
//! this module keeps the memory valid: a [`Queue`] owns its ring and its buffers together and
//! closes the ring (cancelling everything the kernel holds) before unmapping the buffers.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

use io_uring::{IoUring, cqueue, opcode, squeue, types};
use parking_lot::Mutex;

use crate::kernel::uring::*;
use crate::kernel::{Wire, fuse_in_header, fuse_out_header};

const IN_HEADER: usize = std::mem::size_of::<fuse_in_header>();
/// Room kept at the end of the header page to lay the in-header and opcode argument right
/// before the payload, so a request reads as one contiguous message without copying its data.
const STAGING: usize = IN_HEADER + FUSE_URING_OP_IN_OUT_SZ;

/// user_data of the eventfd poll (entries use their index, always smaller).
pub const WAKE_TAG: u64 = u64::MAX;

/// One entry's memory: a header page (kernel header area at its start, staging at its end)
/// followed by the payload buffer.
pub struct EntBuf {
    base: NonNull<u8>,
    page: usize,
    map_len: usize,
    payload_cap: usize,
    iov: Box<[libc::iovec; 2]>,
}

// SAFETY: the mapping is plain memory owned by this value; which thread touches it when is
// governed by the request protocol described at the top of this module.
unsafe impl Send for EntBuf {}
// SAFETY: as above; every access is a bounds-checked copy through raw pointers.
unsafe impl Sync for EntBuf {}

impl EntBuf {
    /// Map the buffers of one entry with room for `payload_cap` bytes of payload. Pages are
    /// not touched up front: a queue of small requests never faults in most of its 1 MiB
    /// payload buffers (one queue per CPU times the depth adds up on large machines).
    pub fn new(payload_cap: usize, page: usize) -> Result<EntBuf, i32> {
        assert!(page >= REQ_HEADER_SIZE + STAGING);
        let payload_pages = payload_cap.div_ceil(page) * page;
        let map_len = page + payload_pages;
        // SAFETY: anonymous private mapping; no address hint; the result is checked.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(super::last_errno());
        }
        let base = NonNull::new(p.cast::<u8>()).ok_or(libc::ENOMEM)?;
        // SAFETY: `page` is inside the mapping just made.
        let payload = unsafe { base.as_ptr().add(page) };
        let iov = Box::new([
            libc::iovec { iov_base: base.as_ptr().cast(), iov_len: REQ_HEADER_SIZE },
            libc::iovec { iov_base: payload.cast(), iov_len: payload_pages },
        ]);
        Ok(EntBuf { base, page, map_len, payload_cap: payload_pages, iov })
    }

    /// Size of the payload buffer.
    pub fn payload_cap(&self) -> usize {
        self.payload_cap
    }

    /// Address of the payload buffer (for `fuse_req_get_payload`).
    pub fn payload_ptr(&self) -> *mut u8 {
        self.iov[1].iov_base.cast()
    }

    fn read_at<T: Wire>(&self, off: usize) -> T {
        assert!(off + std::mem::size_of::<T>() <= REQ_HEADER_SIZE);
        // SAFETY: in bounds of the header area (checked); T is plain data (Wire), read unaligned.
        unsafe { std::ptr::read_unaligned(self.base.as_ptr().add(off).cast::<T>()) }
    }

    fn write_at<T: Wire>(&self, off: usize, v: &T) {
        assert!(off + std::mem::size_of::<T>() <= REQ_HEADER_SIZE);
        // SAFETY: in bounds of the header area (checked); unaligned write of plain data.
        unsafe { std::ptr::write_unaligned(self.base.as_ptr().add(off).cast::<T>(), *v) }
    }

    /// The request's in-header, as the kernel wrote it.
    pub fn in_header(&self) -> fuse_in_header {
        self.read_at(0)
    }

    /// The ring part of the header area.
    pub fn ent_in_out(&self) -> fuse_uring_ent_in_out {
        self.read_at(ENT_IN_OUT_OFFSET)
    }

    /// Lay the in-header and the first `arg0` bytes of the opcode argument slot right before
    /// the payload and return the whole request as one message of
    /// `40 + arg0 + payload_len` bytes. None if a length is out of range.
    pub fn message(&self, arg0: usize, payload_len: usize) -> Option<&[u8]> {
        if arg0 > FUSE_URING_OP_IN_OUT_SZ || payload_len > self.payload_cap {
            return None;
        }
        let start = self.page - IN_HEADER - arg0;
        let b = self.base.as_ptr();
        // SAFETY: source ranges lie in the header area (0..40, 128..128+arg0), destinations in
        // the staging room at the end of the header page (start >= page - STAGING, which lies
        // past the header area: asserted in `new`); the two never overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(b, b.add(start), IN_HEADER);
            std::ptr::copy_nonoverlapping(b.add(OP_IN_OFFSET), b.add(start + IN_HEADER), arg0);
            Some(std::slice::from_raw_parts(b.add(start), IN_HEADER + arg0 + payload_len))
        }
    }

    /// Write an answer: `parts` go to the payload (moved, as a part may already lie in it),
    /// the out-header to the header slot, the payload size to the ring part.
    /// Err(EINVAL) if the parts do not fit.
    pub fn write_reply(&self, header: &fuse_out_header, parts: &[&[u8]]) -> Result<usize, i32> {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total > self.payload_cap {
            return Err(libc::EINVAL);
        }
        let dst = self.payload_ptr();
        let mut off = 0;
        for p in parts {
            // SAFETY: off + p.len() <= total <= payload_cap; `copy` allows overlap (a filesystem
            // may answer with data it placed in the payload through fuse_req_get_payload).
            unsafe {
                if p.as_ptr() != dst.add(off).cast_const() {
                    std::ptr::copy(p.as_ptr(), dst.add(off), p.len());
                }
            }
            off += p.len();
        }
        self.write_at(0, header);
        let mut e = self.ent_in_out();
        e.payload_sz = total as u32;
        self.write_at(ENT_IN_OUT_OFFSET, &e);
        Ok(total)
    }
}

impl Drop for EntBuf {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once; the ring using it was closed first.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.map_len) };
    }
}

/// A 128-byte SQE carrying a FUSE ring command. `addr`/`len` are set for REGISTER.
fn cmd_sqe(
    cmd_op: u32,
    qid: u16,
    commit_id: u64,
    iov: Option<u64>,
    user_data: u64,
) -> squeue::Entry128 {
    // struct fuse_uring_cmd_req at the start of the command area: flags, commit_id, qid.
    const _: () = assert!(std::mem::size_of::<fuse_uring_cmd_req>() == 24);
    let mut cmd = [0u8; 80];
    cmd[8..16].copy_from_slice(&commit_id.to_ne_bytes());
    cmd[16..18].copy_from_slice(&qid.to_ne_bytes());
    let mut b = opcode::UringCmd80::new(types::Fixed(0), cmd_op).cmd(cmd);
    if let Some(a) = iov {
        b = b.addr(Some(a));
    }
    let sqe = b.build().user_data(user_data);
    match iov {
        Some(_) => with_len(sqe, FUSE_URING_IOV_SEGS),
        None => sqe,
    }
}

/// Set the SQE's `len` field (byte 24), which the crate's URING_CMD builder leaves at 0 and the
/// FUSE REGISTER command requires to be the iovec count.
fn with_len(sqe: squeue::Entry128, len: u32) -> squeue::Entry128 {
    const _: () = assert!(std::mem::size_of::<squeue::Entry128>() == 128);
    // SAFETY: Entry128 is repr(C): a 64-byte io_uring_sqe followed by 64 command bytes, with
    // no padding, so it converts to and from 128 bytes.
    let mut raw: [u8; 128] = unsafe { std::mem::transmute(sqe) };
    raw[24..28].copy_from_slice(&len.to_ne_bytes());
    // SAFETY: as above; every bit pattern of the SQE is a value the type can hold.
    unsafe { std::mem::transmute::<[u8; 128], squeue::Entry128>(raw) }
}

/// One queue: its io_uring, its entries and its wake-up eventfd.
pub struct Queue {
    // Field order matters: the ring closes (and the kernel lets go of the buffers) first.
    ring: IoUring<squeue::Entry128, cqueue::Entry>,
    sq: Mutex<()>,
    cq: Mutex<()>,
    ents: Vec<EntBuf>,
    wake: OwnedFd,
    qid: u16,
}

impl Queue {
    /// A ring for `depth` entries on device `dev_fd`, with their buffers.
    pub fn new(
        qid: u16,
        depth: usize,
        dev_fd: i32,
        payload_cap: usize,
        page: usize,
        single_issuer: bool,
    ) -> Result<Queue, i32> {
        let entries = (depth + 1) as u32;
        let mut b = IoUring::<squeue::Entry128, cqueue::Entry>::builder();
        b.setup_cqsize(entries * 2).setup_submit_all();
        if single_issuer {
            b.setup_single_issuer().setup_coop_taskrun();
        }
        let ring = b.build(entries).map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        ring.submitter()
            .register_files(&[dev_fd])
            .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
        // SAFETY: eventfd(2) with valid flags; the result is checked.
        let efd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if efd < 0 {
            return Err(super::last_errno());
        }
        // SAFETY: a fresh fd we own.
        let wake = unsafe { OwnedFd::from_raw_fd(efd) };
        let mut ents = Vec::with_capacity(depth);
        for _ in 0..depth {
            ents.push(EntBuf::new(payload_cap, page)?);
        }
        Ok(Queue { ring, sq: Mutex::new(()), cq: Mutex::new(()), ents, wake, qid })
    }

    /// Number of entries.
    pub fn depth(&self) -> usize {
        self.ents.len()
    }

    /// Entry `i`'s buffers.
    pub fn ent(&self, i: usize) -> Option<&EntBuf> {
        self.ents.get(i)
    }

    fn push(&self, sqe: &squeue::Entry128, submit: bool) -> Result<(), i32> {
        let _g = self.sq.lock();
        // SAFETY: the sq lock makes this the only submission-queue handle; what the SQE points
        // to (an entry's iovecs and buffers) is owned by this queue and outlives the ring.
        let pushed = unsafe {
            let mut sq = self.ring.submission_shared();
            let r = sq.push(sqe);
            sq.sync();
            r
        };
        if pushed.is_err() {
            return Err(libc::EBUSY);
        }
        if submit {
            self.submit_locked()?;
        }
        Ok(())
    }

    fn submit_locked(&self) -> Result<(), i32> {
        loop {
            match self.ring.submit() {
                Ok(_) => return Ok(()),
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
            }
        }
    }

    /// Queue the REGISTER of entry `i` (submitted by the next submit).
    pub fn push_register(&self, i: usize) -> Result<(), i32> {
        let e = self.ents.get(i).ok_or(libc::EINVAL)?;
        let sqe =
            cmd_sqe(FUSE_IO_URING_CMD_REGISTER, self.qid, 0, Some(e.iov.as_ptr() as u64), i as u64);
        self.push(&sqe, false)
    }

    /// Commit entry `i`'s answer (written with [`EntBuf::write_reply`]) and fetch the next
    /// request into it. Submitted now if `submit`, else by the queue thread's next wait.
    pub fn push_commit(&self, i: usize, commit_id: u64, submit: bool) -> Result<(), i32> {
        if i >= self.ents.len() {
            return Err(libc::EINVAL);
        }
        let sqe = cmd_sqe(FUSE_IO_URING_CMD_COMMIT_AND_FETCH, self.qid, commit_id, None, i as u64);
        self.push(&sqe, submit)
    }

    /// Queue a multishot poll of the wake-up eventfd.
    pub fn push_wake_poll(&self) -> Result<(), i32> {
        let sqe: squeue::Entry128 =
            opcode::PollAdd::new(types::Fd(self.wake.as_raw_fd()), libc::POLLIN as u32)
                .multi(true)
                .build()
                .user_data(WAKE_TAG)
                .into();
        self.push(&sqe, false)
    }

    /// Wake the queue's thread (its next wait returns).
    pub fn wake(&self) {
        let _ = super::write_fd(self.wake.as_raw_fd(), &1u64.to_ne_bytes());
    }

    /// Reset the wake-up counter.
    pub fn drain_wake(&self) {
        let mut b = [0u8; 8];
        let _ = super::read_fd(self.wake.as_raw_fd(), &mut b);
    }

    /// Submit what is queued and wait for at least one completion.
    pub fn submit_and_wait(&self) -> Result<(), i32> {
        match self.ring.submitter().submit_and_wait(1) {
            Ok(_) => Ok(()),
            Err(e) => Err(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }

    /// Move the completions out: (user_data, result, flags).
    pub fn reap(&self, out: &mut Vec<(u64, i32, u32)>) {
        let _g = self.cq.lock();
        // SAFETY: the cq lock makes this the only completion-queue handle.
        let cq = unsafe { self.ring.completion_shared() };
        for c in cq {
            out.push((c.user_data(), c.result(), c.flags()));
        }
    }
}

/// Whether a CQE flags word says more completions will follow (multishot).
pub fn cqe_more(flags: u32) -> bool {
    cqueue::more(flags)
}

/// Pin the calling thread to `cpu` (a queue's thread runs where its requests come from).
pub fn pin_to_cpu(cpu: usize) -> Result<(), i32> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET only write inside it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    if cpu >= libc::CPU_SETSIZE as usize {
        return Err(libc::EINVAL);
    }
    // SAFETY: cpu is below CPU_SETSIZE (checked).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 is the calling thread; the set is a valid cpu_set_t of the size given.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) };
    if r < 0 { Err(super::last_errno()) } else { Ok(()) }
}

/// Number of CPUs the kernel may ever run (it keeps one FUSE queue per possible CPU).
pub fn possible_cpus() -> usize {
    let from_sys = std::fs::read_to_string("/sys/devices/system/cpu/possible").ok().and_then(|s| {
        s.trim()
            .split(',')
            .filter_map(|r| r.rsplit('-').next().and_then(|n| n.trim().parse::<usize>().ok()))
            .max()
            .map(|m| m + 1)
    });
    // SAFETY: sysconf only reads the configuration value named.
    from_sys.unwrap_or_else(|| unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent() -> EntBuf {
        EntBuf::new(8192, 4096).expect("mmap")
    }

    #[test]
    fn a_request_reads_as_one_message() {
        let e = ent();
        let h = fuse_in_header { len: 40 + 24 + 5, opcode: 16, unique: 9, ..Default::default() };
        e.write_at(0, &h);
        // The opcode argument slot and the payload, as the kernel fills them.
        let arg =
            fuse_uring_ent_in_out { flags: 1, commit_id: 2, payload_sz: 3, ..Default::default() };
        e.write_at(OP_IN_OFFSET, &arg);
        // SAFETY: the payload buffer holds at least 5 bytes and nothing else uses it here.
        unsafe { std::ptr::copy_nonoverlapping(b"hello".as_ptr(), e.payload_ptr(), 5) };
        let m = e.message(24, 5).expect("in range");
        assert_eq!(m.len(), 40 + 24 + 5);
        assert_eq!(&m[..40], crate::codec::as_bytes(&h));
        assert_eq!(&m[40..64], &crate::codec::as_bytes(&arg)[..24]);
        assert_eq!(&m[64..], b"hello");
    }

    #[test]
    fn lengths_from_the_kernel_are_checked() {
        let e = ent();
        assert!(e.message(FUSE_URING_OP_IN_OUT_SZ + 1, 0).is_none());
        assert!(e.message(0, e.payload_cap() + 1).is_none());
        assert!(e.message(FUSE_URING_OP_IN_OUT_SZ, e.payload_cap()).is_some());
    }

    #[test]
    fn a_reply_fills_payload_header_and_size() {
        let e = ent();
        let h = fuse_out_header { len: 16 + 6, error: 0, unique: 7 };
        assert_eq!(e.write_reply(&h, &[b"abc", b"def"]), Ok(6));
        assert_eq!(e.ent_in_out().payload_sz, 6);
        let back: fuse_out_header = e.read_at(0);
        assert_eq!(back, h);
        // SAFETY: 6 bytes were just written there.
        let p = unsafe { std::slice::from_raw_parts(e.payload_ptr(), 6) };
        assert_eq!(p, b"abcdef");
        let big = vec![0u8; e.payload_cap() + 1];
        assert_eq!(e.write_reply(&h, &[&big]), Err(libc::EINVAL));
    }
}
