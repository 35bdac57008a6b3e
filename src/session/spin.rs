//! The multithreaded loop's spinning mode.
//!
//! On a virtual machine most of a FUSE round trip is the daemon's reader going to sleep in
//! read(2) and being woken for the next request (an idle vCPU halts, and waking it is an
//! interrupt through the hypervisor). Here one thread at a time is the reader: it reads a
//! non-blocking clone of the device, handles what it reads itself, and after answering keeps
//! looking for the next request for a short while (`FERROFUSE_SPIN_US`, 50 µs by default)
//! before it sleeps in poll(2). A client that sends its next request within that window finds
//! the reader awake, and nothing is woken on the daemon's side.
//!
//! The other workers are parked on a condition variable, not in read(2) (a thread waiting in
//! read(2) would be woken by the kernel for every request, the very cost avoided). They are
//! called in:
//! - when the callbacks are slow (a moving average above 200 µs): every request taken then
//!   hands the reader's role to a parked worker at once, as the classic loop would, until the
//!   tuner's next epoch turns to blocking reads (see `Tuner`);
//! - when requests queue up (a thread found requests waiting four times in a row right after
//!   handling one), up to one thread handling requests per CPU; after sixteen in a row the
//!   loop is "crowded": spinning saves nothing while the queue never empties, and what counts
//!   is how many threads the scheduler can run, so every parked worker wakes, idle workers
//!   wait in a blocking read of the session's fd as libfuse's pool does, and a worker is
//!   started when none waits there, up to `max_threads`; the reader finding the device empty
//!   for a whole spin ends it (the blocked workers park again after their next request);
//! - by the standby, one parked worker that looks every 2 ms while requests flow: when no
//!   request was taken since its last look, nobody reads and a callback is still running (it
//!   may be waiting for another request, an INTERRUPT for instance), it becomes a worker, and
//!   another takes its place, up to `max_threads`. While the daemon is quiet (the reader
//!   asleep in poll(2), no callback running) its looks back off to one every 32 ms, and after
//!   200 ms of that it sleeps until the reader leaves poll(2).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, MutexGuard};

use super::Session;
use super::mt::{Shared, State, start_worker};

/// How long a reader keeps looking for the next request by default.
const DEFAULT_SPIN_US: u64 = 50;
/// How often the standby looks while requests flow.
const STANDBY_TICK: Duration = Duration::from_millis(2);
/// While the daemon is quiet (each look finds the reader asleep in poll(2) and no callback
/// running) the standby looks half as often after every such look, down to this interval.
const STANDBY_TICK_MAX: Duration = Duration::from_millis(32);
/// After this long of quiet looks, the standby sleeps until the reader leaves poll(2).
const STANDBY_SLEEP_AFTER: Duration = Duration::from_millis(200);
/// A thread that found this many requests waiting in a row calls in a helper.
const BACKLOG_STREAK: u32 = 4;
/// ... and this many: the loop is crowded (see `Spin::crowded`).
const CROWDED_STREAK: u32 = 16;
/// Callbacks slower than this on average get a fresh reader for every request.
const SLOW_NS: u64 = 200_000;
/// The reader's way of waiting is judged over epochs of this length (see `Tuner`).
const EPOCH: Duration = Duration::from_millis(50);
/// Every this many epochs, one is spent waiting the other way, to measure it again.
const EXPLORE_EVERY: u32 = 8;
/// Below this many requests a second the way of waiting is not judged (spinning then).
const TUNE_MIN_RATE: f64 = 2000.0;
/// The other way must measure this much better to be taken.
const TUNE_MARGIN: f64 = 1.03;

/// Spinning mode's shared state.
pub struct Spin {
    budget: Duration,
    /// The non-blocking clone read by workers without a clone of their own.
    fd: OwnedFd,
    /// Someone holds the reader's role (spinning, or asleep in poll(2)).
    reader: AtomicBool,
    /// The reader sleeps in poll(2).
    polling: AtomicBool,
    /// Requests taken so far (the standby's measure of progress).
    taken: AtomicU64,
    /// Threads inside a callback.
    busy: AtomicUsize,
    /// Moving average of the time a request takes to handle, in ns.
    slow_ns: AtomicU64,
    /// Most threads handling requests at once because requests queue up.
    helpers: usize,
    /// Requests have queued up for long: idle workers wait in a blocking read of the session's
    /// fd, as libfuse's pool does, until the reader finds the device empty for a whole spin.
    crowded: AtomicBool,
    /// Workers waiting in that blocking read.
    blocked: AtomicUsize,
    /// The standby sleeps without a timeout (the reader wakes it when it leaves poll(2)).
    standby_asleep: AtomicBool,
    standby_cv: Condvar,
    park_cv: Condvar,
    /// How the reader waits for the next request: spinning or a blocking read.
    tuner: parking_lot::Mutex<Tuner>,
    /// The tuner's choice is `Wait::Block`.
    block: AtomicBool,
}

/// How the reader waits when nothing is queued.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Wait {
    /// Keep reading the non-blocking clone for the budget, then poll(2).
    Spin,
    /// A blocking read(2) of the session's fd, as libfuse's workers wait.
    Block,
}

impl Wait {
    fn other(self) -> Wait {
        match self {
            Wait::Spin => Wait::Block,
            Wait::Block => Wait::Spin,
        }
    }
}

/// Chooses the reader's way of waiting by what it gives. Whether spinning pays depends on the
/// machine and the load: on a virtual machine where waking a halted vCPU is dear it saves a
/// wake-up per request, but where a client and a daemon thread that sleep in turn can share
/// one CPU (the scheduler puts a woken thread next to its waker), a reader that never sleeps
/// keeps them apart, and one client's requests go slower than libfuse's (a stat storm with one
/// client measured 0.9x here, 1.0x without spinning). A client that waits for each reply sends
/// requests as fast as they are answered, so the rate of requests taken measures the way of
/// waiting: the reader keeps a moving average per way over 50 ms epochs, waits the better way,
/// and spends one epoch in eight the other way to measure it again.
struct Tuner {
    mode: Wait,
    start: Instant,
    taken0: u64,
    epoch: u32,
    /// Requests per second, a moving average per way (0: not measured yet).
    rate: [f64; 2],
}

impl Tuner {
    fn new(now: Instant) -> Tuner {
        Tuner { mode: Wait::Spin, start: now, taken0: 0, epoch: 0, rate: [0.0; 2] }
    }

    /// The way to wait now, `taken` requests having been taken so far; `slow`: the callbacks
    /// take longer than `SLOW_NS` on average.
    fn mode(&mut self, now: Instant, taken: u64, slow: bool) -> Wait {
        let el = now.saturating_duration_since(self.start);
        if el < EPOCH {
            return self.mode;
        }
        let r = taken.saturating_sub(self.taken0) as f64 / el.as_secs_f64();
        self.start = now;
        self.taken0 = taken;
        if slow {
            // A wake-up saved is a few per cent of such a callback, and a spinning reader
            // would hand its role on with every request (a wake-up of its own): wait as
            // libfuse's workers do. One client's 1 MiB writes measured 0.97x libfuse's
            // spinning, 1.04x blocking.
            self.mode = Wait::Block;
            return self.mode;
        }
        if r < TUNE_MIN_RATE {
            // Quiet: nothing to judge by; spinning answers a lone request soonest.
            self.mode = Wait::Spin;
            return self.mode;
        }
        let (i, o) = (self.mode as usize, self.mode.other() as usize);
        self.rate[i] = if self.rate[i] == 0.0 { r } else { (self.rate[i] + r) / 2.0 };
        self.epoch = self.epoch.wrapping_add(1);
        let explore = self.rate[o] == 0.0 || self.epoch % EXPLORE_EVERY == 0;
        if explore || self.rate[o] > self.rate[i] * TUNE_MARGIN {
            self.mode = self.mode.other();
        }
        self.mode
    }
}

/// The spin budget from `FERROFUSE_SPIN_US` (None: 0, spinning mode off).
fn budget_from_env() -> Option<Duration> {
    let us = match std::env::var("FERROFUSE_SPIN_US") {
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) => n.min(10_000),
            Err(_) => {
                crate::log::err(&format!(
                    "fuse: ignoring FERROFUSE_SPIN_US={v}: not a number of microseconds\n"
                ));
                DEFAULT_SPIN_US
            }
        },
        Err(_) => DEFAULT_SPIN_US,
    };
    (us > 0).then(|| Duration::from_micros(us))
}

/// A non-blocking clone of the device (None when cloning fails: the classic loop serves).
fn clone_nonblocking(master: i32) -> Option<OwnedFd> {
    let fd = nix::fcntl::open(
        "/dev/fuse",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK,
        nix::sys::stat::Mode::empty(),
    )
    .ok()?;
    crate::sys::ioctl_clone(fd.as_raw_fd(), master).ok()?;
    Some(fd)
}

impl Spin {
    /// Spinning mode for `se`, when it can have it: a kernel device that can be cloned, two
    /// CPUs or more, and spinning not turned off.
    pub fn new(se: &Session) -> Option<Spin> {
        if se.has_custom_io() || se.fd() < 0 {
            return None;
        }
        let budget = budget_from_env()?;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cpus < 2 {
            return None;
        }
        let fd = clone_nonblocking(se.fd())?;
        Some(Spin {
            budget,
            fd,
            reader: AtomicBool::new(false),
            polling: AtomicBool::new(false),
            taken: AtomicU64::new(0),
            busy: AtomicUsize::new(0),
            slow_ns: AtomicU64::new(0),
            helpers: cpus,
            crowded: AtomicBool::new(false),
            blocked: AtomicUsize::new(0),
            standby_asleep: AtomicBool::new(false),
            standby_cv: Condvar::new(),
            park_cv: Condvar::new(),
            tuner: parking_lot::Mutex::new(Tuner::new(Instant::now())),
            block: AtomicBool::new(false),
        })
    }

    /// The callbacks take longer than `SLOW_NS` on average.
    fn slow(&self) -> bool {
        self.slow_ns.load(Ordering::Relaxed) > SLOW_NS
    }

    /// Wake every parked worker and the standby (call with the loop's state locked).
    pub fn wake_all(&self) {
        self.standby_cv.notify_all();
        self.park_cv.notify_all();
    }
}

/// What a read gave.
enum Got {
    Request(usize),
    Nothing,
    End(isize),
}

fn classify(res: isize) -> Got {
    if res > 0 {
        Got::Request(res as usize)
    } else if res == -(libc::EAGAIN as isize) || res == -(libc::EINTR as isize) {
        Got::Nothing
    } else {
        Got::End(res)
    }
}

fn stopping(sh: &Shared, se: &Session) -> bool {
    se.exited() || sh.done.load(Ordering::SeqCst)
}

/// The session ended (unmount, error, exit): stop the loop.
fn end(sh: &Shared, se: &Session, res: isize) {
    if res < 0 {
        se.exit();
    }
    sh.stop(res as i32);
}

/// What a parked worker is told.
enum Parked {
    Work,
    Leave,
}

/// A worker in spinning mode.
pub(super) fn worker(sh: &Arc<Shared>, reading: &AtomicBool) {
    crate::sys::unblock_interrupt_signal();
    let se = sh.session();
    let Some(sp) = sh.spin.as_ref() else { return };
    let own = if sh.cfg.clone_fd { clone_nonblocking(se.fd()) } else { None };
    let fd = own.as_ref().map_or(sp.fd.as_raw_fd(), |f| f.as_raw_fd());
    let mut buf = Vec::new();
    // Requests this thread found waiting in a row (each right after handling the last).
    let mut streak = 0u32;
    // A new worker first takes the standby's role if it is free: workers are started when the
    // standby was called in (the new one watches next) and at the start.
    let start = {
        let mut st = sh.state.lock();
        if st.standby { Parked::Work } else { standby(sh, sp, &mut st) }
    };
    if let Parked::Leave = start {
        if se.exited() {
            sh.stop(0);
        }
        return;
    }
    loop {
        if stopping(sh, se) {
            break;
        }
        // While the reader waits by blocking reads (they measured better, or the callbacks
        // are slow), the blocking read below takes a request already waiting as well, without
        // a read(2) that finds nothing.
        if !sp.block.load(Ordering::Relaxed) {
            // A request already waiting is taken at once, whoever is the reader.
            reading.store(true, Ordering::SeqCst);
            let res = if stopping(sh, se) { 0 } else { se.receive_fd(&mut buf, fd) };
            reading.store(false, Ordering::Release);
            match classify(res) {
                Got::Request(len) => {
                    streak += 1;
                    if streak >= CROWDED_STREAK && !sp.crowded.load(Ordering::Relaxed) {
                        sp.crowded.store(true, Ordering::SeqCst);
                        wake_parked(sh, sp);
                    }
                    // Every fourth request in a row found waiting: a helper, if the CPUs
                    // allow.
                    handle(sh, sp, se, &mut buf, len, fd, streak % BACKLOG_STREAK == 0);
                    continue;
                }
                Got::End(res) => {
                    end(sh, se, res);
                    break;
                }
                Got::Nothing => {}
            }
        }
        // About to wait: the tuner judges the way of waiting first (before every wait, so a
        // worker in blocking reads can turn back to spinning), not for every request taken.
        let block = tune(sh, sp);
        if !block
            && sp.reader.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok()
        {
            streak = 0;
            match read_as_reader(sh, sp, se, &mut buf, fd, reading) {
                Some(len) => {
                    handle(sh, sp, se, &mut buf, len, fd, false);
                }
                None => break,
            }
        } else if block || sp.crowded.load(Ordering::SeqCst) {
            // Crowded, or blocking reads measured better: wait as libfuse's workers do, in a
            // blocking read of the session's fd.
            streak = 0;
            sp.blocked.fetch_add(1, Ordering::SeqCst);
            reading.store(true, Ordering::SeqCst);
            let res = if stopping(sh, se) { 0 } else { se.receive_fd(&mut buf, se.fd()) };
            reading.store(false, Ordering::Release);
            sp.blocked.fetch_sub(1, Ordering::SeqCst);
            match classify(res) {
                Got::Request(len) => {
                    handle(sh, sp, se, &mut buf, len, -1, false);
                }
                Got::End(res) => {
                    end(sh, se, res);
                    break;
                }
                Got::Nothing => {}
            }
        } else if let Parked::Leave = park(sh, sp) {
            break;
        }
    }
    if se.exited() {
        sh.stop(0);
    }
}

/// Whether the reader's way of waiting is now a blocking read (see `Tuner`), judged by the
/// thread about to wait. Turning to blocking reads leaves the parked workers parked: the pool
/// in read(2) grows one worker at a time, when a request is taken and nobody else waits there
/// (`handle`), as libfuse's does. Waking them all at once put every worker's buffer to use in
/// turn (the kernel hands requests to blocked readers in order): one client's 1 MiB writes
/// measured 367 µs of daemon CPU per write that way, 347 µs growing on demand. Turning back
/// wakes the standby, which may have gone to sleep while everyone waited in read(2).
fn tune(sh: &Arc<Shared>, sp: &Spin) -> bool {
    let Some(mut t) = sp.tuner.try_lock() else {
        return sp.block.load(Ordering::Relaxed);
    };
    let was = t.mode;
    let slow = sp.slow();
    let now = t.mode(Instant::now(), sp.taken.load(Ordering::Relaxed), slow);
    let rate = t.rate;
    drop(t);
    if now != was {
        if sh.session().debug() {
            let way = if now == Wait::Block { "blocking reads" } else { "spinning" };
            crate::log::debug(&format!(
                "spin: the reader now waits by {way} (slow callbacks: {slow}; requests/s \
                 measured spinning {:.0}, blocking {:.0})\n",
                rate[0], rate[1]
            ));
        }
        sp.block.store(now == Wait::Block, Ordering::SeqCst);
        if now != Wait::Block {
            let _st = sh.state.lock();
            sp.standby_cv.notify_one();
        }
    }
    now == Wait::Block
}

/// Wake every parked worker (the loop became crowded).
fn wake_parked(sh: &Arc<Shared>, sp: &Spin) {
    let mut st = sh.state.lock();
    if st.parked > st.tokens {
        st.tokens = st.parked;
        sp.park_cv.notify_all();
    }
}

/// Read one request from the non-blocking `fd`: one already waiting is taken at once;
/// otherwise keep looking for `budget` (yielding to runnable threads: the clients, when they
/// outnumber the CPUs, go first), then sleep in poll(2) and start over. `stop` is asked before
/// every read and poll (true: 0 comes back); `sleeping(true)` runs before poll(2) and
/// `sleeping(false)` after it. Returns what the read gave other than EAGAIN (a length, 0, or
/// -errno, EINTR included) or poll(2)'s -errno.
fn spin_receive(
    se: &Session,
    buf: &mut Vec<u8>,
    fd: i32,
    budget: Duration,
    stop: impl Fn() -> bool,
    mut sleeping: impl FnMut(bool),
) -> isize {
    let mut since: Option<Instant> = None;
    loop {
        if stop() {
            return 0;
        }
        let res = se.receive_fd(buf, fd);
        if res != -(libc::EAGAIN as isize) {
            return res;
        }
        let start = *since.get_or_insert_with(Instant::now);
        if start.elapsed() < budget {
            std::thread::yield_now();
            continue;
        }
        sleeping(true);
        let polled = if stop() { Ok(()) } else { crate::sys::poll_in(fd) };
        sleeping(false);
        if let Err(e) = polled {
            return -(e as isize);
        }
        since = None;
    }
}

/// Read as the reader until a request comes (Some(its length)) or the session ends (None).
/// The role is given up either way.
fn read_as_reader(
    sh: &Shared,
    sp: &Spin,
    se: &Session,
    buf: &mut Vec<u8>,
    fd: i32,
    reading: &AtomicBool,
) -> Option<usize> {
    // The loop may interrupt this thread with a signal while `reading` says it is in a read
    // or poll(2) (or about to be): it then looks at `stop` again.
    reading.store(true, Ordering::SeqCst);
    let res = loop {
        let res = spin_receive(
            se,
            buf,
            fd,
            sp.budget,
            || stopping(sh, se),
            |asleep| {
                if asleep {
                    // Nothing came for a whole spin: not crowded (any more).
                    if sp.crowded.load(Ordering::Relaxed) {
                        sp.crowded.store(false, Ordering::SeqCst);
                    }
                    sp.polling.store(true, Ordering::SeqCst);
                } else {
                    sp.polling.store(false, Ordering::SeqCst);
                    if sp.standby_asleep.load(Ordering::SeqCst) {
                        let _st = sh.state.lock();
                        sp.standby_cv.notify_one();
                    }
                }
            },
        );
        if !matches!(classify(res), Got::Nothing) {
            break res;
        }
    };
    reading.store(false, Ordering::Release);
    sp.reader.store(false, Ordering::SeqCst);
    match classify(res) {
        Got::Request(len) => Some(len),
        _ => {
            end(sh, se, res);
            None
        }
    }
}

/// Handle one request read on `fd`; `backlog`: requests have been waiting each time this
/// thread looked, for a while.
fn handle(
    sh: &Arc<Shared>,
    sp: &Spin,
    se: &Session,
    buf: &mut [u8],
    len: usize,
    fd: i32,
    backlog: bool,
) {
    let opcode = crate::codec::decode_header(&buf[..len]).map_or(0, |h| h.opcode);
    let is_forget = matches!(
        opcode,
        crate::kernel::opcode::FUSE_FORGET | crate::kernel::opcode::FUSE_BATCH_FORGET
    );
    sp.taken.fetch_add(1, Ordering::SeqCst);
    if !is_forget && !sp.reader.load(Ordering::SeqCst) {
        let nobody_blocked = sp.blocked.load(Ordering::SeqCst) == 0;
        let call = if sp.block.load(Ordering::Relaxed) {
            // Idle workers wait in a blocking read: one more is needed only when none does
            // (not for every slow request: that would start a thread each time).
            nobody_blocked
        } else {
            let slow = sp.slow();
            let backlog = backlog && sp.busy.load(Ordering::SeqCst) + 1 < sp.helpers;
            slow || backlog || (sp.crowded.load(Ordering::Relaxed) && nobody_blocked)
        };
        if call {
            call_in(sh, sp);
        }
    }
    sp.busy.fetch_add(1, Ordering::SeqCst);
    let t0 = Instant::now();
    se.process_in_place(buf, len, fd);
    let ns = u64::try_from(t0.elapsed().as_nanos()).unwrap_or(u64::MAX);
    sp.busy.fetch_sub(1, Ordering::SeqCst);
    if !is_forget {
        let old = sp.slow_ns.load(Ordering::Relaxed);
        sp.slow_ns.store(old - old / 8 + ns / 8, Ordering::Relaxed);
    }
}

/// Call in a parked worker, or start one if none is parked and `max_threads` allows.
fn call_in(sh: &Arc<Shared>, sp: &Spin) {
    let mut st = sh.state.lock();
    if st.done {
        return;
    }
    if st.parked > st.tokens {
        st.tokens += 1;
        sp.park_cv.notify_one();
    } else if (st.workers as u64) < sh.cfg.max_threads as u64 {
        start_worker(sh, &mut st);
    }
}

/// Park until called in (or take the standby's role when it is free).
fn park(sh: &Arc<Shared>, sp: &Spin) -> Parked {
    let mut st = sh.state.lock();
    loop {
        if st.done {
            return Parked::Leave;
        }
        if !st.standby {
            return standby(sh, sp, &mut st);
        }
        if sh.cfg.max_idle >= 0 && st.parked >= sh.cfg.max_idle as usize && st.workers > 2 {
            st.workers -= 1;
            return Parked::Leave;
        }
        st.parked += 1;
        while st.tokens == 0 && !st.done && st.standby {
            sp.park_cv.wait(&mut st);
        }
        st.parked -= 1;
        if st.tokens > 0 {
            st.tokens -= 1;
            return Parked::Work;
        }
    }
}

/// Someone waits for the next request asleep: the reader in poll(2), or workers in a blocking
/// read.
fn waiting(sp: &Spin) -> bool {
    sp.polling.load(Ordering::SeqCst) || sp.blocked.load(Ordering::SeqCst) > 0
}

/// Be the standby until a stall calls this thread in (Work) or the loop ends (Leave).
///
/// A stall needs a callback running: while every look finds the reader asleep in poll(2) and
/// nothing running, the looks back off (2 ms doubling to 32 ms), and after 200 ms of that the
/// standby sleeps until the reader leaves poll(2). A daemon that gets a request now and then
/// (a passthrough daemon during a long read: an OPEN and a RELEASE every few tens of ms) thus
/// wakes its standby a few times per 100 ms instead of every 2 ms.
fn standby(sh: &Arc<Shared>, sp: &Spin, st: &mut MutexGuard<'_, State>) -> Parked {
    st.standby = true;
    let mut tick = STANDBY_TICK;
    let mut quiet = Duration::ZERO;
    loop {
        if st.done {
            st.standby = false;
            return Parked::Leave;
        }
        let seen = sp.taken.load(Ordering::SeqCst);
        if quiet >= STANDBY_SLEEP_AFTER {
            // The reader has been asleep in poll(2) for a while: sleep until it wakes us.
            sp.standby_asleep.store(true, Ordering::SeqCst);
            if waiting(sp) && !st.done {
                sp.standby_cv.wait(st);
            }
            sp.standby_asleep.store(false, Ordering::SeqCst);
            // The next look comes after the long interval: the request that woke the reader
            // may be a lone one. A callback that blocks makes the look after it a short one.
            quiet = Duration::ZERO;
            continue;
        }
        sp.standby_cv.wait_for(st, tick);
        if st.done {
            continue;
        }
        let now = sp.taken.load(Ordering::SeqCst);
        let reader = sp.reader.load(Ordering::SeqCst);
        let busy = sp.busy.load(Ordering::SeqCst);
        if !reader && now == seen && busy > 0 && sp.blocked.load(Ordering::SeqCst) == 0 {
            // A callback has run for a whole tick and nobody reads: take over reading, and
            // let another worker (a parked one, or a new one) be the standby.
            st.standby = false;
            if st.parked > st.tokens {
                sp.park_cv.notify_all();
            } else if (st.workers as u64) < sh.cfg.max_threads as u64 {
                start_worker(sh, st);
            }
            return Parked::Work;
        }
        if busy == 0 && waiting(sp) {
            quiet += tick;
            tick = (tick * 2).min(STANDBY_TICK_MAX);
        } else {
            quiet = Duration::ZERO;
            tick = STANDBY_TICK;
        }
    }
}

/// The single-threaded loop's reader: the same non-blocking clone and spin before sleeping,
/// for one thread that handles everything itself.
pub struct SingleReader {
    budget: Duration,
    fd: OwnedFd,
}

impl SingleReader {
    /// As `Spin::new`: None when the session cannot have it.
    pub fn new(se: &Session) -> Option<SingleReader> {
        if se.has_custom_io() || se.fd() < 0 {
            return None;
        }
        let budget = budget_from_env()?;
        if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
            return None;
        }
        Some(SingleReader { budget, fd: clone_nonblocking(se.fd())? })
    }

    /// The clone requests are read from (and answered on).
    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Read the next request as `Session::receive` does, spinning for the budget before
    /// sleeping in poll(2). EINTR (a signal) comes back to the caller.
    pub fn receive(&self, se: &Session, buf: &mut Vec<u8>) -> isize {
        spin_receive(se, buf, self.fd(), self.budget, || se.exited(), |_| {})
    }
}

#[cfg(test)]
mod tests {
    use super::{EPOCH, EXPLORE_EVERY, Tuner, Wait};
    use std::time::Instant;

    /// Feed the tuner epochs in which each way gives `spin` and `block` requests per epoch.
    fn run(
        t: &mut Tuner,
        at: &mut Instant,
        taken: &mut u64,
        spin: u64,
        block: u64,
        n: u32,
    ) -> Vec<Wait> {
        (0..n)
            .map(|_| {
                *taken += if t.mode == Wait::Spin { spin } else { block };
                *at += EPOCH;
                t.mode(*at, *taken, false)
            })
            .collect()
    }

    #[test]
    fn the_tuner_waits_the_way_that_takes_more_requests() {
        let t0 = Instant::now();
        let (mut at, mut taken) = (t0, 0u64);
        let mut t = Tuner::new(t0);
        assert_eq!(t.mode(t0, 0, false), Wait::Spin, "spinning before anything is measured");
        // Blocking reads take 50% more: after measuring both, mostly blocking.
        let modes = run(&mut t, &mut at, &mut taken, 2000, 3000, 64);
        let spins = modes.iter().skip(2).filter(|m| **m == Wait::Spin).count();
        assert!(spins <= 64 / EXPLORE_EVERY as usize + 1, "{modes:?}");
        // The load changes: spinning is now better, and the exploring epochs find it.
        let modes = run(&mut t, &mut at, &mut taken, 4000, 2000, 64);
        assert_eq!(modes[60..63], [Wait::Spin; 3], "{modes:?}");
        let blocks = modes.iter().skip(2 * EXPLORE_EVERY as usize).filter(|m| **m == Wait::Block);
        assert!(blocks.count() <= 64 / EXPLORE_EVERY as usize, "{modes:?}");
        // Within the margin: no flapping; a way is kept until an exploring epoch.
        let modes = run(&mut t, &mut at, &mut taken, 2000, 2020, 32);
        let changes = modes.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(changes <= 32 / EXPLORE_EVERY as usize + 1, "{modes:?}");
        // Quiet (under 2000 requests a second): spinning, whatever was measured.
        let modes = run(&mut t, &mut at, &mut taken, 10, 10, 4);
        assert!(modes.iter().all(|m| *m == Wait::Spin), "{modes:?}");
        // Slow callbacks: blocking reads, at the next epoch, whatever the rates.
        let (before, slow) = (t.mode, t.mode(at + EPOCH / 2, taken, true));
        assert_eq!(slow, before, "a way is kept for the rest of its epoch");
        at += EPOCH;
        assert_eq!(t.mode(at, taken + 9000, true), Wait::Block);
        at += EPOCH;
        assert_eq!(t.mode(at, taken + 9000, false), Wait::Spin, "quiet again, not slow");
    }
}
