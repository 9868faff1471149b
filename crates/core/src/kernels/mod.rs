//! Tape-free numeric code on slices: the GEMM wrapper, broadcasting
//! element-wise loops and accurate reductions. Nothing here knows about the tape.

pub mod elementwise;
pub mod gemm;
pub mod reduce;
