//! Tape-free numeric code on slices: the GEMM wrapper, broadcasting
//! element-wise loops, index-copy loops, accurate reductions, the im2col,
//! convolution and max-pooling loops, `tanh` for `f32`, and the splitting of
//! work over threads. Nothing here knows about the tape.

pub mod conv;
pub mod copy;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod par;
pub mod pool;
pub mod reduce;
pub mod tanh;
