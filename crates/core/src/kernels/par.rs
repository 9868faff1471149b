//! Splitting independent per-item work over the available cores.

use std::sync::OnceLock;

/// Returns how many threads `items` independent jobs of `work` units each
/// (multiply-adds, elements copied) should use: 1 below about 2²¹ units per
/// thread, where spawning (tens of microseconds) would not pay, else up to
/// the available cores (counted once per process).
///
/// # Examples
///
/// ```
/// use wengert_core::kernels::par::threads_for;
/// assert_eq!(threads_for(100, 10), 1);
/// assert!(threads_for(64, 1 << 22) >= 1);
/// ```
pub fn threads_for(items: usize, work: usize) -> usize {
    const MIN_WORK_PER_THREAD: usize = 1 << 21;
    static CORES: OnceLock<usize> = OnceLock::new();
    let by_work = items.saturating_mul(work) / MIN_WORK_PER_THREAD;
    if by_work <= 1 || items <= 1 {
        return 1;
    }
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |c| c.get()));
    cores.min(items).min(by_work)
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
    assert!(
        chunk > 0 && out.len().is_multiple_of(chunk),
        "BUG: for_each_chunk needs whole chunks"
    );
    let items = out.len() / chunk;
    let threads = threads_for(items, work_per_chunk);
    if threads <= 1 {
        for (i, c) in out.chunks_mut(chunk).enumerate() {
            f(i, c);
        }
        return;
    }
    let per = items.div_ceil(threads);
    std::thread::scope(|scope| {
        for (t, run) in out.chunks_mut(per * chunk).enumerate() {
            let f = &f;
            scope.spawn(move || {
                for (j, c) in run.chunks_mut(chunk).enumerate() {
                    f(t * per + j, c);
                }
            });
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
}
