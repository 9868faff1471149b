//! Splitting independent work over threads, and the process-wide thread
//! count that bounds it.
//!
//! wengert runs an operation on more than one thread only when it is large
//! enough to pay for the hand-over (about 2²¹ multiply-adds or copies per
//! thread): GEMM splits the rows or the columns of its output, convolution
//! and `im2col` split the batch. Small work, such as the element-wise ops of
//! a small network, always stays on the calling thread. Work already running
//! on a worker never splits again, so nested splitting cannot oversubscribe
//! the cores. The workers are a `rayon-core` pool started at the first split
//! and kept (the calling thread always takes the first share itself); the
//! first thread to split joins it as worker 0, and helpers poll briefly for
//! the next share before they sleep (see `pool` and `keep_awake` below, and
//! the side effect for programs that use rayon themselves).
//!
//! The thread count is [`num_threads`]: set it with [`set_num_threads`], or
//! with the environment variable `WENGERT_NUM_THREADS` read once at the first
//! use; by default it is the number of available cores. It does not bound
//! `matrixmultiply`'s own threads, which exist only when some crate in the
//! build switches on its `threading` feature: then set `MATMUL_NUM_THREADS=1`
//! (see the crate docs, "Threads").

use std::cell::Cell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rayon_core::{ThreadPool, ThreadPoolBuilder};

/// The environment variable read (once) for the default thread count.
pub const NUM_THREADS_ENV: &str = "WENGERT_NUM_THREADS";

/// Below this many units of work per thread, handing work to a worker would
/// not pay.
const MIN_WORK_PER_THREAD: usize = 1 << 21;

/// The count set by [`set_num_threads`]; 0 means "not set: use the default".
static REQUESTED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// True while a thread runs a share of split work: its work never splits
    /// again.
    static IN_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// Marks the current thread as a worker until dropped (also on a panic), then
/// restores what it was.
struct WorkerFlag(bool);

impl WorkerFlag {
    fn set() -> WorkerFlag {
        WorkerFlag(IN_WORKER.with(|w| w.replace(true)))
    }
}

impl Drop for WorkerFlag {
    fn drop(&mut self) {
        IN_WORKER.with(|w| w.set(self.0));
    }
}

/// The default thread count: `WENGERT_NUM_THREADS` when it holds a positive
/// integer, else the available cores; computed once per process.
fn default_threads() -> usize {
    static DEFAULT: OnceLock<usize> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        parse_threads(std::env::var(NUM_THREADS_ENV).ok().as_deref())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |c| c.get()))
    })
}

/// The thread count an environment value asks for: a positive integer
/// (surrounding spaces allowed); `None` for anything else.
fn parse_threads(value: Option<&str>) -> Option<usize> {
    value?.trim().parse::<usize>().ok().filter(|&n| n > 0)
}

/// Sets the largest number of threads one wengert operation may use, for the
/// whole process; `0` restores the default (`WENGERT_NUM_THREADS`, else the
/// available cores). `1` makes every operation single-threaded.
///
/// Operations already running keep the count they started with. Splitting is
/// still decided per operation: below about 2²¹ units of work per thread an
/// operation runs on the calling thread whatever the count.
///
/// # Examples
///
/// ```
/// use wengert_core::{num_threads, set_num_threads};
/// set_num_threads(1);
/// assert_eq!(num_threads(), 1);
/// set_num_threads(0); // back to WENGERT_NUM_THREADS or the core count
/// assert!(num_threads() >= 1);
/// ```
pub fn set_num_threads(n: usize) {
    REQUESTED.store(n, Ordering::Relaxed);
}

/// Returns the largest number of threads one wengert operation may use: the
/// value of [`set_num_threads`], else `WENGERT_NUM_THREADS` (a positive
/// integer; anything else is ignored), else the available cores.
///
/// # Examples
///
/// ```
/// wengert_core::set_num_threads(2);
/// assert_eq!(wengert_core::num_threads(), 2);
/// # wengert_core::set_num_threads(0);
/// ```
pub fn num_threads() -> usize {
    match REQUESTED.load(Ordering::Relaxed) {
        0 => default_threads(),
        n => n,
    }
}

/// Returns how many threads `items` independent jobs of `work` units each
/// (multiply-adds, elements copied) should use: 1 below about 2²¹ units per
/// thread, where the hand-over (microseconds) would not pay, and 1 on a
/// thread that is itself a worker of this module; else up to [`num_threads`].
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::par::threads_for;
/// assert_eq!(threads_for(100, 10), 1);
/// assert!(threads_for(64, 1 << 22) >= 1);
/// ```
pub fn threads_for(items: usize, work: usize) -> usize {
    let by_work = items.saturating_mul(work) / MIN_WORK_PER_THREAD;
    if by_work <= 1 || items <= 1 || IN_WORKER.with(Cell::get) {
        return 1;
    }
    num_threads().min(items).min(by_work)
}

/// Calls `f(first, run)` on consecutive runs of whole `chunk`-element chunks
/// of `out`, one run per thread over [`threads_for`]`(chunks, work_per_chunk)`
/// threads (a single call with all of `out` when that is 1); `first` is the
/// index of the run's first chunk. Runs are as even as whole chunks allow.
///
/// # Panics
///
/// When `chunk` is 0 or does not divide `out.len()`, or when `f` panics.
///
/// # Examples
///
/// ```
/// let mut v = vec![0usize; 6];
/// wengert_core::kernels::par::for_each_run(&mut v, 2, 1, |first, run| {
///     for (j, c) in run.chunks_mut(2).enumerate() {
///         c.fill(first + j);
///     }
/// });
/// assert_eq!(v, [0, 0, 1, 1, 2, 2]);
/// ```
pub fn for_each_run<T: Send>(
    out: &mut [T],
    chunk: usize,
    work_per_chunk: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    map_runs(out, chunk, work_per_chunk, f);
}

/// [`for_each_run`] that also returns `f(first, run)` of each run, in order
/// of `first`: the map half of a map-reduce that also writes its share of
/// `out` (a convolution's backward pass writes the input gradient of its
/// images and returns their share of the weight gradient).
///
/// # Panics
///
/// As [`for_each_run`].
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::par::map_runs;
/// let mut v = vec![0usize; 6];
/// let chunks = map_runs(&mut v, 2, 1, |first, run| {
///     for (j, c) in run.chunks_mut(2).enumerate() {
///         c.fill(first + j);
///     }
///     run.len() / 2
/// });
/// assert_eq!(v, [0, 0, 1, 1, 2, 2]);
/// assert_eq!(chunks.iter().sum::<usize>(), 3);
/// ```
pub fn map_runs<T: Send, R: Send>(
    out: &mut [T],
    chunk: usize,
    work_per_chunk: usize,
    f: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    assert!(
        chunk > 0 && out.len().is_multiple_of(chunk),
        "BUG: for_each_run needs whole chunks"
    );
    let items = out.len() / chunk;
    let threads = threads_for(items, work_per_chunk);
    if threads <= 1 {
        return vec![f(0, out)];
    }
    let per = items.div_ceil(threads);
    let mut results: Vec<Option<R>> = (0..items.div_ceil(per)).map(|_| None).collect();
    pool(threads).in_place_scope(|scope| {
        let mut runs = out
            .chunks_mut(per * chunk)
            .zip(results.iter_mut())
            .enumerate();
        // The calling thread takes the first run itself: one job fewer.
        let first = runs.next();
        for (t, (run, slot)) in runs {
            let f = &f;
            scope.spawn(move |_| helper_share(|| *slot = Some(f(t * per, run))));
        }
        if let Some((_, (run, slot))) = first {
            let _worker = WorkerFlag::set();
            *slot = Some(f(0, run));
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("BUG: every run ran"))
        .collect()
}

/// Splits `0..items` into consecutive ranges, one per thread over
/// [`threads_for`]`(items, work_per_item)` threads, and returns `f(range)` of
/// each, in order (one call with `0..items` when that is 1): the map half of a
/// map-reduce whose reduce the caller does.
///
/// # Panics
///
/// When `f` panics.
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::par::map_ranges;
/// let sums = map_ranges(10, 1, |r| r.sum::<usize>());
/// assert_eq!(sums.iter().sum::<usize>(), 45);
/// ```
pub fn map_ranges<R: Send>(
    items: usize,
    work_per_item: usize,
    f: impl Fn(Range<usize>) -> R + Sync,
) -> Vec<R> {
    let threads = threads_for(items, work_per_item);
    if threads <= 1 {
        return vec![f(0..items)];
    }
    let per = items.div_ceil(threads);
    let ranges: Vec<Range<usize>> = (0..items)
        .step_by(per)
        .map(|s| s..(s + per).min(items))
        .collect();
    let mut out: Vec<Option<R>> = ranges.iter().map(|_| None).collect();
    let (first, rest) = out.split_first_mut().expect("BUG: at least one range");
    pool(threads).in_place_scope(|scope| {
        let f = &f;
        for (slot, r) in rest.iter_mut().zip(&ranges[1..]) {
            let r = r.clone();
            scope.spawn(move |_| helper_share(|| *slot = Some(f(r))));
        }
        let _worker = WorkerFlag::set();
        *first = Some(f(ranges[0].clone()));
    });
    out.into_iter()
        .map(|r| r.expect("BUG: every range ran"))
        .collect()
}

/// How long a helper keeps polling for the next share after finishing one,
/// before it goes back to sleep (OpenMP runtimes spin the same way between
/// parallel regions). Waking a sleeping helper costs 30-40 µs on the 2-core
/// machines here, and the serial work between two products of a training
/// step lasts 50 µs to a millisecond. LeNet-5 (W4) at 2 threads, 8
/// alternating processes: 4.75-5.15 ms without polling, 4.54-4.86 ms polling
/// 300 µs, 4.33-4.70 ms polling 1 ms.
const KEEP_AWAKE: Duration = Duration::from_millis(1);

/// The pool that runs split work, kept for the life of the process.
///
/// The first thread that splits work joins the pool as its worker 0
/// (`rayon-core`'s `use_current_thread`), with `workers` helper threads
/// beside it, sized for the available cores; so that while it waits for its
/// helpers it spins and steals like one of them instead of blocking on a
/// condition variable, and its shares go to its own queue, not through the
/// injector. Together with helpers that poll for the next share
/// ([`KEEP_AWAKE`]), that took a split `[128, 512] · [512, 256]` product
/// with 50 µs of serial work before it from 193-207 µs to 130-138 µs on two
/// cores (one share 123-133 µs); either alone gained nothing. Other threads
/// use the same helpers from outside the pool, as before.
///
/// A side effect, for programs that use rayon themselves: a rayon parallel
/// iterator or `join` called on the thread that joined this pool runs on
/// this pool ([`num_threads`] threads) instead of rayon's global pool.
/// Wrap such calls in `ThreadPool::install` of a pool of your own if that
/// matters.
///
/// A larger count asked for later gets a new pool of ordinary helpers (the
/// first thread cannot join a second pool).
fn pool(threads: usize) -> Arc<ThreadPool> {
    struct Slot {
        pool: Arc<ThreadPool>,
        helpers: usize,
    }
    static POOL: Mutex<Option<Slot>> = Mutex::new(None);
    let workers = threads.saturating_sub(1).max(1);
    let mut slot = POOL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = &*slot
        && s.helpers >= workers
    {
        return Arc::clone(&s.pool);
    }
    let named = || ThreadPoolBuilder::new().thread_name(|i| format!("wengert-{i}"));
    let first = slot.is_none() && rayon_core::current_thread_index().is_none();
    let built = if first {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        let helpers = workers.max(cores.saturating_sub(1));
        named()
            .num_threads(helpers + 1)
            .use_current_thread()
            .build()
            .ok()
            .map(|p| (p, helpers))
    } else {
        None
    };
    let (p, helpers) = built.unwrap_or_else(|| {
        let p = named()
            .num_threads(workers)
            .build()
            .expect("the operating system could not start a thread");
        (p, workers)
    });
    let p = Arc::new(p);
    *slot = Some(Slot {
        pool: Arc::clone(&p),
        helpers,
    });
    p
}

/// Runs one share on a helper, marked as a worker's (it never splits
/// again), then leaves [`keep_awake`] queued behind it.
fn helper_share(share: impl FnOnce()) {
    {
        let _worker = WorkerFlag::set();
        share();
    }
    rayon_core::spawn(keep_awake);
}

/// Run by a helper after its share: polls the pool for the next share for
/// up to [`KEEP_AWAKE`], running the first it finds, instead of going to
/// sleep at once. On worker 0 (which steals it while waiting) it returns at
/// once.
fn keep_awake() {
    if rayon_core::current_thread_index() == Some(0) {
        return;
    }
    let start = Instant::now();
    while start.elapsed() < KEEP_AWAKE {
        match rayon_core::yield_now() {
            Some(rayon_core::Yield::Executed) | None => return,
            Some(rayon_core::Yield::Idle) => std::hint::spin_loop(),
        }
    }
}

/// Calls `f(i, chunk_i)` for each of the `out.len() / chunk` chunks of `out`,
/// spreading them over [`threads_for`]`(chunks, work_per_chunk)` threads.
///
/// # Panics
///
/// When `chunk` is 0 or does not divide `out.len()`, or when `f` panics.
///
/// # Examples
///
/// ```
/// let mut v = vec![0usize; 6];
/// wengert_core::kernels::par::for_each_chunk(&mut v, 2, 1, |i, c| c.fill(i));
/// assert_eq!(v, [0, 0, 1, 1, 2, 2]);
/// ```
pub fn for_each_chunk<T: Send>(
    out: &mut [T],
    chunk: usize,
    work_per_chunk: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    for_each_run(out, chunk, work_per_chunk, |first, run| {
        for (j, c) in run.chunks_mut(chunk).enumerate() {
            f(first + j, c);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_is_visited_once_with_its_index_serial_and_threaded() {
        for (items, work) in [(0, 1), (1, 1), (7, 1), (9, 1 << 21), (64, 1 << 20)] {
            let mut v = vec![usize::MAX; items * 3];
            for_each_chunk(&mut v, 3, work, |i, c| c.iter_mut().for_each(|x| *x = i));
            let want: Vec<usize> = (0..items).flat_map(|i| [i; 3]).collect();
            assert_eq!(v, want, "{items} {work}");
        }
    }

    #[test]
    fn runs_cover_every_chunk_once_and_start_at_their_first_index() {
        for (items, work) in [(1, 1), (5, 1 << 21), (64, 1 << 20), (3, 1 << 30)] {
            let mut v = vec![usize::MAX; items * 2];
            for_each_run(&mut v, 2, work, |first, run| {
                for (j, c) in run.chunks_mut(2).enumerate() {
                    c.fill(first + j);
                }
            });
            let want: Vec<usize> = (0..items).flat_map(|i| [i; 2]).collect();
            assert_eq!(v, want, "{items} {work}");
        }
    }

    #[test]
    fn ranges_cover_every_item_once_in_order() {
        for (items, work) in [(0, 1), (1, 1 << 30), (7, 1), (9, 1 << 21), (64, 1 << 20)] {
            let ranges = map_ranges(items, work, |r| r);
            let flat: Vec<usize> = ranges.into_iter().flatten().collect();
            assert_eq!(flat, (0..items).collect::<Vec<_>>(), "{items} {work}");
        }
    }

    #[test]
    fn work_on_a_worker_never_splits_again() {
        // Enough work for two threads whatever the count (at least 1 is
        // always allowed), so the outer call may split; the inner one never.
        let mut v = vec![0usize; 4];
        for_each_chunk(&mut v, 1, 1 << 30, |_, c| {
            c[0] = threads_for(1 << 10, 1 << 30);
        });
        assert_eq!(v, [1, 1, 1, 1]);
    }

    #[test]
    fn the_environment_value_must_be_a_positive_integer() {
        assert_eq!(parse_threads(Some("2")), Some(2));
        assert_eq!(parse_threads(Some(" 8\n")), Some(8));
        for bad in [
            None,
            Some(""),
            Some("0"),
            Some("-1"),
            Some("two"),
            Some("1.5"),
        ] {
            assert_eq!(parse_threads(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn splits_from_several_threads_at_once_all_finish_right() {
        // Outside threads, and whichever thread joined the pool first, split
        // at the same time while helpers poll for shares: every result is
        // right and nothing waits forever.
        let sum = |r: Range<usize>| r.map(|i| i * i).sum::<usize>();
        let want: usize = (0..64).map(|i| i * i).sum();
        std::thread::scope(|s| {
            for t in 0..4 {
                s.spawn(move || {
                    for round in 0..40 {
                        let got: usize = map_ranges(64, 1 << 22, sum).into_iter().sum();
                        assert_eq!(got, want, "thread {t} round {round}");
                        let mut v = vec![0usize; 64];
                        for_each_run(&mut v, 8, 1 << 22, |first, run| {
                            for (j, c) in run.chunks_mut(8).enumerate() {
                                c.fill(first + j);
                            }
                        });
                        assert!(
                            v.chunks(8)
                                .enumerate()
                                .all(|(i, c)| c.iter().all(|&x| x == i))
                        );
                    }
                });
            }
        });
    }

    #[test]
    fn small_work_stays_on_one_thread() {
        assert_eq!(threads_for(1000, 100), 1);
        assert_eq!(threads_for(1, usize::MAX), 1);
        assert_eq!(threads_for(0, 1 << 30), 1);
    }
}
