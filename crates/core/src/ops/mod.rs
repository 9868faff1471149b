//! Differentiable operations: one file per op, or per family of trivially
//! similar ops. Each file holds the forward formula, the gradient of each input,
//! the public methods, the named `<Op>Backward` struct and the tests.

mod arith;
mod exp_log;
mod matmul;
mod operators;
mod reshape;
mod scalar;
mod sum;
