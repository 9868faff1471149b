//! Differentiable operations: one file per op, or per family of trivially
//! similar ops. Each file holds the forward formula, the gradient of each input,
//! the public methods, the named `<Op>Backward` struct and the tests.

mod argmax;
mod arith;
mod compare;
mod exp_log;
mod logsumexp;
mod matmul;
mod max_min;
mod mean_var;
mod minmax_binary;
mod operators;
mod pow;
mod reshape;
mod scalar;
mod softmax;
mod sum;
