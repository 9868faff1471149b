//! Differentiable operations: one file per op, or per family of trivially
//! similar ops. Each file holds the forward formula, the gradient of each input,
//! the public methods, the named `<Op>Backward` struct and the tests.

mod abs_clamp;
mod argmax;
mod arith;
mod compare;
mod concat;
pub(crate) mod conv;
mod conv_gemm;
pub(crate) mod conv_transpose;
mod exp_log;
mod gather;
mod gelu;
pub(crate) mod im2col;
mod index;
mod linear;
mod logsumexp;
mod matmul;
mod max_min;
mod mean_var;
mod minmax_binary;
mod mse;
mod narrow_pad;
mod operators;
mod permute;
mod pool;
mod pow;
mod powers;
mod relu;
mod reshape;
mod scalar;
mod sigmoid;
mod softmax;
mod squeeze;
mod sum;
mod trig;
