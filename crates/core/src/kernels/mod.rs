//! Tape-free numeric code on slices: the GEMM wrapper, broadcasting
//! element-wise loops, index-copy loops, accurate reductions, the im2col,
//! convolution and max-pooling loops, `tanh` for `f32`, and the splitting of
//! work over threads. Nothing here knows about the tape.

pub mod conv;
pub(crate) mod conv_direct;
pub(crate) mod conv_shift;
pub(crate) mod conv_winograd;
pub mod copy;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod par;
pub mod pool;
pub mod reduce;
pub mod tanh;

/// `n` copies of `zero` in a new `Vec`, from `malloc` (or, for 128 KiB and
/// more, the thread's spare tensor buffer: [`crate::spare::value_buffer`])
/// and a fill loop.
///
/// `vec![0.0; n]` asks the allocator for zeroed memory instead, and glibc's
/// `calloc` bypasses its per-thread cache and then clears the block itself:
/// on the small products of a tiny network (W3's `[32, 16]` outputs) that
/// cost about 1,750 instructions per buffer, against a few hundred this way.
pub(crate) fn zeroed<T: Copy + 'static>(n: usize, zero: T) -> Vec<T> {
    let mut v = crate::spare::value_buffer(n);
    v.resize(n, zero);
    v
}
