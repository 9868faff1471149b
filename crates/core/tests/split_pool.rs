//! The first thread that splits work joins wengert's pool as its worker 0
//! (see `kernels::par`). Its own test binary: the pool is process-wide, and
//! only here is this test's thread certainly the first to split.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wengert_core::kernels::par::map_ranges;
use wengert_core::set_num_threads;

/// Busy for `ms` milliseconds (a share long enough for a helper to take).
fn busy(ms: u64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {
        std::hint::spin_loop();
    }
}

#[test]
fn the_first_splitting_thread_becomes_worker_zero_and_helpers_take_shares() {
    set_num_threads(2);
    assert_eq!(rayon_core::current_thread_index(), None);
    let me = std::thread::current().id();
    // Until some round runs on two threads (at most 200 rounds of 5-10 ms): on a
    // loaded machine the helper may not get a core for a few rounds.
    let mut split = 0;
    for round in 0..200 {
        if split > 0 && round >= 20 {
            break;
        }
        let seen = Mutex::new(HashSet::new());
        let parts = map_ranges(2, 1 << 30, |r| {
            seen.lock().unwrap().insert(std::thread::current().id());
            busy(5);
            r.len()
        });
        assert_eq!(parts, vec![1, 1], "round {round}");
        let seen = seen.into_inner().unwrap();
        // Worker 0 takes its own share; a helper steals the other unless it
        // is slower to wake than worker 0 is to finish (then worker 0 runs
        // both: work stealing).
        assert!(seen.contains(&me), "round {round}: worker 0 ran no share");
        split += usize::from(seen.len() == 2);
        // From the first split on, this thread is worker 0 of the pool.
        assert_eq!(rayon_core::current_thread_index(), Some(0));
    }
    assert!(split > 0, "no round ran its shares on two threads");
    // The documented side effect: rayon work started on this thread now
    // runs on wengert's pool (at least the two threads asked for).
    assert!(rayon_core::current_num_threads() >= 2);
    let (a, b) = rayon_core::join(|| 1 + 1, || 2 + 2);
    assert_eq!((a, b), (2, 4));
}
