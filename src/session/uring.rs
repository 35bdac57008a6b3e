//! Mirrors libfuse's fuse_uring.c: the FUSE-over-io_uring transport.
//!
//! After INIT grants `FUSE_OVER_IO_URING`, one queue per possible CPU (the kernel hands a
//! request to the queue of the CPU it was issued on) is served by one thread pinned to that
//! CPU. Each queue registers `depth` entries; the kernel completes an entry's command when it
//! puts a request in it, the thread turns the entry into one message and processes it like a
//! request read from `/dev/fuse`, and the answer is written into the same entry and committed
//! with COMMIT_AND_FETCH, which also waits for the entry's next request.
//!
//! What stays on `/dev/fuse`: FORGET, BATCH_FORGET and INTERRUPT (the kernel never queues
//! them on the ring), notifications (written with writev) and everything before INIT. Answers
//! given on the queue's own thread are batched and submitted by the thread's next wait;
//! answers from other threads are submitted at once.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};

use crate::kernel::fuse_out_header;
use crate::kernel::uring::FUSE_URING_OP_IN_OUT_SZ;
use crate::sys::uring::{Queue, WAKE_TAG, cqe_more, pin_to_cpu, possible_cpus};

use super::Session;

/// libfuse's default queue depth.
pub const DEFAULT_Q_DEPTH: u32 = 8;

/// What a session was told about io_uring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `-o io_uring`, or `FUSE_URING_ENABLE` set to a number other than 0.
    Asked,
    /// `-o no_io_uring`, or `FUSE_URING_ENABLE=0`.
    Refused,
    /// Neither: the rings are used when the multithreaded loop serves the session and the
    /// kernel offers them (see [`plan`]).
    Default,
}

impl Choice {
    /// The choice from the command line's last `io_uring`/`no_io_uring` (`opt`), else from
    /// `FUSE_URING_ENABLE` (`env`, read as C's atoi reads it, as libfuse does), else the default.
    pub fn from(opt: Option<bool>, env: Option<&str>) -> Choice {
        match (opt, env) {
            (Some(true), _) => Choice::Asked,
            (Some(false), _) => Choice::Refused,
            (None, Some(v)) if atoi(v) != 0 => Choice::Asked,
            (None, Some(_)) => Choice::Refused,
            (None, None) => Choice::Default,
        }
    }
}

/// C's atoi: optional blanks and sign, then digits; 0 when there are none.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if neg { -n } else { n }
}

/// Which loop serves a session, recorded when the loop starts (before it reads a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    /// No loop of ours yet: INIT answered during the mount (synchronous INIT), or a program
    /// that reads and processes requests itself.
    Unknown,
    /// `fuse_session_loop` (`fuse_loop`, `-s`).
    Single,
    /// `fuse_session_loop_mt` in any form (`fuse_loop_mt`, `fuse_main` without `-s`).
    Multi,
}

/// What INIT does about io_uring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Start the rings (and grant FUSE_OVER_IO_URING once they are set up).
    Start,
    /// Read `/dev/fuse`, saying why in this line first when io_uring was asked for.
    DevFuse(Option<&'static str>),
}

/// The line for an explicit request the kernel does not offer.
pub const NOT_OFFERED: &str = "fuse: io_uring not offered by the kernel (needs Linux 6.14+ and, \
     as root, `echo Y > /sys/module/fuse/parameters/enable_uring`); reading /dev/fuse\n";
/// The line for an explicit request on a session with custom I/O.
pub const CUSTOM_IO: &str = "fuse: io_uring not used with custom I/O; reading /dev/fuse\n";

/// Whether the library's default, on its own, wants the rings: the multithreaded loop
/// serves the session over the device (its callbacks already run concurrently, as the rings'
/// threads would run them). Not for the single-threaded loop, whose programs do not expect
/// concurrent callbacks; not for custom I/O; not when the loop was unknown at INIT.
pub fn default_wants(loop_kind: LoopKind, custom_io: bool) -> bool {
    loop_kind == LoopKind::Multi && !custom_io
}

/// INIT's io_uring decision. `offered`: the kernel's INIT carried FUSE_OVER_IO_URING.
/// `unset_by_fs`: the filesystem's `init` turned the capability off with
/// `fuse_unset_feature_flag` (which overrides the library's default, not the command line).
/// Only an explicit request that cannot be met says so; the default falls back silently.
pub fn plan(
    choice: Choice,
    loop_kind: LoopKind,
    custom_io: bool,
    offered: bool,
    unset_by_fs: bool,
) -> Plan {
    match choice {
        Choice::Refused => Plan::DevFuse(None),
        Choice::Asked if custom_io => Plan::DevFuse(Some(CUSTOM_IO)),
        Choice::Asked if !offered => Plan::DevFuse(Some(NOT_OFFERED)),
        Choice::Asked => Plan::Start,
        Choice::Default if default_wants(loop_kind, custom_io) && offered && !unset_by_fs => {
            Plan::Start
        }
        Choice::Default => Plan::DevFuse(None),
    }
}

/// Where a request that came over the ring is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingSlot {
    /// Queue index (the CPU).
    pub qid: u16,
    /// Entry index in the queue.
    pub idx: u32,
    /// The id the kernel wants quoted in the commit.
    pub commit_id: u64,
}

/// Settings of a ring pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolConfig {
    /// Entries per queue.
    pub depth: usize,
    /// Payload buffer size of each entry.
    pub payload: usize,
    /// Only each queue's thread submits (`io_uring_single_issuer`).
    pub single_issuer: bool,
}

/// All queues of a session.
pub struct Pool {
    queues: Vec<Arc<Queue>>,
    /// Per queue and entry: the commit id of the request it holds, 0 while registering.
    commit_ids: Vec<Vec<AtomicU64>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stop: AtomicBool,
    go: Mutex<bool>,
    go_cv: Condvar,
    refused: AtomicBool,
    single_issuer: bool,
    /// Requests taken over the ring (for tests and `-d`).
    pub served: AtomicUsize,
}

thread_local! {
    /// (pool address, qid) of the queue this thread serves.
    static ON_QUEUE: Cell<(usize, u16)> = const { Cell::new((0, 0)) };
}

fn errstr(e: i32) -> String {
    crate::sys::strerror(e)
}

impl Pool {
    /// Set up every queue (rings, buffers, threads). Registration waits for [`Pool::go`],
    /// which must come after the INIT reply. Err is an errno, the failure already logged.
    pub fn start(se: &Session, cfg: PoolConfig) -> Result<Arc<Pool>, i32> {
        if cfg.depth == 0 {
            crate::log::err("fuse: io_uring queue depth must be > 0\n");
            return Err(libc::EINVAL);
        }
        let nq = possible_cpus();
        if nq > u16::MAX as usize {
            return Err(libc::EINVAL);
        }
        let page = super::page_size();
        let dev = se.fd();
        // Build the rings in their own threads (a single-issuer ring may only be used by the
        // thread that made it), then collect them.
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Arc<Queue>, i32>)>();
        let pool_slot: Arc<Mutex<Option<Arc<Pool>>>> = Arc::new(Mutex::new(None));
        let ready = Arc::new((Mutex::new(false), Condvar::new()));
        let mut handles = Vec::new();
        for qid in 0..nq {
            let txq = tx.clone();
            let slot = Arc::clone(&pool_slot);
            let ready = Arc::clone(&ready);
            let se_addr = se as *const Session as usize;
            let spawned =
                std::thread::Builder::new().name(format!("fuse-ring-{qid}")).spawn(move || {
                    if let Err(e) = pin_to_cpu(qid) {
                        crate::log::err(&format!(
                            "fuse: io_uring: cannot bind queue {qid} to its CPU: {}\n",
                            errstr(e)
                        ));
                    }
                    let q = Queue::new(
                        qid as u16,
                        cfg.depth,
                        dev,
                        cfg.payload,
                        page,
                        cfg.single_issuer,
                    )
                    .map(Arc::new);
                    let ok = q.as_ref().ok().cloned();
                    let _ = txq.send((qid, q));
                    drop(txq);
                    let Some(q) = ok else { return };
                    // Wait until the pool exists (or was abandoned).
                    let pool = {
                        let (m, cv) = &*ready;
                        let mut r = m.lock();
                        while !*r {
                            cv.wait(&mut r);
                        }
                        slot.lock().clone()
                    };
                    let Some(pool) = pool else { return };
                    // SAFETY: the session outlives its pool: teardown stops the pool and
                    // joins these threads before the session is freed.
                    let se = unsafe { &*(se_addr as *const Session) };
                    queue_thread(se, &pool, qid, &q);
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    crate::log::err(&format!("fuse: io_uring: error creating thread: {e}\n"));
                    let _ = tx.send((qid, Err(libc::EAGAIN)));
                }
            }
        }
        drop(tx);
        let mut queues: Vec<Option<Arc<Queue>>> = vec![None; nq];
        let mut first_err = 0;
        for (qid, r) in rx.iter().take(nq) {
            match r {
                Ok(q) => queues[qid] = Some(q),
                Err(e) => {
                    if first_err == 0 {
                        crate::log::err(&format!(
                            "fuse: io_uring: setting up queue {qid} failed: {}\n",
                            errstr(e)
                        ));
                        first_err = e;
                    }
                }
            }
        }
        let release = |pool: Option<Arc<Pool>>| {
            *pool_slot.lock() = pool;
            let (m, cv) = &*ready;
            *m.lock() = true;
            cv.notify_all();
        };
        if first_err != 0 || queues.iter().any(|q| q.is_none()) {
            release(None);
            for h in handles {
                let _ = h.join();
            }
            return Err(if first_err != 0 { first_err } else { libc::EIO });
        }
        let queues: Vec<Arc<Queue>> = queues.into_iter().flatten().collect();
        let commit_ids =
            queues.iter().map(|q| (0..q.depth()).map(|_| AtomicU64::new(0)).collect()).collect();
        let pool = Arc::new(Pool {
            queues,
            commit_ids,
            threads: Mutex::new(handles),
            stop: AtomicBool::new(false),
            go: Mutex::new(false),
            go_cv: Condvar::new(),
            refused: AtomicBool::new(false),
            single_issuer: cfg.single_issuer,
            served: AtomicUsize::new(0),
        });
        release(Some(Arc::clone(&pool)));
        Ok(pool)
    }

    /// Let the queues register with the kernel (INIT has been answered).
    pub fn go(&self) {
        *self.go.lock() = true;
        self.go_cv.notify_all();
    }

    /// Stop every queue thread and wait for them. The rings close when the last reference
    /// to the pool goes.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.go();
        for q in &self.queues {
            q.wake();
        }
        let me = std::thread::current().id();
        let threads = std::mem::take(&mut *self.threads.lock());
        for h in threads {
            if h.thread().id() == me {
                continue;
            }
            let _ = h.join();
        }
    }

    /// Whether the kernel refused to register the queues (requests stay on /dev/fuse).
    pub fn refused(&self) -> bool {
        self.refused.load(Ordering::Acquire)
    }

    /// The payload buffer of a ring request: (address, size).
    pub fn payload(&self, slot: RingSlot) -> Option<(*mut u8, usize)> {
        let e = self.queues.get(slot.qid as usize)?.ent(slot.idx as usize)?;
        Some((e.payload_ptr(), e.payload_cap()))
    }

    /// Answer a ring request: write the answer into its entry and commit it.
    /// Returns 0 or a negative errno. `log`: print the `-d` line (not for the empty commits
    /// of unanswered requests).
    pub fn reply(
        &self,
        se: &Session,
        slot: RingSlot,
        header: &mut fuse_out_header,
        parts: &[&[u8]],
        log: bool,
    ) -> i32 {
        let Some(q) = self.queues.get(slot.qid as usize) else { return -libc::EINVAL };
        let Some(ent) = q.ent(slot.idx as usize) else { return -libc::EINVAL };
        let total: usize = parts.iter().map(|p| p.len()).sum();
        header.len = (std::mem::size_of::<fuse_out_header>() + total) as u32;
        if log {
            se.log_reply(header);
        }
        let mut res = 0;
        if ent.write_reply(header, parts).is_err() {
            crate::log::err(&format!(
                "fuse: reply of {total} bytes exceeds the io_uring buffer ({} bytes)\n",
                ent.payload_cap()
            ));
            let h = fuse_out_header { len: 16, error: -libc::EIO, unique: header.unique };
            let _ = ent.write_reply(&h, &[]);
            res = -libc::EINVAL;
        }
        let on_thread = ON_QUEUE.with(|c| c.get()) == (self as *const Pool as usize, slot.qid);
        // On the queue's thread the next wait submits (batching); elsewhere submit now, or,
        // for a single-issuer ring, which only its thread may submit to, wake that thread.
        let submit = !on_thread && !self.single_issuer;
        if let Err(e) = q.push_commit(slot.idx as usize, slot.commit_id, submit) {
            crate::log::err(&format!("fuse: io_uring: committing a reply: {}\n", errstr(e)));
            return -e;
        }
        if !on_thread && self.single_issuer {
            q.wake();
        }
        res
    }
}

fn queue_thread(se: &Session, pool: &Arc<Pool>, qid: usize, q: &Queue) {
    ON_QUEUE.with(|c| c.set((Arc::as_ptr(pool) as usize, qid as u16)));
    {
        let mut g = pool.go.lock();
        while !*g {
            pool.go_cv.wait(&mut g);
        }
    }
    if pool.stop.load(Ordering::Acquire) {
        return;
    }
    for i in 0..q.depth() {
        if let Err(e) = q.push_register(i) {
            crate::log::err(&format!("fuse: io_uring: queueing registration: {}\n", errstr(e)));
            return;
        }
    }
    if let Err(e) = q.push_wake_poll() {
        crate::log::err(&format!("fuse: io_uring: queueing wake-up poll: {}\n", errstr(e)));
        return;
    }
    let ids = &pool.commit_ids[qid];
    let mut cqes = Vec::with_capacity(q.depth() + 1);
    'outer: loop {
        if pool.stop.load(Ordering::Acquire) {
            break;
        }
        match q.submit_and_wait() {
            Ok(()) => {}
            Err(libc::EINTR | libc::EAGAIN | libc::EBUSY) => {}
            Err(e) => {
                crate::log::err(&format!("fuse: io_uring: waiting for requests: {}\n", errstr(e)));
                break;
            }
        }
        cqes.clear();
        q.reap(&mut cqes);
        for &(ud, res, flags) in &cqes {
            if ud == WAKE_TAG {
                q.drain_wake();
                if pool.stop.load(Ordering::Acquire) {
                    break 'outer;
                }
                if !cqe_more(flags) {
                    let _ = q.push_wake_poll();
                }
                continue;
            }
            let idx = ud as usize;
            if idx >= q.depth() {
                continue;
            }
            if res < 0 {
                let e = -res;
                let last = ids[idx].load(Ordering::Acquire);
                match e {
                    libc::EAGAIN | libc::EINTR => {
                        // Not taken: send the same command again.
                        let r = if last == 0 {
                            q.push_register(idx)
                        } else {
                            q.push_commit(idx, last, false)
                        };
                        if r.is_err() {
                            break 'outer;
                        }
                    }
                    // Unmounted or aborted (the kernel says ECONNABORTED once the connection
                    // was aborted, as when a program exits right after INIT): the entries
                    // are gone.
                    libc::ENOTCONN | libc::ENODEV | libc::ECANCELED | libc::ECONNABORTED => {
                        break 'outer;
                    }
                    _ if last == 0 => {
                        if !pool.refused.swap(true, Ordering::AcqRel) && !se.exited() {
                            crate::log::err(&format!(
                                "fuse: io_uring: the kernel refused to register queue {qid}: {}; \
                                 requests stay on /dev/fuse\n",
                                errstr(e)
                            ));
                        }
                        break 'outer;
                    }
                    // The kernel no longer knew the request we answered (it was aborted, or
                    // timed out): the entry went nowhere. Register it afresh.
                    libc::ENOENT => {
                        if se.debug() {
                            crate::log::debug(&format!(
                                "io_uring: queue {qid} entry {idx}: answer to {last} not taken\n"
                            ));
                        }
                        ids[idx].store(0, Ordering::Release);
                        if q.push_register(idx).is_err() {
                            break 'outer;
                        }
                    }
                    _ => {
                        if !se.exited() {
                            crate::log::err(&format!(
                                "fuse: io_uring: queue {qid} entry {idx}: {}\n",
                                errstr(e)
                            ));
                        }
                        se.set_error(-e);
                        se.exit();
                        break 'outer;
                    }
                }
                continue;
            }
            serve(se, pool, qid, q, idx);
        }
    }
}

/// A ring request was taken out of the table without an answer (`fuse_reply_none`, a
/// NOTIFY_REPLY, a filesystem that dropped it): give the entry back to the kernel with an
/// empty answer, or the queue loses it for good.
pub(crate) fn commit_unanswered(d: &super::ReqData) {
    let Some(slot) = d.ring else { return };
    // SAFETY: a request's session outlives it: teardown drops the table's requests first.
    let se = unsafe { &*(d.session as *const Session) };
    if let Some(pool) = se.ring_pool() {
        let mut h = fuse_out_header { len: 0, error: 0, unique: d.unique };
        pool.reply(se, slot, &mut h, &[], false);
    }
}

/// Turn entry `idx`'s request into a message and process it.
fn serve(se: &Session, pool: &Pool, qid: usize, q: &Queue, idx: usize) {
    let Some(ent) = q.ent(idx) else { return };
    let eio = ent.ent_in_out();
    let h = ent.in_header();
    if eio.commit_id == 0 {
        // The kernel could never match an answer: nothing sensible is left to do.
        crate::log::err("fuse: io_uring: request with commit id 0; stopping\n");
        se.set_error(-libc::EPROTO);
        se.exit();
        return;
    }
    pool.commit_ids[qid][idx].store(eio.commit_id, Ordering::Release);
    pool.served.fetch_add(1, Ordering::Relaxed);
    let slot = RingSlot { qid: qid as u16, idx: idx as u32, commit_id: eio.commit_id };
    let payload = eio.payload_sz as usize;
    // The in-header's length counts every argument: what is not payload is the opcode's
    // fixed argument, which the kernel put in its own slot.
    let arg0 = (h.len as usize)
        .checked_sub(std::mem::size_of_val(&h) + payload)
        .filter(|&a| a <= FUSE_URING_OP_IN_OUT_SZ);
    let msg = arg0.and_then(|a| ent.message(a, payload));
    match msg {
        Some(m) => se.process_ring(m, slot),
        None => {
            crate::log::err(&format!(
                "fuse: io_uring: malformed request (unique {}, len {}, payload {payload})\n",
                h.unique, h.len
            ));
            let mut out = fuse_out_header { len: 0, error: -libc::EIO, unique: h.unique };
            pool.reply(se, slot, &mut out, &[], true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_beats_the_environment() {
        assert_eq!(Choice::from(None, None), Choice::Default);
        assert_eq!(Choice::from(Some(true), None), Choice::Asked);
        assert_eq!(Choice::from(Some(false), None), Choice::Refused);
        assert_eq!(Choice::from(None, Some("1")), Choice::Asked);
        assert_eq!(Choice::from(None, Some(" 2x")), Choice::Asked);
        assert_eq!(Choice::from(None, Some("0")), Choice::Refused);
        // As libfuse's atoi reads it: set but not a number is 0.
        assert_eq!(Choice::from(None, Some("")), Choice::Refused);
        assert_eq!(Choice::from(None, Some("yes")), Choice::Refused);
        assert_eq!(Choice::from(Some(true), Some("0")), Choice::Asked);
        assert_eq!(Choice::from(Some(false), Some("1")), Choice::Refused);
    }

    #[test]
    fn the_default_is_the_multithreaded_loop_on_the_device_when_offered() {
        use LoopKind::*;
        let start = |loop_kind, custom, offered, unset| {
            plan(Choice::Default, loop_kind, custom, offered, unset) == Plan::Start
        };
        assert!(start(Multi, false, true, false));
        assert!(!start(Single, false, true, false), "-s keeps /dev/fuse");
        assert!(!start(Unknown, false, true, false), "INIT before the loop keeps /dev/fuse");
        assert!(!start(Multi, true, true, false), "custom I/O keeps its transport");
        assert!(!start(Multi, false, false, false), "not offered");
        assert!(!start(Multi, false, true, true), "init() unset the capability");
        // The default never explains itself.
        for k in [Unknown, Single, Multi] {
            for (c, o, u) in [(false, false, false), (true, true, false), (false, true, true)] {
                assert!(matches!(
                    plan(Choice::Default, k, c, o, u),
                    Plan::Start | Plan::DevFuse(None)
                ));
            }
        }
    }

    #[test]
    fn an_explicit_choice_wins_and_says_why_it_cannot_be_met() {
        use LoopKind::*;
        for k in [Unknown, Single, Multi] {
            assert_eq!(plan(Choice::Asked, k, false, true, true), Plan::Start);
            assert_eq!(
                plan(Choice::Asked, k, false, false, false),
                Plan::DevFuse(Some(NOT_OFFERED))
            );
            assert_eq!(plan(Choice::Asked, k, true, true, false), Plan::DevFuse(Some(CUSTOM_IO)));
            assert_eq!(plan(Choice::Refused, k, false, true, false), Plan::DevFuse(None));
        }
        assert!(NOT_OFFERED.contains("enable_uring"));
    }
}
