//! [`Storage`]: the elements of a tensor, shared between clones.
//!
//! Two representations, one behaviour. A buffer that a kernel filled as a
//! `Vec` is adopted as it is (`Arc<Buffer<T>>`: no copy, however large; a
//! large one goes to the thread's spare when the last tensor drops it). Values
//! computed element by element from an exact-size iterator (the element-wise
//! ops) are collected straight into an `Arc<[T]>`: one allocation holding the
//! reference counts and the data, instead of one for the `Arc` and one for the
//! `Vec`. On the small tensors of a long chain of ops, the allocator is most of
//! the cost of an op, so that halves it for every element-wise result.

use std::sync::{Arc, Weak};

use crate::spare::{self, LARGE_BYTES};

/// A tensor's elements; cloning shares them.
pub(crate) enum Storage<T> {
    /// Adopted from a `Vec`.
    Vec(Arc<Buffer<T>>),
    /// Collected into a single allocation.
    Slice(Arc<[T]>),
}

/// A weak reference to a [`Storage`], as the tape keeps one per entry.
pub(crate) enum WeakStorage<T> {
    Vec(Weak<Buffer<T>>),
    Slice(Weak<[T]>),
}

/// The length from which [`Storage::collect`] collects into a `Vec` (and
/// `Tensor::map_x8` writes blocks of eight).
pub(crate) const VEC_FROM: usize = 64;

impl<T: Copy + 'static> Storage<T> {
    /// Adopts `v` without copying.
    pub(crate) fn from_vec(v: Vec<T>) -> Self {
        Storage::Vec(Arc::new(Buffer {
            values: v,
            recycle: spare::keep_value::<T>,
        }))
    }

    /// Collects `iter`: below [`VEC_FROM`] values into one allocation
    /// (exact-size iterators over slices are written in place, without an
    /// intermediate `Vec`), from there on into a `Vec` (two allocations,
    /// but a loop that compiles to vector instructions: `Arc<[T]>`'s
    /// collection counts the values written one by one, for unwinding, and
    /// stays scalar).
    #[inline]
    pub(crate) fn collect(iter: impl Iterator<Item = T>) -> Self {
        if iter.size_hint().0 >= VEC_FROM {
            Storage::from_vec(iter.collect())
        } else {
            Storage::Slice(iter.collect())
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Storage::Vec(v) => &v.values,
            Storage::Slice(s) => s,
        }
    }

    /// The elements for writing; copied first if another tensor shares them.
    pub(crate) fn make_mut(&mut self) -> &mut [T] {
        match self {
            Storage::Vec(v) => Arc::make_mut(v).values.as_mut_slice(),
            Storage::Slice(s) => Arc::make_mut(s),
        }
    }

    pub(crate) fn downgrade(&self) -> WeakStorage<T> {
        match self {
            Storage::Vec(v) => WeakStorage::Vec(Arc::downgrade(v)),
            Storage::Slice(s) => WeakStorage::Slice(Arc::downgrade(s)),
        }
    }
}

/// The elements of a [`Storage::Vec`]: the adopted `Vec`, and what to do
/// with it when the last tensor holding it drops it.
#[derive(Clone)]
pub(crate) struct Buffer<T> {
    values: Vec<T>,
    /// [`spare::keep_value`] for `T` (a function pointer, so that the
    /// storage types need no `T: 'static` bound).
    recycle: fn(Vec<T>),
}

impl<T> Drop for Buffer<T> {
    /// Runs when the last tensor holding these elements drops them (weak
    /// references aside): a large buffer goes to this thread's spare
    /// ([`spare::keep_value`]), for the next large result.
    fn drop(&mut self) {
        if self.values.capacity().saturating_mul(size_of::<T>()) >= LARGE_BYTES {
            (self.recycle)(std::mem::take(&mut self.values));
        }
    }
}

impl<T> Clone for Storage<T> {
    fn clone(&self) -> Self {
        match self {
            Storage::Vec(v) => Storage::Vec(v.clone()),
            Storage::Slice(s) => Storage::Slice(s.clone()),
        }
    }
}

impl<T> WeakStorage<T> {
    /// The storage, if some tensor still holds it.
    pub(crate) fn upgrade(&self) -> Option<Storage<T>> {
        match self {
            WeakStorage::Vec(w) => w.upgrade().map(Storage::Vec),
            WeakStorage::Slice(w) => w.upgrade().map(Storage::Slice),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_values_are_collected_into_a_vec_that_a_weak_reference_does_not_pin() {
        // The tape holds a weak reference to every recorded value. An
        // `Arc<[T]>` keeps its whole allocation until the last weak reference
        // goes (at the end of the step); an `Arc<Vec<T>>` frees the buffer as
        // soon as the last tensor drops it, so that the allocator reuses it
        // within the step (LeNet-5: 191,488 page faults in a W4 run before,
        // 17,270 after, `perf stat -e page-faults`).
        let big = Storage::collect((0..VEC_FROM).map(|i| i as f32));
        assert!(matches!(big, Storage::Vec(_)));
        let weak = big.downgrade();
        let WeakStorage::Vec(w) = &weak else {
            unreachable!()
        };
        drop(big);
        assert!(weak.upgrade().is_none());
        assert_eq!(w.strong_count(), 0);
        // Small values stay in one allocation (half the allocator calls).
        let small = Storage::collect((0..VEC_FROM - 1).map(|i| i as f32));
        assert!(matches!(small, Storage::Slice(_)));
        assert_eq!(small.as_slice().len(), VEC_FROM - 1);
    }

    #[test]
    fn both_representations_share_on_clone_and_copy_on_write() {
        for mut a in [
            Storage::from_vec(vec![1.0f32, 2.0]),
            Storage::collect([1.0f32, 2.0].into_iter()),
        ] {
            let b = a.clone();
            let weak = a.downgrade();
            a.make_mut()[0] = 5.0;
            assert_eq!(a.as_slice(), &[5.0, 2.0]);
            assert_eq!(b.as_slice(), &[1.0, 2.0], "the shared copy is unchanged");
            // The weak reference still follows the untouched original.
            assert_eq!(weak.upgrade().unwrap().as_slice(), &[1.0, 2.0]);
            drop(b);
            assert!(weak.upgrade().is_none());
        }
    }

    #[test]
    fn unshared_storage_is_written_in_place() {
        for mut a in [
            Storage::from_vec(vec![1.0f64; 3]),
            Storage::collect(std::iter::repeat_n(1.0f64, 3)),
        ] {
            let before = a.as_slice().as_ptr();
            a.make_mut()[2] = 4.0;
            assert_eq!(a.make_mut().as_ptr(), before);
            assert_eq!(a.as_slice(), &[1.0, 1.0, 4.0]);
        }
    }
}
