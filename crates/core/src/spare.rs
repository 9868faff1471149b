//! Spare buffers: a thread keeps the emptied `Vec` of the last tape it dropped
//! and of its last backward pass, one per element type, for the next one.
//!
//! A training loop records the same number of entries every step, so the
//! tape's entry list and the replay's gradient slots would otherwise be
//! allocated, grown by doubling and freed every step: on a chain of 10,000
//! element-wise ops those copies and large frees (which make the allocator
//! consolidate its free lists) were 13% of the instructions (callgrind).

use std::any::Any;
use std::cell::RefCell;

/// The largest buffer kept, in bytes: 4 MiB, so a thread holds at most that
/// much per buffer kind while it is idle.
const MAX_BYTES: usize = 4 << 20;

thread_local! {
    static SPARE: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Takes this thread's spare `Vec<X>` (empty, with its capacity), or a new one.
pub(crate) fn take<X: 'static>() -> Vec<X> {
    SPARE
        .try_with(|spare| {
            let mut spare = spare.borrow_mut();
            let i = spare.iter().position(|b| b.is::<Vec<X>>())?;
            spare.swap_remove(i).downcast::<Vec<X>>().ok()
        })
        .ok()
        .flatten()
        .map_or_else(Vec::new, |b| *b)
}

/// Empties `v` and keeps its buffer as this thread's spare `Vec<X>`, unless it
/// has no capacity or more than [`MAX_BYTES`].
pub(crate) fn keep<X: 'static>(mut v: Vec<X>) {
    let bytes = v.capacity().saturating_mul(size_of::<X>());
    if bytes == 0 || bytes > MAX_BYTES {
        return;
    }
    // Drop the elements (which may drop tapes that keep their own buffers)
    // before borrowing the slot.
    v.clear();
    // During thread teardown the slot may be gone; the buffer is then freed.
    let _ = SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        spare.retain(|b| !b.is::<Vec<X>>());
        spare.push(Box::new(v));
    });
}

/// The block allocated and freed once per process by
/// [`raise_give_back_threshold`]: just under 32 MiB, the largest block whose
/// free still raises glibc's threshold (its `DEFAULT_MMAP_THRESHOLD_MAX` on
/// 64-bit targets). 8 MiB settled LeNet-5 but not W5, whose 8 MiB
/// activations then still went to `mmap` and back: 158,880 page faults per
/// run against 11,750 with this block, and its forward + backward step 106.5-
/// 107.6 → 93.4-94.3 ms (3 alternating runs).
const WARM_UP_BYTES: usize = (32 << 20) - (64 << 10);

/// Allocates and frees one [`WARM_UP_BYTES`] block, once per process (at the
/// first tape), so that glibc's allocator stops giving memory back to the
/// kernel at every step. (The cost: up to twice that block of freed memory
/// stays with the process instead of going back to the kernel.)
///
/// glibc serves a block above its `mmap` threshold (128 KiB at first) from
/// fresh pages, and on freeing one raises the threshold to its size, and its
/// trim threshold (above which it returns the top of the heap to the kernel)
/// to twice that. A training step that frees a few megabytes at the top of
/// the heap then gives them back and faults them in again at the next step,
/// or not, depending on where its blocks landed: in some runs LeNet-5 at
/// batch 64 grew its heap by 2.3 MiB and gave it back at every step
/// (`strace`: three `brk` calls per step, up 1.15 MiB, up 1.15 MiB, down
/// 2.3 MiB: two `[64, 6, 28, 28]` buffers, against a trim threshold of twice
/// one) and took 83,000-153,000 page faults per run instead of 3,000 (the
/// mallopt(3) man page describes the thresholds). Freeing one larger block
/// first puts both thresholds above a step's working set. Other allocators
/// only see one allocation and its free.
pub(crate) fn raise_give_back_threshold() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // `black_box`: an allocation nobody reads may be optimised away.
        let block: Vec<u8> = Vec::with_capacity(WARM_UP_BYTES);
        drop(std::hint::black_box(block));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_buffer_comes_back_empty_with_its_capacity_for_its_type_only() {
        let mut v: Vec<u64> = Vec::with_capacity(100);
        v.extend(0..10);
        let ptr = v.as_ptr();
        keep(v);
        assert!(take::<u32>().capacity() == 0, "another type gets a new Vec");
        let back = take::<u64>();
        assert!(back.is_empty());
        assert_eq!(back.capacity(), 100);
        assert_eq!(back.as_ptr(), ptr, "the same buffer");
        assert_eq!(take::<u64>().capacity(), 0, "taken once");
    }

    #[test]
    fn a_buffer_over_the_limit_is_freed_not_kept() {
        let v: Vec<u8> = Vec::with_capacity(MAX_BYTES + 1);
        keep(v);
        assert_eq!(take::<u8>().capacity(), 0);
    }

    #[test]
    fn kept_elements_are_dropped_at_once() {
        use std::rc::Rc;
        let shared = Rc::new(());
        let mut v = Vec::with_capacity(4);
        v.push(Rc::clone(&shared));
        keep(v);
        assert_eq!(Rc::strong_count(&shared), 1);
        let _ = take::<Rc<()>>();
    }
}
