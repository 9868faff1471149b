//! `conv2d` and `conv1d`: cross-correlation through im2col and one GEMM.
//!
//! With `x: [n, c_in, h, w]`, `weight: [c_out, c_in / g, kh, kw]` and `g`
//! groups, output channel `o` of group `o / (c_out / g)` sees only that
//! group's input channels:
//!
//! `y[b, o, oy, ox] = bias[o] + Σ_{c, i, j} weight[o, c, i, j] ·
//! x_pad[b, group_offset + c, oy·sh + i·dh, ox·sw + j·dw]`
//!
//! This is **cross-correlation, as in PyTorch**: the kernel is not flipped.
//! Textbooks that define convolution with a flipped kernel get the same layer
//! with the kernel rotated by 180°.
//!
//! Computed as `cols = im2col(x)` (`[n, g, c_in/g·kh·kw, oh·ow]`) and `y =
//! weight[g, c_out/g, c_in/g·kh·kw] · cols`, one batched GEMM, then a
//! broadcast add of the bias. Gradients: `grad_x = col2im(weightᵀ ·
//! grad_out)`, `grad_weight = Σ_b grad_out · colsᵀ`, `grad_bias = Σ_{b, oy,
//! ox} grad_out`, written with those tensor ops (see `conv_gemm.rs`), so they
//! are differentiable again.
//!
//! Output size per axis: `floor((w + 2p − d(k − 1) − 1) / s) + 1`. The
//! lecture notes write `r = (w − f + 2b) / p` (w input, f filter, b border, p
//! step), which drops the `+ 1` and the floor: for a 4×4 input and a 2×2
//! filter it gives 2 where the output is 3×3.
//!
//! Large batches are processed in tiles, so that the column buffer of one tile
//! stays under [`COLS_BUDGET`] elements, in the forward and the backward pass
//! (recorded, the op saves `x` and `weight`, not the columns). Bilinear: no
//! kinks.

use std::fmt;

use crate::error::{Error, Result};
use crate::ops::conv_gemm::{ConvGeom, conv_gemm};
use crate::ops::im2col::{Im2colParams, check_window};
use crate::{Float, Shape, Tensor};

/// The largest column buffer, in elements, that one convolution tile builds
/// (16 MiB of `f32`); a batch whose columns exceed it is split.
pub(crate) const COLS_BUDGET: usize = 1 << 22;

/// Stride, zero padding, dilation and groups of [`Tensor::conv2d`], as
/// `[height, width]` pairs; the default is stride 1, padding 0, dilation 1,
/// one group.
///
/// # Examples
///
/// ```
/// use wengert_core::Conv2dParams;
/// let p = Conv2dParams { padding: [1, 1], ..Conv2dParams::default() };
/// assert_eq!((p.stride, p.dilation, p.groups), ([1, 1], [1, 1], 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv2dParams {
    /// Step between windows; must be positive.
    pub stride: [usize; 2],
    /// Zeros added on both sides of each spatial axis.
    pub padding: [usize; 2],
    /// Spacing between kernel taps (1: contiguous); must be positive.
    pub dilation: [usize; 2],
    /// Channel groups; must divide both channel counts (`c_in` for depthwise).
    pub groups: usize,
}

impl Default for Conv2dParams {
    fn default() -> Self {
        Conv2dParams {
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// Stride, zero padding, dilation and groups of [`Tensor::conv1d`]; the
/// default is stride 1, padding 0, dilation 1, one group.
///
/// # Examples
///
/// ```
/// use wengert_core::Conv1dParams;
/// let p = Conv1dParams { stride: 2, ..Conv1dParams::default() };
/// assert_eq!((p.padding, p.dilation, p.groups), (0, 1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Conv1dParams {
    /// Step between windows; must be positive.
    pub stride: usize,
    /// Zeros added on both ends.
    pub padding: usize,
    /// Spacing between kernel taps (1: contiguous); must be positive.
    pub dilation: usize,
    /// Channel groups; must divide both channel counts.
    pub groups: usize,
}

impl Default for Conv1dParams {
    fn default() -> Self {
        Conv1dParams {
            stride: 1,
            padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

/// What a convolution-like op needs to know to validate its operands, in the
/// 2-D form (a 1-D op has height 1); `axes` is the user's spatial rank.
pub(crate) struct ConvSpec<'a> {
    pub(crate) op: &'static str,
    pub(crate) axes: usize,
    pub(crate) window: Im2colParams,
    pub(crate) groups: usize,
    /// The weight as the user passed it, for messages.
    pub(crate) weight: &'a Shape,
    /// The extra parameter of transposed convolution.
    pub(crate) output_padding: Option<[usize; 2]>,
}

impl fmt::Display for ConvSpec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.window;
        let show = |v: [usize; 2]| {
            if self.axes == 1 {
                v[1].to_string()
            } else {
                format!("{v:?}")
            }
        };
        write!(
            f,
            "weight {}, stride {}, padding {}",
            self.weight,
            show(p.stride),
            show(p.padding)
        )?;
        if let Some(op) = self.output_padding {
            write!(f, ", output_padding {}", show(op))?;
        }
        write!(f, ", dilation {}, groups {}", show(p.dilation), self.groups)
    }
}

impl ConvSpec<'_> {
    pub(crate) fn err(&self, input: &Shape, what: String) -> Error {
        Error::Conv {
            op: self.op,
            what,
            input: input.clone(),
            params: self.to_string(),
        }
    }

    /// Checks the ranks of input and weight, the groups and the bias length
    /// (`c_out`); returns `c_out`. `per_group_in` is true for a convolution
    /// weight `[c_out, c_in/g, ..]`, false for a transposed one `[c_in,
    /// c_out/g, ..]`.
    pub(crate) fn check_channels(
        &self,
        x: &Shape,
        bias: Option<&Shape>,
        transposed: bool,
    ) -> Result<usize> {
        let rank = self.axes + 2;
        let (what_x, what_w) = match (self.axes, transposed) {
            (1, false) => (
                "rank 3 input [batch, channels, length]",
                "rank 3 weight [out_channels, in_channels / groups, kernel]",
            ),
            (1, true) => (
                "rank 3 input [batch, channels, length]",
                "rank 3 weight [in_channels, out_channels / groups, kernel]",
            ),
            (_, false) => (
                "rank 4 input [batch, channels, height, width]",
                "rank 4 weight [out_channels, in_channels / groups, kh, kw]",
            ),
            (_, true) => (
                "rank 4 input [batch, channels, height, width]",
                "rank 4 weight [in_channels, out_channels / groups, kh, kw]",
            ),
        };
        for (shape, expected) in [(x, what_x), (self.weight, what_w)] {
            if shape.rank() != rank {
                return Err(Error::RankMismatch {
                    op: self.op,
                    expected,
                    shape: shape.clone(),
                });
            }
        }
        let (c_in, w0, w1, g) = (x[1], self.weight[0], self.weight[1], self.groups);
        if g == 0 {
            return Err(self.err(x, "groups must be positive".into()));
        }
        // Saturating: an absurd group count must give an error, not overflow.
        let c_out = if transposed { w1.saturating_mul(g) } else { w0 };
        let expected_in = if transposed { w0 } else { w1.saturating_mul(g) };
        if c_in != expected_in {
            let what = if transposed {
                format!(
                    "input has {c_in} channels but the weight's first axis (in_channels) is {w0}"
                )
            } else {
                format!(
                    "input has {c_in} channels but the weight expects {expected_in} ({w1} · {g} groups)"
                )
            };
            return Err(self.err(x, what));
        }
        if c_in % g != 0 || c_out % g != 0 {
            return Err(self.err(
                x,
                format!("groups {g} must divide the input channels {c_in} and the output channels {c_out}"),
            ));
        }
        if let Some(b) = bias
            && b.dims() != [c_out]
        {
            return Err(Error::ShapeMismatch {
                op: self.op,
                expected: Shape::from([c_out]),
                actual: b.clone(),
            });
        }
        Ok(c_out)
    }
}

impl<T: Float> Tensor<T> {
    /// Returns the 2-D cross-correlation of `self` (`[n, c_in, h, w]`) with
    /// `weight` (`[c_out, c_in / groups, kh, kw]`) plus `bias` (`[c_out]`), as
    /// PyTorch's `conv2d`: the kernel is **not** flipped.
    ///
    /// The output is `[n, c_out, oh, ow]` with, per axis, `o = floor((w + 2p −
    /// d(k − 1) − 1) / s) + 1`. (The lecture notes' `r = (w − f + 2b) / p`
    /// omits the `+ 1` and the floor.)
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Conv2dParams, Tensor};
    /// // The lecture notes' 4×4 input and vertical-edge filter.
    /// let x = Tensor::from_vec(vec![1.0f32, 3.0, 6.0, 4.0, 2.0, 2.0, 0.0, 4.0,
    ///                               5.0, 0.0, 1.0, 4.0, 4.0, 4.0, 1.0, 3.0], [1, 1, 4, 4]).unwrap();
    /// let w = Tensor::from_vec(vec![-1.0f32, 1.0, -1.0, 1.0], [1, 1, 2, 2]).unwrap();
    /// let y = x.try_conv2d(&w, None, Conv2dParams::default()).unwrap();
    /// assert_eq!(y.dims(), &[1, 1, 3, 3]);
    /// assert_eq!(y.to_vec(), vec![2.0, 1.0, 2.0, -5.0, -1.0, 7.0, -5.0, -2.0, 5.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`] unless input and weight have rank 4;
    /// [`Error::Conv`] for input channels other than `weight[1] · groups`, zero
    /// groups or groups that do not divide `c_out`, a zero stride or dilation,
    /// or a dilated kernel longer than the padded input;
    /// [`Error::ShapeMismatch`] for a bias other than `[c_out]`. All checks run
    /// before any arithmetic.
    pub fn try_conv2d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: Conv2dParams,
    ) -> Result<Tensor<T>> {
        let spec = ConvSpec {
            op: "conv2d",
            axes: 2,
            window: Im2colParams {
                kernel: [0, 0],
                stride: params.stride,
                padding: params.padding,
                dilation: params.dilation,
            },
            groups: params.groups,
            weight: weight.shape(),
            output_padding: None,
        };
        conv(&spec, self, weight, bias)
    }

    /// Panicking twin of [`Tensor::try_conv2d`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Conv2dParams, Tensor};
    /// let x = Tensor::<f64>::ones([2, 3, 5, 5]);
    /// let w = Tensor::<f64>::ones([4, 3, 3, 3]);
    /// let p = Conv2dParams { padding: [1, 1], stride: [2, 2], ..Default::default() };
    /// let y = x.conv2d(&w, None, p);
    /// assert_eq!(y.dims(), &[2, 4, 3, 3]);
    /// assert_eq!(y.as_slice()[4], 27.0); // an interior window sees 3·3·3 ones
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_conv2d`] returns an error, with its message.
    #[track_caller]
    pub fn conv2d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: Conv2dParams,
    ) -> Tensor<T> {
        match self.try_conv2d(weight, bias, params) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the 1-D cross-correlation of `self` (`[n, c_in, l]`) with
    /// `weight` (`[c_out, c_in / groups, k]`) plus `bias` (`[c_out]`), as
    /// PyTorch's `conv1d` (the kernel is not flipped); the output is `[n,
    /// c_out, floor((l + 2p − d(k − 1) − 1) / s) + 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Conv1dParams, Tensor};
    /// // The lecture notes' moving average of a time series.
    /// let y = Tensor::from_vec(vec![100.0f64, 120.0, 115.0, 200.0, 135.0, 130.0, 140.0], [1, 1, 7]).unwrap();
    /// let f = Tensor::full([1, 1, 4], 0.25);
    /// let avg = y.try_conv1d(&f, None, Conv1dParams::default()).unwrap();
    /// assert_eq!(avg.to_vec(), vec![133.75, 142.5, 145.0, 151.25]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_conv2d`], for rank-3 operands.
    pub fn try_conv1d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: Conv1dParams,
    ) -> Result<Tensor<T>> {
        let spec = ConvSpec {
            op: "conv1d",
            axes: 1,
            window: Im2colParams {
                kernel: [0, 0],
                stride: [1, params.stride],
                padding: [0, params.padding],
                dilation: [1, params.dilation],
            },
            groups: params.groups,
            weight: weight.shape(),
            output_padding: None,
        };
        conv(&spec, self, weight, bias)
    }

    /// Panicking twin of [`Tensor::try_conv1d`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Conv1dParams, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], [1, 1, 3]).unwrap();
    /// let w = Tensor::from_vec(vec![1.0f32, -1.0], [1, 1, 2]).unwrap();
    /// let p = Conv1dParams { padding: 1, ..Default::default() };
    /// assert_eq!(x.conv1d(&w, None, p).to_vec(), vec![-1.0, -1.0, -1.0, 3.0]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_conv1d`] returns an error, with its message.
    #[track_caller]
    pub fn conv1d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: Conv1dParams,
    ) -> Tensor<T> {
        match self.try_conv1d(weight, bias, params) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Views a 1-D operand `[a, b, l]` as 2-D `[a, b, 1, l]`.
pub(crate) fn as_2d<T: Float>(t: &Tensor<T>, axes: usize) -> Tensor<T> {
    if axes == 1 { t.unsqueeze(2) } else { t.clone() }
}

/// Validates everything, then runs the convolution in the 2-D form.
fn conv<T: Float>(
    spec: &ConvSpec<'_>,
    x: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
) -> Result<Tensor<T>> {
    let c_out = spec.check_channels(x.shape(), bias.map(Tensor::shape), false)?;
    let (x4, w4) = (as_2d(x, spec.axes), as_2d(weight, spec.axes));
    let window = Im2colParams {
        kernel: [w4.dims()[2], w4.dims()[3]],
        ..spec.window
    };
    let size = [x4.dims()[2], x4.dims()[3]];
    let [oh, ow] = check_window(spec.op, x.shape(), size, &window, spec, spec.axes)?;
    let geo = ConvGeom {
        window,
        groups: spec.groups,
        c_in: x4.dims()[1],
        c_out,
        size,
        out: [oh, ow],
    };
    let mut y = conv_gemm(&x4, &w4, geo);
    if let Some(b) = bias {
        y = &y + &b.reshape([1, c_out, 1, 1]);
    }
    Ok(if spec.axes == 1 { y.squeeze(2) } else { y })
}

#[cfg(test)]
#[path = "conv_tests.rs"]
pub(crate) mod tests;
