//! Splitting independent per-item work over the available cores.

/// Calls `f(i, chunk_i)` for each of the `out.len() / chunk` chunks of `out`,
/// spreading them over up to the available cores when the whole job is at
/// least about 2²¹ units of `work_per_chunk` per thread (spawning a thread
/// costs tens of microseconds), and on the calling thread otherwise.
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
    const MIN_WORK_PER_THREAD: usize = 1 << 21;
    assert!(
        chunk > 0 && out.len().is_multiple_of(chunk),
        "BUG: for_each_chunk needs whole chunks"
    );
    let items = out.len() / chunk;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let by_work = items.saturating_mul(work_per_chunk) / MIN_WORK_PER_THREAD;
    let threads = cores.min(items).min(by_work).max(1);
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
