//! Spare buffers: a thread keeps the emptied `Vec` of the last tape it dropped
//! and of its last backward pass, one per element type, for the next one; and
//! the buffer of the last large tensor it dropped, for the next large result
//! ([`keep_value`]).
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

/// glibc's initial `mmap` threshold, 128 KiB: a block this large comes from
/// fresh pages until the threshold is raised (mallopt(3)); the smallest
/// tensor buffer [`keep_value`] keeps.
pub(crate) const LARGE_BYTES: usize = 128 << 10;

/// The largest tensor buffer [`keep_value`] keeps: 16 MiB.
const MAX_VALUE_BYTES: usize = 16 << 20;

/// A kept tensor buffer, told apart in the spare list from the other
/// buffers of the same element type.
struct Value<X>(Vec<X>);

/// Keeps the buffer of a large tensor that is being dropped, when it holds
/// from [`LARGE_BYTES`] to [`MAX_VALUE_BYTES`], as this thread's one spare
/// buffer of its element type (replacing an earlier one), for the next
/// large result ([`value_buffer`]).
///
/// Without it, a `[1024, 1024]` product computed and dropped in a loop
/// allocated its 4 MiB result right before `matrixmultiply` allocated its
/// 1 MiB packing buffer, and glibc's heap grew by that 1 MiB at most calls
/// for the first dozen: 272 fresh pages faulted in per call, about 1 ms of
/// a 15 ms product on the KVM guests here.
pub(crate) fn keep_value<X: 'static>(mut v: Vec<X>) {
    let bytes = v.capacity().saturating_mul(size_of::<X>());
    if !(LARGE_BYTES..=MAX_VALUE_BYTES).contains(&bytes) {
        return;
    }
    v.clear();
    let _ = SPARE.try_with(|spare| {
        let Ok(mut spare) = spare.try_borrow_mut() else {
            return;
        };
        spare.retain(|b| !b.is::<Value<X>>());
        spare.push(Box::new(Value(v)));
    });
}

/// An empty `Vec` with room for `len` elements, for a tensor's values: when
/// they take [`LARGE_BYTES`] or more, this thread's spare tensor buffer
/// ([`keep_value`]) if its capacity is from `len` to twice that; else a new
/// allocation.
pub(crate) fn value_buffer<X: 'static>(len: usize) -> Vec<X> {
    if len.saturating_mul(size_of::<X>()) < LARGE_BYTES {
        return Vec::with_capacity(len);
    }
    SPARE
        .try_with(|spare| {
            let mut spare = spare.try_borrow_mut().ok()?;
            let i = spare.iter().position(|b| {
                b.downcast_ref::<Value<X>>()
                    .is_some_and(|v| (len..=len.saturating_mul(2)).contains(&v.0.capacity()))
            })?;
            spare.swap_remove(i).downcast::<Value<X>>().ok()
        })
        .ok()
        .flatten()
        .map_or_else(|| Vec::with_capacity(len), |b| b.0)
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
    fn a_large_tensor_buffer_is_kept_for_the_next_large_result_of_its_size() {
        let len = 2 * LARGE_BYTES / 4;
        let v: Vec<f32> = vec![1.0; len];
        let ptr = v.as_ptr();
        keep_value(v);
        // Too small to ask for a spare, less than half the spare, or more.
        for other in [len / 4, len / 2 - 1, len + 1] {
            let fresh = value_buffer::<f32>(other);
            assert_ne!(fresh.as_ptr(), ptr, "{other}");
        }
        // Another type gets its own.
        assert_eq!(value_buffer::<u32>(len).len(), 0);
        let back = value_buffer::<f32>(len * 3 / 4);
        assert_eq!((back.as_ptr(), back.len()), (ptr, 0));
        assert!(back.capacity() >= len);
        // Taken once.
        let again = value_buffer::<f32>(len);
        assert_ne!(again.as_ptr(), ptr);
        // Below 128 KiB or above 16 MiB: freed, not kept.
        keep_value(vec![0u8; LARGE_BYTES - 1]);
        keep_value(Vec::<u8>::with_capacity(MAX_VALUE_BYTES + 1));
        assert_eq!(
            value_buffer::<u8>(LARGE_BYTES - 1).capacity(),
            LARGE_BYTES - 1
        );
        assert!(value_buffer::<u8>(MAX_VALUE_BYTES / 2 + 1).capacity() <= MAX_VALUE_BYTES);
    }

    #[test]
    fn a_dropped_product_lends_its_buffer_to_the_next_one_unless_shared() {
        let a = crate::Tensor::<f32>::ones([256, 256]);
        let c = a.matmul(&a);
        let ptr = c.as_slice().as_ptr();
        drop(c);
        let c = a.matmul(&a);
        assert_eq!(c.as_slice().as_ptr(), ptr, "the same buffer");
        assert!(c.to_vec().iter().all(|&v| v == 256.0));
        // Still held by a clone: not handed on.
        let held = c.clone();
        drop(c);
        assert_ne!(a.matmul(&a).as_slice().as_ptr(), held.as_slice().as_ptr());
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
