//! # wengert-core
//!
//! Tensors, a Wengert tape, differentiable ops and gradient checking.
//!
//! ## A quick example
//!
//! ```
//! use wengert_core::Tensor;
//!
//! // f(w) = Σ tanh(x · w), and its gradient with respect to w.
//! let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2])?;
//! let w = Tensor::from_vec(vec![0.5, -0.5], [2, 1])?.requires_grad();
//! let y = x.matmul(&w).tanh().sum();
//! let grads = y.backward()?;
//! let gw = grads.get(&w).unwrap();
//! assert_eq!(gw.dims(), &[2, 1]);
//! # Ok::<(), wengert_core::Error>(())
//! ```
//!
//! ## Tensors
//!
//! A [`Tensor`] holds `f32` (the default) or `f64` elements in row-major order,
//! any rank including 0, zero-size dimensions allowed. Storage is shared between
//! clones; ops never mutate their inputs. Constructors that take data or a shape
//! check it: a length mismatch or an element count that overflows is an
//! [`Error`], never a panic or a wild allocation.
//!
//! ## Recording and backward
//!
//! Mark the tensors you want gradients for with [`Tensor::requires_grad`]. Every
//! op with such an input is appended to a Wengert tape (see the [`tape`] module
//! for its life cycle); [`Tensor::backward`] replays the tape in reverse and
//! returns [`Gradients`] keyed by leaf. A backward pass consumes its tape; run the
//! forward pass again for the next step. [`no_grad`] switches recording off, and
//! [`Tensor::detach`] cuts a value from its history.
//!
//! ## Convolution and pooling
//!
//! [`Tensor::conv2d`] and [`Tensor::conv1d`] (NCHW / NCL, with
//! [`Conv2dParams`] / [`Conv1dParams`]: stride, padding, dilation, groups) are
//! cross-correlations as in PyTorch, computed as [`Tensor::im2col`] plus one
//! batched GEMM (with stride 1 and enough channels, without building the
//! columns: Winograd's F(2×2, 3×3) for 3×3 kernels, else one GEMM per
//! kernel tap; with stride 1 and very few channels, direct sums without
//! GEMM; [`kernels::conv`]); [`Tensor::conv_transpose2d`] is their
//! adjoint. Pooling:
//! [`Tensor::max_pool2d`], [`Tensor::avg_pool2d`], [`Tensor::global_avg_pool`]
//! and the 1-D forms. Output size per axis: `floor((w + 2p − d(k − 1) − 1) /
//! s) + 1`.
//!
//! ```
//! use wengert_core::{Conv2dParams, Tensor};
//! let x = Tensor::<f32>::ones([1, 3, 8, 8]);
//! let w = Tensor::<f32>::ones([4, 3, 3, 3]);
//! let p = Conv2dParams { padding: [1, 1], ..Default::default() };
//! let y = x.conv2d(&w, None, p).relu().max_pool2d([2, 2], [2, 2], [0, 0]);
//! assert_eq!(y.dims(), &[1, 4, 4, 4]);
//! assert_eq!(y.as_slice()[5], 27.0); // an interior 3×3×3 window of ones
//! ```
//!
//! ## Writing a new op
//!
//! Compute the value, then hand it to [`Tensor::from_op`] with the inputs and a
//! [`Backward`] struct holding the saved state ([`Tensor::from_op_with_output`]
//! when the rule needs the op's own output). Write the backward rule with
//! tensor operations. `docs/adding-an-op.md` walks through one op file.
//!
//! ## Checking gradients
//!
//! [`gradcheck()`] compares the gradients of any closure of `f64` tensors with
//! central finite differences, reducing the output with a random cotangent. The
//! `proptest` feature adds the `strategies` module for shapes, broadcastable pairs and
//! value domains away from kinks.
//!
//! ## Second derivatives
//!
//! Backward rules are tensor ops, so a backward pass can itself be recorded
//! (`BackwardOptions { create_graph: true, .. }`). [`grad`] differentiates with
//! respect to any tracked values; [`hvp`], [`jacobian`] and [`hessian`] build on
//! it, and [`gradgradcheck`] checks second derivatives against finite
//! differences.
//!
//! ```
//! use wengert_core::{hessian, Tensor};
//! // f(x) = Σ x³ has Hessian diag(6x).
//! let x = Tensor::from_vec(vec![1.0f64, -2.0], [2])?;
//! let h = hessian(|x| (&(x * x) * x).sum(), &x)?;
//! assert_eq!(h.to_vec(), vec![6.0, 0.0, 0.0, -12.0]);
//! # Ok::<(), wengert_core::Error>(())
//! ```
//!
//! ## Seeing what was recorded
//!
//! [`Tensor::tape_dump`] lists the Wengert list behind a value (entry, op,
//! inputs, shape, and a summary of each value recorded inside
//! [`watch_values`]); [`Tensor::tape_dot`] exports it to Graphviz;
//! [`detect_anomaly`] finds the first op that produced a NaN or an infinity, in
//! the forward or the backward pass (a forward one surfaces at the next
//! `backward`, or at once from [`Tensor::check_anomaly`]).
//!
//! ## Errors and panics
//!
//! Ops with shape preconditions come in pairs: `try_x` returns
//! [`Result`]`<Tensor>`, and `x` panics with the same message at the caller's
//! line. Element-wise ops cannot fail and return [`Tensor`] directly.
//!
//! ## Threads
//!
//! Large operations use several threads: a GEMM splits the rows or the
//! columns of its output (whichever spares the threads the costlier
//! packing), a convolution and `im2col` split the batch, max pooling splits
//! its planes. An operation splits only above about 2²¹ multiply-adds (or
//! copies) per thread, so small networks stay on the calling thread; the
//! shares run on a pool of worker threads started at the first split and
//! kept for the process, the calling thread taking the first share itself.
//! The thread that splits first joins that pool (it waits for its helpers by
//! spinning and stealing work instead of sleeping), and the helpers poll for
//! the next share for a millisecond before they sleep, as OpenMP runtimes
//! do: on 2 cores that took W2's training step at 2 threads from 2.18-2.33
//! to 1.86-2.00 ms, at the price of a helper that keeps a core busy between
//! products. If your program uses rayon itself: a parallel iterator or
//! `join` called on that first thread then runs on wengert's pool (see
//! [`kernels::par`]). [`set_num_threads`] bounds the count
//! for the whole process (`set_num_threads(1)`: everything single-threaded);
//! without it, the environment variable `WENGERT_NUM_THREADS`, read once, or
//! else the number of available cores.
//!
//! One interaction to know: wengert runs `matrixmultiply` single-threaded on
//! each share. If another crate in your build switches on `matrixmultiply`'s
//! `threading` feature (burn-ndarray does, and Cargo unifies features across a
//! build), `matrixmultiply` splits every product again over its own threads
//! (`MATMUL_NUM_THREADS`, by default the physical cores), inside wengert's
//! shares and beyond [`set_num_threads`]. Run such a program with
//! `MATMUL_NUM_THREADS=1`: on 2 cores a LeNet-5 training step at 2 threads
//! took 8-10 ms with the nested splitting and 5.5 ms without
//! (`docs/benchmarks.md`).
//!
//! ## Memory
//!
//! Each thread keeps a few emptied buffers for reuse instead of freeing
//! them: the entry list of the last tape it dropped, the gradient slots of
//! its last backward pass (each up to 4 MiB), and the buffer of the last
//! large tensor (128 KiB to 16 MiB) whose last holder it dropped, which the
//! next large result of about its size takes over. The first tape also
//! allocates and frees one 32 MiB block, so that glibc's allocator keeps
//! freed memory for the next step instead of returning it to the kernel
//! and faulting it in again. So a process may hold some tens of MiB more
//! than its live tensors need; in exchange the steps of a training loop
//! reuse memory instead of having the kernel fault fresh pages in
//! (`docs/benchmarks.md`).
//!
//! ## Features
//!
//! - `proptest`: the public `strategies` module (proptest strategies for
//!   shapes, broadcastable pairs, value domains away from kinks, unique values).

#![forbid(unsafe_op_in_unsafe_fn)]

mod autograd;
mod dump;
mod element;
mod error;
pub mod gradcheck;
mod higher;
pub mod kernels;
mod modes;
mod ops;
mod replay;
mod shape;
mod spare;
mod storage;
#[cfg(any(test, feature = "proptest"))]
pub mod strategies;
pub mod tape;
mod tensor;
#[cfg(test)]
mod testing;

pub use autograd::{BackwardOptions, Gradients};
pub use element::Float;
pub use error::{Error, Phase, Result};
pub use gradcheck::{
    GradCheckFailure, GradCheckOptions, gradcheck, gradcheck_with, gradgradcheck,
    gradgradcheck_with,
};
pub use higher::{grad, hessian, hvp, jacobian};
pub use kernels::par::{num_threads, set_num_threads};
pub use modes::{detect_anomaly, is_anomaly_enabled, is_grad_enabled, no_grad, watch_values};
pub use ops::conv::{Conv1dParams, Conv2dParams};
pub use ops::conv_transpose::{ConvTranspose1dParams, ConvTranspose2dParams};
pub use ops::im2col::Im2colParams;
pub use shape::Shape;
pub use tape::{Backward, Grads, LeafId};
pub use tensor::Tensor;
