//! Outstanding requests: the table behind every `fuse_req_t`.
//!
//! C sees a request as an opaque pointer. Ours is not an address but a handle: a slot index
//! and that slot's generation, packed into one non-zero word. Answering a request takes it out
//! of the table and bumps the slot's generation, so a second answer (or any use after the
//! answer) finds no request and is refused with an error instead of touching freed memory.
//! Requests that are never answered stay until their session is destroyed, which frees all of
//! its entries: a filesystem that forgets to reply cannot make the table outlive the session.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use parking_lot::Mutex;

/// Who sent a request, laid out as C's `struct fuse_ctx`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx {
    /// Caller's user id.
    pub uid: u32,
    /// Caller's group id.
    pub gid: u32,
    /// Caller's thread id.
    pub pid: i32,
    /// Caller's umask (for creating requests, protocol 7.12 and later).
    pub umask: u32,
}

/// A C interrupt callback and its data, stored as plain words.
#[derive(Clone, Copy, Debug)]
pub struct InterruptHook {
    /// The `fuse_interrupt_func_t`, as an address.
    pub func: usize,
    /// Its `data` argument, as an address.
    pub data: usize,
}

/// One outstanding request.
#[derive(Debug)]
pub struct ReqData {
    /// The kernel's id for it.
    pub unique: u64,
    /// Its opcode.
    pub opcode: u32,
    /// Who sent it. Boxed inside the entry, so `fuse_req_ctx` can hand out a stable pointer.
    pub ctx: Ctx,
    /// The session it belongs to (the address of its `Session`).
    pub session: usize,
    /// Device fd to answer on (a cloned fd in the multithreaded loop), or -1 for the session's.
    pub fd: i32,
    /// Set when an INTERRUPT for it arrived.
    pub interrupted: AtomicBool,
    /// The filesystem's interrupt callback, if it registered one.
    pub hook: Mutex<Option<InterruptHook>>,
    /// COPY_FILE_RANGE_64: `fuse_reply_write` answers with the 64-bit struct.
    pub copy_64: bool,
    /// No answer goes to the kernel (FORGET, BATCH_FORGET, the forgets split out of a batch).
    pub no_reply: bool,
    /// Supplementary groups sent with the request, if any.
    pub groups: Option<Vec<u32>>,
    /// The security-context extension (copied), with its count.
    pub secctx: Option<(Vec<u8>, u32)>,
    /// Iterator state of `fuse_req_secctx_next`: (index, byte offset).
    pub secctx_iter: Mutex<(u32, usize)>,
    /// The ring entry it came in, when it came over io_uring: the answer goes there.
    pub ring: Option<super::uring::RingSlot>,
    /// An answer went to the ring entry (a ring request dropped without one gets an empty
    /// commit, as `fuse_reply_none` must still hand the entry back to the kernel).
    pub ring_answered: AtomicBool,
}

impl ReqData {
    /// A request with the given header fields.
    pub fn new(unique: u64, opcode: u32, ctx: Ctx, session: usize) -> Self {
        ReqData {
            unique,
            opcode,
            ctx,
            session,
            fd: -1,
            interrupted: AtomicBool::new(false),
            hook: Mutex::new(None),
            copy_64: false,
            no_reply: false,
            groups: None,
            secctx: None,
            secctx_iter: Mutex::new((0, 8)),
            ring: None,
            ring_answered: AtomicBool::new(false),
        }
    }

    /// Whether an INTERRUPT arrived for it.
    pub fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::Acquire)
    }
}

/// A packed request handle: never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReqHandle(pub usize);

struct Slot {
    generation: u32,
    data: Option<Box<ReqData>>,
}

struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

/// The table is sharded so that threads answering requests at the same time rarely meet on
/// one lock; a handle names its shard.
const SHARDS: usize = 16;
const SHARD_BITS: u32 = 4;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Mutex<Table> = Mutex::new(Table { slots: Vec::new(), free: Vec::new() });
static TABLE: [Mutex<Table>; SHARDS] = [EMPTY; SHARDS];

thread_local! {
    /// The shard this thread registers its requests in.
    static MY_SHARD: usize = {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS
    };
}

/// Slots below this index in each shard also publish (generation, session) in [`FAST`].
const FAST_SLOTS: usize = 4096;

/// What `fuse_req_userdata` needs, readable without the shard lock: filesystems call it
/// several times per operation. A slot's session is 0 while it holds no request. Writers hold
/// the shard lock; readers check the generation before and after reading the session, so a
/// slot answered (and perhaps reused) meanwhile is noticed.
struct FastSlot {
    generation: AtomicU32,
    session: AtomicUsize,
}

#[allow(clippy::declare_interior_mutable_const)]
const FAST_EMPTY: FastSlot =
    FastSlot { generation: AtomicU32::new(0), session: AtomicUsize::new(0) };
/// All zero, so it costs address space only until slots are used.
static FAST: [[FastSlot; FAST_SLOTS]; SHARDS] = [const { [FAST_EMPTY; FAST_SLOTS] }; SHARDS];

fn fast(shard: usize, index: usize) -> Option<&'static FastSlot> {
    FAST.get(shard)?.get(index)
}

/// Publish a request in slot `index` (shard lock held).
fn fast_publish(shard: usize, index: usize, generation: u32, session: usize) {
    if let Some(f) = fast(shard, index) {
        f.generation.store(generation, Ordering::Release);
        f.session.store(session, Ordering::Release);
    }
}

/// Withdraw slot `index`, whose generation became `generation` (shard lock held): the session
/// goes first, so a reader that sees the new generation also sees no session.
fn fast_withdraw(shard: usize, index: usize, generation: u32) {
    if let Some(f) = fast(shard, index) {
        f.session.store(0, Ordering::Release);
        f.generation.store(generation, Ordering::Release);
    }
}

/// The session of outstanding request `h`, without taking a lock. `None` when `h` names no
/// outstanding request, or a slot beyond the published ones (ask [`with`] then).
#[inline]
pub fn session_of(h: ReqHandle) -> Option<usize> {
    let (shard, i, generation) = unpack(h)?;
    let f = fast(shard, i)?;
    if f.generation.load(Ordering::Acquire) != generation {
        return None;
    }
    let session = f.session.load(Ordering::Acquire);
    if session == 0 || f.generation.load(Ordering::Acquire) != generation {
        return None;
    }
    Some(session)
}

fn pack(shard: usize, index: u32, generation: u32) -> ReqHandle {
    // Generation in the high half; (index << 4 | shard) + 1 in the low half: never zero.
    let low = ((index as usize) << SHARD_BITS | shard) + 1;
    ReqHandle(((generation as usize) << 32) | (low & 0xffff_ffff))
}

fn unpack(h: ReqHandle) -> Option<(usize, usize, u32)> {
    let low = (h.0 & 0xffff_ffff) as u32;
    let v = low.checked_sub(1)? as usize;
    Some((v & (SHARDS - 1), v >> SHARD_BITS, (h.0 >> 32) as u32))
}

thread_local! {
    // The boxes themselves are what is reused (the table holds boxes), hence Vec<Box<_>>.
    /// Boxes of answered requests, kept for the next requests this thread registers: a worker
    /// both registers and answers most of its requests, so this saves an allocation and a free
    /// per request.
    #[allow(clippy::vec_box)]
    static SPARE: std::cell::RefCell<Vec<Box<ReqData>>> = const { std::cell::RefCell::new(Vec::new()) };
}

const SPARE_MAX: usize = 16;

fn boxed(data: ReqData) -> Box<ReqData> {
    let spare = SPARE.try_with(|s| s.try_borrow_mut().ok().and_then(|mut v| v.pop()));
    match spare {
        Ok(Some(mut b)) => {
            *b = data;
            b
        }
        _ => Box::new(data),
    }
}

/// An answered request, taken out of the table. Dereferences to its data; when dropped, its
/// allocation goes back to the thread's spares.
#[derive(Debug)]
pub struct Taken(Option<Box<ReqData>>);

impl std::ops::Deref for Taken {
    type Target = ReqData;
    fn deref(&self) -> &ReqData {
        self.0.as_deref().expect("present until dropped")
    }
}

impl Drop for Taken {
    fn drop(&mut self) {
        let Some(mut b) = self.0.take() else { return };
        if b.ring.is_some() && !b.ring_answered.load(Ordering::Acquire) {
            super::uring::commit_unanswered(&b);
        }
        // Release what the request owned now, not when the box is reused.
        b.groups = None;
        b.secctx = None;
        let _ = SPARE.try_with(|s| {
            if let Ok(mut v) = s.try_borrow_mut()
                && v.len() < SPARE_MAX
            {
                v.push(b);
            }
        });
    }
}

/// Register a new request and return its handle.
pub fn insert(data: ReqData) -> ReqHandle {
    let shard = MY_SHARD.with(|s| *s);
    let session = data.session;
    let data = Some(boxed(data));
    let mut t = TABLE[shard].lock();
    let (i, generation) = if let Some(i) = t.free.pop() {
        let slot = &mut t.slots[i as usize];
        slot.data = data;
        (i, slot.generation)
    } else {
        let i = t.slots.len() as u32;
        t.slots.push(Slot { generation: 1, data });
        (i, 1)
    };
    fast_publish(shard, i as usize, generation, session);
    pack(shard, i, generation)
}

/// Run `f` on an outstanding request; `None` if the handle names no outstanding request.
///
/// `f` runs under the table lock: it must not call back into C or into this module.
pub fn with<R>(h: ReqHandle, f: impl FnOnce(&ReqData) -> R) -> Option<R> {
    let (shard, i, generation) = unpack(h)?;
    let t = TABLE[shard].lock();
    let slot = t.slots.get(i)?;
    if slot.generation != generation {
        return None;
    }
    slot.data.as_deref().map(f)
}

/// A stable pointer to the request's context, valid until the request is answered.
pub fn ctx_ptr(h: ReqHandle) -> Option<*const Ctx> {
    with(h, |d| &raw const d.ctx)
}

/// Take a request out of the table (it is being answered). `None` if it was already answered
/// or never existed.
pub fn take(h: ReqHandle) -> Option<Taken> {
    let (shard, i, generation) = unpack(h)?;
    let mut t = TABLE[shard].lock();
    let slot = t.slots.get_mut(i)?;
    if slot.generation != generation {
        return None;
    }
    let data = slot.data.take()?;
    slot.generation = slot.generation.wrapping_add(1).max(1);
    fast_withdraw(shard, i, slot.generation);
    t.free.push(i as u32);
    drop(t);
    Some(Taken(Some(data)))
}

/// Find the outstanding request of `session` with kernel id `unique`.
pub fn find_unique(session: usize, unique: u64) -> Option<ReqHandle> {
    for (shard, m) in TABLE.iter().enumerate() {
        let t = m.lock();
        let found = t.slots.iter().enumerate().find_map(|(i, s)| {
            s.data
                .as_ref()
                .filter(|d| d.session == session && d.unique == unique && !d.no_reply)
                .map(|_| pack(shard, i as u32, s.generation))
        });
        if found.is_some() {
            return found;
        }
    }
    None
}

/// Drop every outstanding request of `session` (the session is going away). Returns how many.
pub fn drop_session(session: usize) -> usize {
    let mut n = 0;
    for (shard, m) in TABLE.iter().enumerate() {
        let mut t = m.lock();
        let mut freed = Vec::new();
        for (i, s) in t.slots.iter_mut().enumerate() {
            if s.data.as_ref().is_some_and(|d| d.session == session) {
                s.data = None;
                s.generation = s.generation.wrapping_add(1).max(1);
                freed.push((i as u32, s.generation));
                n += 1;
            }
        }
        for &(i, generation) in &freed {
            fast_withdraw(shard, i as usize, generation);
        }
        t.free.extend(freed.iter().map(|&(i, _)| i));
    }
    n
}

/// Number of outstanding requests of `session`.
pub fn outstanding(session: usize) -> usize {
    TABLE
        .iter()
        .map(|m| {
            m.lock()
                .slots
                .iter()
                .filter(|s| s.data.as_ref().is_some_and(|d| d.session == session))
                .count()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_answers_once() {
        let h = insert(ReqData::new(7, 1, Ctx::default(), 0x1000));
        assert_ne!(h.0, 0);
        assert_eq!(with(h, |d| d.unique), Some(7));
        assert!(take(h).is_some());
        assert!(take(h).is_none(), "second answer must be refused");
        assert!(with(h, |d| d.unique).is_none());
        // The slot is reused with a new generation: the old handle stays dead.
        let h2 = insert(ReqData::new(8, 1, Ctx::default(), 0x1000));
        assert!(take(h).is_none());
        assert_eq!(take(h2).map(|d| d.unique), Some(8));
    }

    #[test]
    fn the_lock_free_session_lookup_follows_the_table() {
        let h = insert(ReqData::new(9, 1, Ctx::default(), 0x2000));
        assert_eq!(session_of(h), Some(0x2000));
        assert_eq!(session_of(h), with(h, |d| d.session));
        assert!(take(h).is_some());
        assert_eq!(session_of(h), None, "answered: gone");
        // The slot comes back with the next generation: the old handle stays dead, the new
        // one sees its own session, and a handle forged with a later generation sees nothing.
        let h2 = insert(ReqData::new(10, 1, Ctx::default(), 0x3000));
        assert_eq!(session_of(h), None);
        assert_eq!(session_of(h2), Some(0x3000));
        let forged = ReqHandle(h2.0.wrapping_add(1 << 32));
        assert_eq!(session_of(forged), None);
        assert_eq!(drop_session(0x3000), 1);
        assert_eq!(session_of(h2), None, "session teardown withdraws its requests");
        for g in [0usize, 1, usize::MAX, 0x1234] {
            assert_eq!(session_of(ReqHandle(g)), None);
        }
    }

    #[test]
    fn garbage_handles_are_refused() {
        for h in [0usize, 1, usize::MAX, 0xdead_beef_0000_0001, 0x1234] {
            assert!(with(ReqHandle(h), |_| ()).is_none());
        }
        assert!(take(ReqHandle(0)).is_none());
    }

    #[test]
    fn session_teardown_frees_its_requests() {
        let s = 0xabc0;
        let a = insert(ReqData::new(1, 3, Ctx::default(), s));
        let b = insert(ReqData::new(2, 3, Ctx::default(), s));
        let other = insert(ReqData::new(3, 3, Ctx::default(), s + 8));
        assert_eq!(find_unique(s, 2), Some(b));
        assert_eq!(drop_session(s), 2);
        assert!(take(a).is_none() && take(b).is_none());
        assert!(take(other).is_some());
    }
}
