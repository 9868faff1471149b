//! Tape-free numeric code on slices: the GEMM wrapper, broadcasting
//! element-wise loops, index-copy loops and accurate reductions. Nothing here
//! knows about the tape.

pub mod copy;
pub mod elementwise;
pub mod gemm;
pub mod reduce;
