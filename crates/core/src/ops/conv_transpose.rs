//! `conv_transpose2d` and `conv_transpose1d`: the adjoint of convolution with
//! respect to its input (sometimes called "deconvolution"), as PyTorch's
//! `conv_transpose2d`.
//!
//! With `x: [n, c_in, h, w]` and `weight: [c_in, c_out / g, kh, kw]` (the
//! layout of the convolution it transposes), every input pixel scatters
//! `x[b, ic, iy, ix] · weight[ic, o, i, j]` onto output pixel `(iy·sh − ph +
//! i·dh, ix·sw − pw + j·dw)` of channel `group(ic)·(c_out/g) + o`; what lands
//! on the padding is dropped. The output size per axis is
//! `(h − 1)·s − 2p + d(k − 1) + output_padding + 1`, where `output_padding <
//! stride` picks among the input sizes that a stride-`s` convolution maps to
//! the same `h`.
//!
//! A composite, like convolution: `cols = weightᵀ · x` (a batched `matmul_t`
//! per group, `[n, g, c_out/g·kh·kw, h·w]`), then [`Tensor::col2im`], then the
//! bias. So `grad_x = weight · im2col(grad_out)` (a convolution of `grad_out`),
//! `grad_weight = Σ_b x · im2col(grad_out)ᵀ`, `grad_bias = Σ grad_out`, all
//! from those ops' rules and differentiable again. The batch runs in tiles
//! whose columns stay under `COLS_BUDGET` elements; recorded, the graph
//! keeps `x` and `weight` (saved by `matmul`), never the columns (`col2im`
//! saves nothing). Bilinear: no kinks.

use crate::error::Result;
use crate::ops::conv::{COLS_BUDGET, ConvSpec, as_2d};
use crate::ops::im2col::{Im2colParams, check_window};
use crate::{Float, Tensor};

/// Stride, zero padding, output padding, dilation and groups of
/// [`Tensor::conv_transpose2d`], as `[height, width]` pairs; the default is
/// stride 1, padding 0, output padding 0, dilation 1, one group.
///
/// # Examples
///
/// ```
/// use wengert_core::ConvTranspose2dParams;
/// let p = ConvTranspose2dParams { stride: [2, 2], output_padding: [1, 1], ..Default::default() };
/// assert_eq!((p.padding, p.groups), ([0, 0], 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvTranspose2dParams {
    /// Stride of the convolution being transposed; must be positive.
    pub stride: [usize; 2],
    /// Padding of the convolution being transposed: trimmed from the output.
    pub padding: [usize; 2],
    /// Extra rows and columns added at the end of the output; each must be
    /// smaller than the stride.
    pub output_padding: [usize; 2],
    /// Spacing between kernel taps; must be positive.
    pub dilation: [usize; 2],
    /// Channel groups; must divide `c_in`.
    pub groups: usize,
}

impl Default for ConvTranspose2dParams {
    fn default() -> Self {
        ConvTranspose2dParams {
            stride: [1, 1],
            padding: [0, 0],
            output_padding: [0, 0],
            dilation: [1, 1],
            groups: 1,
        }
    }
}

/// Stride, zero padding, output padding, dilation and groups of
/// [`Tensor::conv_transpose1d`]; the default is stride 1, padding 0, output
/// padding 0, dilation 1, one group.
///
/// # Examples
///
/// ```
/// let p = wengert_core::ConvTranspose1dParams { stride: 2, ..Default::default() };
/// assert_eq!((p.output_padding, p.dilation), (0, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvTranspose1dParams {
    /// Stride of the convolution being transposed; must be positive.
    pub stride: usize,
    /// Padding of the convolution being transposed: trimmed from the output.
    pub padding: usize,
    /// Extra elements added at the end; must be smaller than the stride.
    pub output_padding: usize,
    /// Spacing between kernel taps; must be positive.
    pub dilation: usize,
    /// Channel groups; must divide `c_in`.
    pub groups: usize,
}

impl Default for ConvTranspose1dParams {
    fn default() -> Self {
        ConvTranspose1dParams {
            stride: 1,
            padding: 0,
            output_padding: 0,
            dilation: 1,
            groups: 1,
        }
    }
}

impl<T: Float> Tensor<T> {
    /// Returns the transposed 2-D convolution of `self` (`[n, c_in, h, w]`)
    /// with `weight` (`[c_in, c_out / groups, kh, kw]`) plus `bias`
    /// (`[c_out]`): `[n, c_out, oh, ow]` with `o = (h − 1)·s − 2p + d(k − 1) +
    /// output_padding + 1`. It is the gradient of [`Tensor::conv2d`] with
    /// respect to its input.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{ConvTranspose2dParams, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], [1, 1, 2, 2]).unwrap();
    /// let w = Tensor::ones([1, 1, 2, 2]);
    /// let p = ConvTranspose2dParams { stride: [2, 2], ..Default::default() };
    /// let y = x.try_conv_transpose2d(&w, None, p).unwrap();
    /// // each input pixel becomes a 2×2 block
    /// assert_eq!(y.to_vec(), vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0,
    ///                             3.0, 3.0, 4.0, 4.0, 3.0, 3.0, 4.0, 4.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`](crate::Error::RankMismatch) unless input and
    /// weight have rank 4; [`Error::Conv`](crate::Error::Conv) for input
    /// channels other than `weight[0]`, zero groups or groups that do not
    /// divide them, a zero stride, dilation or kernel, an output padding not
    /// below the stride, or a non-positive output size;
    /// [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) for a bias other
    /// than `[c_out]`. All checks run before any arithmetic.
    pub fn try_conv_transpose2d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: ConvTranspose2dParams,
    ) -> Result<Tensor<T>> {
        let spec = ConvSpec {
            op: "conv_transpose2d",
            axes: 2,
            window: Im2colParams {
                kernel: [0, 0],
                stride: params.stride,
                padding: params.padding,
                dilation: params.dilation,
            },
            groups: params.groups,
            weight: weight.shape(),
            output_padding: Some(params.output_padding),
        };
        conv_transpose(&spec, self, weight, bias)
    }

    /// Panicking twin of [`Tensor::try_conv_transpose2d`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{ConvTranspose2dParams, Tensor};
    /// let x = Tensor::<f64>::ones([1, 2, 3, 3]);
    /// let w = Tensor::<f64>::ones([2, 4, 3, 3]);
    /// let p = ConvTranspose2dParams { stride: [2, 2], padding: [1, 1], output_padding: [1, 1], ..Default::default() };
    /// assert_eq!(x.conv_transpose2d(&w, None, p).dims(), &[1, 4, 6, 6]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_conv_transpose2d`] returns an error, with its message.
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: ConvTranspose2dParams,
    ) -> Tensor<T> {
        match self.try_conv_transpose2d(weight, bias, params) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the transposed 1-D convolution of `self` (`[n, c_in, l]`) with
    /// `weight` (`[c_in, c_out / groups, k]`) plus `bias` (`[c_out]`): `[n,
    /// c_out, (l − 1)·s − 2p + d(k − 1) + output_padding + 1]`.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{ConvTranspose1dParams, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0], [1, 1, 2]).unwrap();
    /// let w = Tensor::from_vec(vec![1.0f32, 10.0, 100.0], [1, 1, 3]).unwrap();
    /// let y = x.try_conv_transpose1d(&w, None, ConvTranspose1dParams::default()).unwrap();
    /// assert_eq!(y.to_vec(), vec![1.0, 12.0, 120.0, 200.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_conv_transpose2d`], for rank-3 operands.
    pub fn try_conv_transpose1d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: ConvTranspose1dParams,
    ) -> Result<Tensor<T>> {
        let spec = ConvSpec {
            op: "conv_transpose1d",
            axes: 1,
            window: Im2colParams {
                kernel: [0, 0],
                stride: [1, params.stride],
                padding: [0, params.padding],
                dilation: [1, params.dilation],
            },
            groups: params.groups,
            weight: weight.shape(),
            output_padding: Some([0, params.output_padding]),
        };
        conv_transpose(&spec, self, weight, bias)
    }

    /// Panicking twin of [`Tensor::try_conv_transpose1d`].
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{ConvTranspose1dParams, Tensor};
    /// let x = Tensor::<f32>::ones([2, 3, 5]);
    /// let w = Tensor::<f32>::ones([3, 2, 4]);
    /// let p = ConvTranspose1dParams { stride: 2, ..Default::default() };
    /// assert_eq!(x.conv_transpose1d(&w, None, p).dims(), &[2, 2, 12]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_conv_transpose1d`] returns an error, with its message.
    #[track_caller]
    pub fn conv_transpose1d(
        &self,
        weight: &Tensor<T>,
        bias: Option<&Tensor<T>>,
        params: ConvTranspose1dParams,
    ) -> Tensor<T> {
        match self.try_conv_transpose1d(weight, bias, params) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Validates everything, then runs the transposed convolution in 2-D form.
fn conv_transpose<T: Float>(
    spec: &ConvSpec<'_>,
    x: &Tensor<T>,
    weight: &Tensor<T>,
    bias: Option<&Tensor<T>>,
) -> Result<Tensor<T>> {
    let c_out = spec.check_channels(x.shape(), bias.map(Tensor::shape), true)?;
    let (x4, w4) = (as_2d(x, spec.axes), as_2d(weight, spec.axes));
    let window = Im2colParams {
        kernel: [w4.dims()[2], w4.dims()[3]],
        ..spec.window
    };
    let show = |v: [usize; 2]| {
        if spec.axes == 1 {
            v[1].to_string()
        } else {
            format!("{v:?}")
        }
    };
    for (name, v) in [
        ("kernel", window.kernel),
        ("stride", window.stride),
        ("dilation", window.dilation),
    ] {
        if v.contains(&0) {
            return Err(spec.err(
                x.shape(),
                format!("{name} must be positive, got {}", show(v)),
            ));
        }
    }
    let op = spec
        .output_padding
        .expect("BUG: transposed spec has output_padding");
    if (0..2).any(|a| op[a] >= window.stride[a]) {
        return Err(spec.err(
            x.shape(),
            format!(
                "output_padding {} must be smaller than the stride {}",
                show(op),
                show(window.stride)
            ),
        ));
    }
    let size = [x4.dims()[2], x4.dims()[3]];
    // (h − 1)·s − 2p + d(k − 1) + op + 1, in a signed type: it can be ≤ 0.
    let out_len = |a: usize| -> i128 {
        (size[a] as i128 - 1) * window.stride[a] as i128 - 2 * window.padding[a] as i128
            + window.dilation[a] as i128 * (window.kernel[a] as i128 - 1)
            + op[a] as i128
            + 1
    };
    let (oh, ow) = (out_len(0), out_len(1));
    if oh > usize::MAX as i128 || ow > usize::MAX as i128 {
        return Err(spec.err(
            x.shape(),
            format!("output size [{oh}, {ow}] does not fit in usize"),
        ));
    }
    if oh <= 0 || ow <= 0 || size.contains(&0) {
        return Err(spec.err(
            x.shape(),
            format!(
                "output size {} is not positive",
                if spec.axes == 1 {
                    ow.to_string()
                } else {
                    format!("[{oh}, {ow}]")
                }
            ),
        ));
    }
    let out = [oh as usize, ow as usize];
    // The convolution that maps the output back onto the input grid.
    let back = check_window(spec.op, x.shape(), out, &window, spec, spec.axes)?;
    debug_assert_eq!(back, size, "BUG: transposed output size inverts the conv");
    let (n, c_in, g) = (x4.dims()[0], x4.dims()[1], spec.groups);
    let taps = window.kernel[0] * window.kernel[1];
    let wg = w4.reshape([g, c_in / g, c_out / g * taps]);
    let xg = x4.reshape([n, g, c_in / g, size[0] * size[1]]);
    let hw = size[0] * size[1];
    let run = |xt: &Tensor<T>| {
        let t = xt.dims()[0];
        wg.matmul_t(xt, true, false)
            .reshape([t, c_out * taps, hw])
            .col2im(out, window)
    };
    // Tile the batch so that the columns of one tile stay under the budget.
    let tile = (COLS_BUDGET / (c_out * taps * hw).max(1)).max(1);
    let mut y = if n <= tile {
        run(&xg)
    } else {
        let parts: Vec<Tensor<T>> = (0..n)
            .step_by(tile)
            .map(|s| run(&xg.narrow(0, s, tile.min(n - s))))
            .collect();
        Tensor::concat(&parts.iter().collect::<Vec<_>>(), 0)
    };
    if let Some(b) = bias {
        y = &y + &b.reshape([1, c_out, 1, 1]);
    }
    Ok(if spec.axes == 1 { y.squeeze(2) } else { y })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use crate::{Conv2dParams, Error};
    use rand::{Rng, SeedableRng};

    /// Direct scatter loops of the transposed convolution (f64).
    fn naive(
        x: &Tensor<f64>,
        w: &Tensor<f64>,
        bias: Option<&Tensor<f64>>,
        p: ConvTranspose2dParams,
    ) -> Tensor<f64> {
        let (xd, wd) = (x.dims(), w.dims());
        let (n, c_in, h, wi) = (xd[0], xd[1], xd[2], xd[3]);
        let (cog, kh, kw) = (wd[1], wd[2], wd[3]);
        let c_out = cog * p.groups;
        let cig = c_in / p.groups;
        let o = |a: usize, size: usize, k: usize| {
            (size - 1) * p.stride[a] + p.dilation[a] * (k - 1) + p.output_padding[a] + 1
                - 2 * p.padding[a]
        };
        let (oh, ow) = (o(0, h, kh), o(1, wi, kw));
        let mut y = vec![0.0; n * c_out * oh * ow];
        for b in 0..n {
            for ic in 0..c_in {
                for oc in 0..cog {
                    let occ = (ic / cig) * cog + oc;
                    for iy in 0..h {
                        for ix in 0..wi {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let y0 = (iy * p.stride[0] + i * p.dilation[0]) as isize
                                        - p.padding[0] as isize;
                                    let x0 = (ix * p.stride[1] + j * p.dilation[1]) as isize
                                        - p.padding[1] as isize;
                                    if y0 < 0 || x0 < 0 || y0 as usize >= oh || x0 as usize >= ow {
                                        continue;
                                    }
                                    y[((b * c_out + occ) * oh + y0 as usize) * ow + x0 as usize] +=
                                        x.as_slice()[((b * c_in + ic) * h + iy) * wi + ix]
                                            * w.as_slice()[((ic * cog + oc) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(bias) = bias {
            for (k, v) in y.iter_mut().enumerate() {
                *v += bias.as_slice()[(k / (oh * ow)) % c_out];
            }
        }
        Tensor::from_vec(y, [n, c_out, oh, ow]).unwrap()
    }

    fn random_config(rng: &mut impl Rng) -> ([usize; 4], [usize; 4], ConvTranspose2dParams) {
        loop {
            let groups = rng.random_range(1..=2);
            let stride = [rng.random_range(1..=3), rng.random_range(1..=3)];
            let p = ConvTranspose2dParams {
                stride,
                padding: [rng.random_range(0..=1), rng.random_range(0..=1)],
                output_padding: [
                    rng.random_range(0..stride[0]),
                    rng.random_range(0..stride[1]),
                ],
                dilation: [rng.random_range(1..=2), rng.random_range(1..=2)],
                groups,
            };
            let k = [rng.random_range(1..=3), rng.random_range(1..=3)];
            let size = [rng.random_range(1..=4), rng.random_range(1..=4)];
            let ok = (0..2).all(|a| {
                (size[a] - 1) * p.stride[a] + p.dilation[a] * (k[a] - 1) + p.output_padding[a] + 1
                    > 2 * p.padding[a]
            });
            if ok {
                let c_in = groups * rng.random_range(1..=2);
                let cog = rng.random_range(1..=2);
                let n = rng.random_range(1..=2);
                return ([n, c_in, size[0], size[1]], [c_in, cog, k[0], k[1]], p);
            }
        }
    }

    #[test]
    fn conv_transpose2d_matches_direct_loops_over_random_configurations() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(31);
        for _ in 0..300 {
            let (xs, ws, p) = random_config(&mut rng);
            let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng).unwrap();
            let w = Tensor::<f64>::randn(ws, 0.0, 1.0, &mut rng).unwrap();
            let b = Tensor::<f64>::randn([ws[1] * p.groups], 0.0, 1.0, &mut rng).unwrap();
            let got = x.conv_transpose2d(&w, Some(&b), p);
            let want = naive(&x, &w, Some(&b), p);
            assert_eq!(got.dims(), want.dims(), "{xs:?} {ws:?} {p:?}");
            for (a, b) in got.as_slice().iter().zip(want.as_slice()) {
                assert!((a - b).abs() < 1e-10, "{xs:?} {ws:?} {p:?}");
            }
        }
    }

    #[test]
    fn batches_larger_than_one_tile_match_direct_loops() {
        // 9 images of 64·16 × 1024 columns each: tiles of 4, 4 and 1 image.
        let mut rng = rand::rngs::StdRng::seed_from_u64(34);
        let x = Tensor::<f64>::randn([9, 2, 32, 32], 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn([2, 64, 4, 4], 0.0, 1.0, &mut rng).unwrap();
        const { assert!(9 * 64 * 16 * 1024 > 2 * crate::ops::conv::COLS_BUDGET) };
        let p = ConvTranspose2dParams::default();
        let (got, want) = (x.conv_transpose2d(&w, None, p), naive(&x, &w, None, p));
        for (a, b) in got.as_slice().iter().zip(want.as_slice()) {
            assert!((a - b).abs() < 1e-10);
        }
    }

    #[test]
    fn conv_transpose_is_the_adjoint_of_conv() {
        // <conv2d(y, w), x> = <y, conv_transpose2d(x, w)> with matching params.
        let mut rng = rand::rngs::StdRng::seed_from_u64(32);
        let p = ConvTranspose2dParams {
            stride: [2, 3],
            padding: [1, 0],
            output_padding: [1, 2],
            dilation: [1, 2],
            groups: 2,
        };
        let x = Tensor::<f64>::randn([2, 4, 3, 3], 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn([4, 3, 3, 2], 0.0, 1.0, &mut rng).unwrap();
        let t = x.conv_transpose2d(&w, None, p);
        let y = Tensor::<f64>::randn(t.dims().to_vec(), 0.0, 1.0, &mut rng).unwrap();
        let cp = Conv2dParams {
            stride: p.stride,
            padding: p.padding,
            dilation: p.dilation,
            groups: p.groups,
        };
        let c = y.conv2d(&w, None, cp);
        assert_eq!(c.dims(), x.dims());
        let dot = |a: &Tensor<f64>, b: &Tensor<f64>| -> f64 {
            a.as_slice()
                .iter()
                .zip(b.as_slice())
                .map(|(u, v)| u * v)
                .sum()
        };
        let (l, r) = (dot(&c, &x), dot(&y, &t));
        assert!((l - r).abs() < 1e-10 * (1.0 + l.abs()), "{l} vs {r}");
    }

    #[test]
    fn conv_transpose1d_matches_the_2d_form() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(33);
        for _ in 0..50 {
            let (xs, ws, p) = random_config(&mut rng);
            let x = Tensor::<f64>::randn([xs[0], xs[1], xs[3]], 0.0, 1.0, &mut rng).unwrap();
            let w = Tensor::<f64>::randn([ws[0], ws[1], ws[3]], 0.0, 1.0, &mut rng).unwrap();
            let p1 = ConvTranspose1dParams {
                stride: p.stride[1],
                padding: p.padding[1],
                output_padding: p.output_padding[1],
                dilation: p.dilation[1],
                groups: p.groups,
            };
            let p2 = ConvTranspose2dParams {
                stride: [1, p.stride[1]],
                padding: [0, p.padding[1]],
                output_padding: [0, p.output_padding[1]],
                dilation: [1, p.dilation[1]],
                groups: p.groups,
            };
            let got = x.conv_transpose1d(&w, None, p1);
            let want = naive(&x.unsqueeze(2), &w.unsqueeze(2), None, p2).squeeze(2);
            assert_eq!(got.dims(), want.dims());
            for (a, b) in got.as_slice().iter().zip(want.as_slice()) {
                assert!((a - b).abs() < 1e-10);
            }
        }
    }

    #[test]
    fn conv_transpose_errors_come_before_any_arithmetic() {
        let x = Tensor::<f32>::zeros([1, 4, 3, 3]);
        let w = Tensor::<f32>::zeros([4, 2, 3, 3]);
        let d = ConvTranspose2dParams::default();
        let e = x
            .try_conv_transpose2d(&Tensor::zeros([3, 2, 3, 3]), None, d)
            .unwrap_err();
        assert!(e.to_string().starts_with(
            "conv_transpose2d: input has 4 channels but the weight's first axis (in_channels) is 3"
        ), "{e}");
        let e = x
            .try_conv_transpose2d(&w, None, ConvTranspose2dParams { groups: 3, ..d })
            .unwrap_err();
        assert!(e.to_string().contains("groups 3 must divide"), "{e}");
        let e = x
            .try_conv_transpose2d(
                &w,
                None,
                ConvTranspose2dParams {
                    output_padding: [1, 0],
                    ..d
                },
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("output_padding [1, 0] must be smaller than the stride [1, 1]"),
            "{e}"
        );
        let e = x
            .try_conv_transpose2d(
                &w,
                None,
                ConvTranspose2dParams {
                    padding: [3, 0],
                    ..d
                },
            )
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("output size [-1, 5] is not positive"),
            "{e}"
        );
        let e = x
            .try_conv_transpose2d(
                &w,
                None,
                ConvTranspose2dParams {
                    stride: [0, 1],
                    ..d
                },
            )
            .unwrap_err();
        assert!(e.to_string().contains("stride must be positive"), "{e}");
        let e = x
            .try_conv_transpose2d(&w, Some(&Tensor::zeros([4])), d)
            .unwrap_err();
        assert!(matches!(e, Error::ShapeMismatch { .. }));
        let e = Tensor::<f32>::zeros([1, 4, 3])
            .try_conv_transpose2d(&w, None, d)
            .unwrap_err();
        assert!(matches!(
            e,
            Error::RankMismatch {
                op: "conv_transpose2d",
                ..
            }
        ));
    }

    #[test]
    fn conv_transpose_second_derivatives_flow() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(35);
        let x = Tensor::<f64>::randn([1, 2, 2, 3], 0.0, 1.0, &mut rng).unwrap();
        let w = Tensor::<f64>::randn([2, 1, 2, 2], 0.0, 1.0, &mut rng).unwrap();
        let p = ConvTranspose2dParams {
            stride: [2, 1],
            groups: 2,
            ..Default::default()
        };
        crate::gradgradcheck(|v| v[0].conv_transpose2d(&v[1], None, p).square(), &[x, w]).unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn conv_transpose2d_grad_matches_finite_differences(seed in 0u64..10_000) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let (xs, ws, p) = random_config(&mut rng);
            let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng).unwrap();
            let w = Tensor::<f64>::randn(ws, 0.0, 1.0, &mut rng).unwrap();
            let b = Tensor::<f64>::randn([ws[1] * p.groups], 0.0, 1.0, &mut rng).unwrap();
            check_grads!([x, w, b], |x, w, b| x.conv_transpose2d(w, Some(b), p))?;
        }

        #[test]
        fn conv_transpose1d_grad_matches_finite_differences(seed in 0u64..10_000) {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let (xs, ws, p) = random_config(&mut rng);
            let x = Tensor::<f64>::randn([xs[0], xs[1], xs[3]], 0.0, 1.0, &mut rng).unwrap();
            let w = Tensor::<f64>::randn([ws[0], ws[1], ws[3]], 0.0, 1.0, &mut rng).unwrap();
            let b = Tensor::<f64>::randn([ws[1] * p.groups], 0.0, 1.0, &mut rng).unwrap();
            let p = ConvTranspose1dParams {
                stride: p.stride[1], padding: p.padding[1], output_padding: p.output_padding[1],
                dilation: p.dilation[1], groups: p.groups,
            };
            check_grads!([x, w, b], |x, w, b| x.conv_transpose1d(w, Some(b), p))?;
        }
    }
}
