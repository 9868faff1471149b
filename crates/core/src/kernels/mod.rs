//! Tape-free numeric code on slices: the GEMM wrapper, broadcasting
//! element-wise loops, index-copy loops, accurate reductions, and the im2col
//! and max-pooling loops of convolution, and `tanh` for `f32`. Nothing here
//! knows about the tape.

pub mod copy;
pub mod elementwise;
pub mod gemm;
pub mod im2col;
pub mod par;
pub mod pool;
pub mod reduce;
pub mod tanh;
