//! [`Error`]: everything that can go wrong in `wengert-core`, by name.
//!
//! Every variant carries the op that failed and every shape and number involved,
//! so that the message alone says what to fix.

use crate::Shape;
use crate::gradcheck::GradCheckFailure;

/// The result type of `wengert-core`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from `wengert-core`.
///
/// Messages are lowercase, start with the op's name and list the shapes:
/// `matmul: inner dimensions differ (lhs [2, 3], rhs [4, 5])`.
///
/// # Examples
///
/// ```
/// use wengert_core::{Error, Tensor};
/// let a = Tensor::<f32>::zeros([2, 3]);
/// let b = Tensor::<f32>::zeros([4, 5]);
/// let e = a.try_matmul(&b).unwrap_err();
/// assert!(matches!(e, Error::MatmulMismatch { .. }));
/// assert_eq!(e.to_string(), "matmul: inner dimensions differ (lhs [2, 3], rhs [4, 5])");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data has a different length from the number of elements of the shape.
    /// Pass a shape whose product equals the length of the data.
    #[error("{op}: data has {len} elements but shape {shape} holds {numel}")]
    LengthMismatch {
        /// The op or constructor.
        op: &'static str,
        /// The length of the data given.
        len: usize,
        /// The shape given.
        shape: Shape,
        /// The number of elements the shape holds.
        numel: usize,
    },

    /// The product of the dimensions does not fit in `usize`. Use smaller
    /// dimensions: no machine could hold such a tensor.
    #[error("{op}: the number of elements of shape {shape} overflows usize")]
    ShapeOverflow {
        /// The op or constructor.
        op: &'static str,
        /// The offending shape.
        shape: Shape,
    },

    /// Two shapes cannot be broadcast together (NumPy rule: aligned from the
    /// right, each pair of dimensions equal or one of them 1). Reshape or
    /// unsqueeze one operand so that the dimensions line up.
    #[error("{op}: shapes cannot be broadcast together (lhs {lhs}, rhs {rhs})")]
    BroadcastMismatch {
        /// The op.
        op: &'static str,
        /// The left operand's shape.
        lhs: Shape,
        /// The right operand's shape (or the target shape of `broadcast_to`).
        rhs: Shape,
    },

    /// The inner dimensions of a matrix product differ, or the batch dimensions
    /// cannot be broadcast. Transpose an operand or fix its shape.
    #[error("matmul: inner dimensions differ (lhs {lhs}, rhs {rhs})")]
    MatmulMismatch {
        /// The left operand's shape.
        lhs: Shape,
        /// The right operand's shape.
        rhs: Shape,
    },

    /// The operand has the wrong rank for this op.
    #[error("{op}: expected {expected}, got shape {shape}")]
    RankMismatch {
        /// The op.
        op: &'static str,
        /// What the op needs, in words (`"rank 2 or more"`).
        expected: &'static str,
        /// The operand's shape.
        shape: Shape,
    },

    /// Shapes that must agree exactly do not (concat, stack, where, gather).
    #[error("{op}: shapes differ (expected {expected}, got {actual})")]
    ShapeMismatch {
        /// The op.
        op: &'static str,
        /// The shape the op required.
        expected: Shape,
        /// The shape it got.
        actual: Shape,
    },

    /// An axis does not exist for this rank. Axes count from 0; negative axes
    /// count from the end (`-1` is the last).
    #[error("{op}: axis {axis} is out of range for shape {shape}")]
    AxisOutOfRange {
        /// The op.
        op: &'static str,
        /// The axis given.
        axis: isize,
        /// The operand's shape.
        shape: Shape,
    },

    /// A reshape to a shape with a different number of elements.
    #[error("{op}: cannot reshape {from} ({from_numel} elements) into {to} ({to_numel} elements)")]
    ReshapeMismatch {
        /// The op.
        op: &'static str,
        /// The operand's shape.
        from: Shape,
        /// Its element count.
        from_numel: usize,
        /// The requested shape.
        to: Shape,
        /// The requested element count.
        to_numel: usize,
    },

    /// A reduction with no identity (max, min, argmax, argmin, or mean and var
    /// of nothing) over an axis of length zero.
    #[error("{op}: cannot reduce over {} of shape {shape}: it is empty", axis_words(.axis))]
    EmptyReduction {
        /// The op.
        op: &'static str,
        /// The axis reduced (`None`: all of them).
        axis: Option<usize>,
        /// The operand's shape.
        shape: Shape,
    },

    /// An index, or a range start plus length, lies outside a dimension.
    #[error("{op}: index {index} is out of range for axis {axis} of length {len} (shape {shape})")]
    IndexOutOfRange {
        /// The op.
        op: &'static str,
        /// The offending index (or range end).
        index: usize,
        /// The axis indexed.
        axis: usize,
        /// Its length.
        len: usize,
        /// The operand's shape.
        shape: Shape,
    },

    /// A numeric argument is outside its domain (a negative padding, an axis
    /// list with repeats, a permutation that is not one, `n < 2` in linspace...).
    #[error("{op}: {what}")]
    InvalidArgument {
        /// The op.
        op: &'static str,
        /// What was wrong, with the numbers involved.
        what: String,
    },

    /// `item` or a scalar-only operation on a tensor with more than one element.
    #[error("{op}: expected a tensor with one element, got shape {shape}")]
    NotScalar {
        /// The op.
        op: &'static str,
        /// The operand's shape.
        shape: Shape,
    },

    /// `backward` from an output with more than one element without a seed.
    /// Reduce the output to a scalar first, or pass `grad_out` of its shape with
    /// [`Tensor::backward_with`](crate::Tensor::backward_with).
    #[error("backward: output of shape {shape} is not a scalar; pass a seed of that shape")]
    NonScalarBackward {
        /// The output's shape.
        shape: Shape,
    },

    /// The seed given to `backward_with` has a different shape from the output.
    #[error("backward: seed shape {seed} differs from output shape {output}")]
    SeedShapeMismatch {
        /// The seed's shape.
        seed: Shape,
        /// The output's shape.
        output: Shape,
    },

    /// `backward` from a value that was not recorded: it depends on no tensor
    /// that requires a gradient, or it was computed under `no_grad`.
    #[error("backward: the output was not recorded on a tape (no input requires a gradient)")]
    NotRecorded,

    /// A second `backward` over a tape that an earlier `backward` consumed (it
    /// freed the saved values). Run the forward pass again, or keep the tape with
    /// [`BackwardOptions::retain_graph`](crate::BackwardOptions).
    #[error(
        "backward: the tape was consumed by an earlier backward; run the forward pass again or retain the graph"
    )]
    TapeConsumed,

    /// The graph joins values recorded on two different tapes: one of them was
    /// consumed by `backward` and its history is gone. Run the forward pass again.
    #[error("{op}: operands were recorded on different tapes (one was consumed by backward)")]
    MixedTapes {
        /// The op that joined them.
        op: &'static str,
    },

    /// The backward rule of this op is not itself differentiable: a second
    /// derivative through it is not available.
    #[error("{op}: second derivatives are not supported through this op")]
    Unsupported {
        /// The op.
        op: &'static str,
    },

    /// In anomaly mode ([`detect_anomaly`](crate::detect_anomaly)), an op produced
    /// NaN or infinity: in its forward value, or in the gradients its backward
    /// rule returned. Look at the op's inputs at that entry (`tape_dump`).
    #[error("anomaly: entry #{entry} ({op}) produced {count} non-finite value{} in the {phase} pass", if *count == 1 { "" } else { "s" })]
    Anomaly {
        /// The tape entry.
        entry: usize,
        /// The op recorded there.
        op: &'static str,
        /// Forward value or backward gradient.
        phase: Phase,
        /// How many elements were NaN or infinite.
        count: usize,
    },

    /// A gradient check found an analytic gradient that disagrees with finite
    /// differences. The report names the input, the element and both values.
    #[error("{0}")]
    GradCheck(Box<GradCheckFailure>),

    /// A convolution, im2col or pooling configuration that cannot apply to its
    /// input: a zero kernel, stride, dilation or group count, input channels
    /// that differ from the weight's or do not split into the groups, a kernel
    /// longer than the padded input, pooling padding over half the kernel.
    /// `what` names the offending parameter; change it or the shapes.
    #[error("{op}: {what} (input {input}, {params})")]
    Conv {
        /// The op.
        op: &'static str,
        /// What was wrong, with the numbers involved (and the weight's shape).
        what: String,
        /// The input's shape.
        input: Shape,
        /// Every parameter of the op (`kernel [3, 3], stride [1, 1], ...`).
        params: String,
    },
}

/// Which pass an [`Error::Anomaly`] was found in.
///
/// # Examples
///
/// ```
/// assert_eq!(wengert_core::Phase::Backward.to_string(), "backward");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The value an op computed.
    Forward,
    /// The gradients an op's backward rule returned.
    Backward,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Forward => "forward",
            Phase::Backward => "backward",
        })
    }
}

fn axis_words(axis: &Option<usize>) -> String {
    match axis {
        Some(a) => format!("axis {a}"),
        None => "all elements".to_string(),
    }
}
