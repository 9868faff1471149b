//! `im2col` and its adjoint `col2im`: the linear pair that convolution,
//! transposed convolution and average pooling are built from.
//!
//! - `cols = im2col(x)`, `x: [n, c, h, w]` → `cols: [n, c·kh·kw, oh·ow]`, where
//!   `cols[b, (ch, i, j), (oy, ox)] = x[b, ch, oy·sh + i·dh − ph, ox·sw + j·dw −
//!   pw]`, or 0 where that lies on the zero padding:
//!   `grad_x = col2im(grad_out)`.
//! - `x = col2im(cols)`, the transpose: every entry of `cols` is added onto the
//!   pixel `im2col` read it from (entries on the padding are dropped):
//!   `grad_cols = im2col(grad_out)`.
//!
//! Each is the other's backward, so gradients of any order flow through both.
//! Output size per axis: `floor((w + 2p − d(k − 1) − 1) / s) + 1` (see
//! [`out_len`](crate::kernels::im2col::out_len)). Linear: no kinks; NaN propagates as IEEE addition does.

use std::fmt;

use smallvec::smallvec;

use crate::error::{Error, Result};
use crate::kernels::im2col::{Geom2d, col2im, im2col};
use crate::kernels::par::for_each_chunk;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// The sliding window of [`Tensor::im2col`] and [`Tensor::col2im`]: kernel
/// size, stride, zero padding (on both sides) and dilation, as `[height,
/// width]` pairs.
///
/// # Examples
///
/// ```
/// use wengert_core::Im2colParams;
/// let p = Im2colParams { stride: [2, 2], ..Im2colParams::new([3, 3]) };
/// assert_eq!(p.padding, [0, 0]);
/// assert_eq!(p.to_string(), "kernel [3, 3], stride [2, 2], padding [0, 0], dilation [1, 1]");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Im2colParams {
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Step between windows; must be positive.
    pub stride: [usize; 2],
    /// Zeros added on both sides of each axis.
    pub padding: [usize; 2],
    /// Spacing between kernel taps (1: contiguous); must be positive.
    pub dilation: [usize; 2],
}

impl Im2colParams {
    /// Returns the window of size `kernel` with stride 1, no padding and
    /// dilation 1.
    ///
    /// # Examples
    ///
    /// ```
    /// let p = wengert_core::Im2colParams::new([2, 3]);
    /// assert_eq!((p.kernel, p.stride, p.dilation), ([2, 3], [1, 1], [1, 1]));
    /// ```
    pub fn new(kernel: [usize; 2]) -> Self {
        Im2colParams {
            kernel,
            stride: [1, 1],
            padding: [0, 0],
            dilation: [1, 1],
        }
    }

    pub(crate) fn geom(&self, channels: usize, size: [usize; 2]) -> Geom2d {
        Geom2d {
            channels,
            size,
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
        }
    }
}

impl fmt::Display for Im2colParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kernel {:?}, stride {:?}, padding {:?}, dilation {:?}",
            self.kernel, self.stride, self.padding, self.dilation
        )
    }
}

/// Checks a window against the spatial size `size` of an input; `axes` is 2,
/// or 1 for the 1-D ops (which run as 2-D with a height of 1, and report only
/// the last axis). Returns `[oh, ow]`.
pub(crate) fn check_window(
    op: &'static str,
    input: &Shape,
    size: [usize; 2],
    p: &Im2colParams,
    params: &dyn fmt::Display,
    axes: usize,
) -> Result<[usize; 2]> {
    let err = |what: String| Error::Conv {
        op,
        what,
        input: input.clone(),
        params: params.to_string(),
    };
    let show = |v: [usize; 2]| -> String {
        if axes == 1 {
            v[1].to_string()
        } else {
            format!("{v:?}")
        }
    };
    for (name, v) in [
        ("kernel", p.kernel),
        ("stride", p.stride),
        ("dilation", p.dilation),
    ] {
        if v.contains(&0) {
            return Err(err(format!("{name} must be positive, got {}", show(v))));
        }
    }
    let geom = p.geom(1, size);
    geom.out().ok_or_else(|| {
        let ext = |a: usize| {
            p.dilation[a]
                .saturating_mul(p.kernel[a] - 1)
                .saturating_add(1)
        };
        let pad = |a: usize| size[a].saturating_add(p.padding[a].saturating_mul(2));
        err(format!(
            "kernel extent {} is larger than the padded input {}",
            show([ext(0), ext(1)]),
            show([pad(0), pad(1)])
        ))
    })
}

impl<T: Float> Tensor<T> {
    /// Unrolls every sliding window of `self` (`[n, c, h, w]`) into a column:
    /// returns `[n, c·kh·kw, oh·ow]` with rows ordered `(channel, i, j)` and
    /// columns `(oy, ox)`, reading zeros on the padding.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Im2colParams, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 1, 2, 3]).unwrap();
    /// let cols = x.try_im2col(Im2colParams::new([2, 2])).unwrap();
    /// assert_eq!(cols.dims(), &[1, 4, 2]);
    /// assert_eq!(cols.to_vec(), vec![1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 5.0, 6.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`] unless `self` has rank 4; [`Error::Conv`] for a
    /// zero kernel, stride or dilation, or a kernel longer than the padded input.
    pub fn try_im2col(&self, params: Im2colParams) -> Result<Tensor<T>> {
        let d = self.dims();
        if d.len() != 4 {
            return Err(Error::RankMismatch {
                op: "im2col",
                expected: "rank 4 [batch, channels, height, width]",
                shape: self.shape().clone(),
            });
        }
        let (n, c, size) = (d[0], d[1], [d[2], d[3]]);
        let [oh, ow] = check_window("im2col", self.shape(), size, &params, &params, 2)?;
        let g = params.geom(c, size);
        let out = Shape::from([n, g.rows(), oh * ow]);
        out.checked_numel("im2col")?;
        let per = g.rows() * oh * ow;
        let mut cols = vec![T::ZERO; out.numel()];
        if per > 0 {
            let image = c * size[0] * size[1];
            let x = self.as_slice();
            for_each_chunk(&mut cols, per, per, |b, dst| {
                im2col(&g, &x[b * image..(b + 1) * image], dst);
            });
        }
        Ok(Tensor::from_op(
            Tensor::from_parts(cols, out),
            &[self],
            || Im2colBackward { size, params },
        ))
    }

    /// Panicking twin of [`Tensor::try_im2col`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::ones([2, 3, 4, 4]);
    /// let cols = x.im2col(wengert_core::Im2colParams::new([3, 3]));
    /// assert_eq!(cols.dims(), &[2, 27, 4]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_im2col`] returns an error, with its message.
    #[track_caller]
    pub fn im2col(&self, params: Im2colParams) -> Tensor<T> {
        match self.try_im2col(params) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Folds columns back into images, the adjoint of [`Tensor::im2col`]:
    /// `self` is `[n, c·kh·kw, oh·ow]`, the result `[n, c, h, w]` with `[h, w]
    /// = size`; each pixel is the sum of the entries read from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::{Im2colParams, Tensor};
    /// let cols = Tensor::<f32>::ones([1, 4, 2]);
    /// let x = cols.try_col2im([2, 3], Im2colParams::new([2, 2])).unwrap();
    /// // how many windows cover each pixel
    /// assert_eq!(x.to_vec(), vec![1.0, 2.0, 1.0, 1.0, 2.0, 1.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`] unless `self` has rank 3; [`Error::Conv`] for a
    /// zero kernel, stride or dilation, a kernel longer than the padded image,
    /// rows not a multiple of `kh·kw`, or columns other than `oh·ow`.
    pub fn try_col2im(&self, size: [usize; 2], params: Im2colParams) -> Result<Tensor<T>> {
        let d = self.dims();
        if d.len() != 3 {
            return Err(Error::RankMismatch {
                op: "col2im",
                expected: "rank 3 [batch, channels·kh·kw, oh·ow]",
                shape: self.shape().clone(),
            });
        }
        let [oh, ow] = check_window("col2im", self.shape(), size, &params, &params, 2)?;
        let taps = params.kernel[0] * params.kernel[1];
        if !d[1].is_multiple_of(taps) || d[2] != oh * ow {
            return Err(Error::Conv {
                op: "col2im",
                what: format!(
                    "expected [batch, a multiple of {taps}, {}] for image size {size:?}",
                    oh * ow
                ),
                input: self.shape().clone(),
                params: params.to_string(),
            });
        }
        let (n, c) = (d[0], d[1] / taps);
        let out = Shape::from([n, c, size[0], size[1]]);
        out.checked_numel("col2im")?;
        let g = params.geom(c, size);
        let image = c * size[0] * size[1];
        let mut x = vec![T::ZERO; out.numel()];
        if image > 0 {
            let per = d[1] * d[2];
            let cols = self.as_slice();
            for_each_chunk(&mut x, image, per, |b, dst| {
                col2im(&g, &cols[b * per..(b + 1) * per], dst);
            });
        }
        Ok(Tensor::from_op(Tensor::from_parts(x, out), &[self], || {
            Col2imBackward { params }
        }))
    }

    /// Panicking twin of [`Tensor::try_col2im`].
    ///
    /// # Examples
    ///
    /// ```
    /// let cols = wengert_core::Tensor::<f64>::ones([1, 9, 4]);
    /// let x = cols.col2im([4, 4], wengert_core::Im2colParams::new([3, 3]));
    /// assert_eq!(x.dims(), &[1, 1, 4, 4]);
    /// assert_eq!(x.as_slice()[5], 4.0); // (1, 1) lies in all four windows
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_col2im`] returns an error, with its message.
    #[track_caller]
    pub fn col2im(&self, size: [usize; 2], params: Im2colParams) -> Tensor<T> {
        match self.try_col2im(size, params) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Backward of [`Tensor::try_im2col`]: the image size and the window.
struct Im2colBackward {
    size: [usize; 2],
    params: Im2colParams,
}

impl<T: Float> Backward<T> for Im2colBackward {
    fn name(&self) -> &'static str {
        "im2col"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = grad_out
            .try_col2im(self.size, self.params)
            .expect("BUG: im2col gradient has the im2col shape");
        Ok(smallvec![Some(g)])
    }
}

/// Backward of [`Tensor::try_col2im`]: the window.
struct Col2imBackward {
    params: Im2colParams,
}

impl<T: Float> Backward<T> for Col2imBackward {
    fn name(&self) -> &'static str {
        "col2im"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let g = grad_out
            .try_im2col(self.params)
            .expect("BUG: col2im gradient has the image shape");
        Ok(smallvec![Some(g)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;
    use rand::SeedableRng;

    fn params() -> impl Strategy<Value = Im2colParams> {
        (
            [1usize..4, 1usize..4],
            [1usize..3, 1usize..3],
            [0usize..3, 0usize..3],
            [1usize..3, 1usize..3],
        )
            .prop_map(|(kernel, stride, padding, dilation)| Im2colParams {
                kernel,
                stride,
                padding,
                dilation,
            })
    }

    #[test]
    fn im2col_errors_name_the_parameter() {
        let x = Tensor::<f32>::zeros([1, 1, 4, 4]);
        let e = x
            .try_im2col(Im2colParams {
                stride: [0, 1],
                ..Im2colParams::new([2, 2])
            })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "im2col: stride must be positive, got [0, 1] (input [1, 1, 4, 4], \
             kernel [2, 2], stride [0, 1], padding [0, 0], dilation [1, 1])"
        );
        let e = x.try_im2col(Im2colParams::new([5, 2])).unwrap_err();
        assert!(
            e.to_string()
                .contains("kernel extent [5, 2] is larger than the padded input [4, 4]"),
            "{e}"
        );
        let e = Tensor::<f32>::zeros([4, 4])
            .try_im2col(Im2colParams::new([2, 2]))
            .unwrap_err();
        assert!(matches!(e, Error::RankMismatch { op: "im2col", .. }));
        let e = Tensor::<f32>::zeros([1, 5, 9])
            .try_col2im([4, 4], Im2colParams::new([2, 2]))
            .unwrap_err();
        assert!(e.to_string().contains("a multiple of 4, 9"), "{e}");
    }

    #[test]
    fn empty_batch_gives_empty_columns() {
        let x = Tensor::<f64>::zeros([0, 2, 3, 3]);
        let cols = x.im2col(Im2colParams::new([2, 2]));
        assert_eq!(cols.dims(), &[0, 8, 4]);
        assert_eq!(
            cols.col2im([3, 3], Im2colParams::new([2, 2])).dims(),
            &[0, 2, 3, 3]
        );
    }

    proptest! {
        #[test]
        fn im2col_and_col2im_are_adjoint(
            n in 1usize..3, c in 1usize..3, h in 1usize..7, w in 1usize..7,
            p in params(), seed in 0u64..1000,
        ) {
            let Some([oh, ow]) = p.geom(c, [h, w]).out() else { return Ok(()) };
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let x = Tensor::<f64>::randn([n, c, h, w], 0.0, 1.0, &mut rng).unwrap();
            let y = Tensor::<f64>::randn([n, c * p.kernel[0] * p.kernel[1], oh * ow], 0.0, 1.0, &mut rng).unwrap();
            let lhs: f64 = x.im2col(p).as_slice().iter().zip(y.as_slice()).map(|(a, b)| a * b).sum();
            let rhs: f64 = x.as_slice().iter().zip(y.col2im([h, w], p).as_slice()).map(|(a, b)| a * b).sum();
            prop_assert!((lhs - rhs).abs() <= 1e-10 * (1.0 + lhs.abs()), "{lhs} vs {rhs}");
        }

        #[test]
        fn im2col_grad_matches_finite_differences(
            c in 1usize..3, h in 1usize..6, w in 1usize..6, p in params(), seed in 0u64..1000,
        ) {
            let Some([oh, ow]) = p.geom(c, [h, w]).out() else { return Ok(()) };
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let x = Tensor::<f64>::randn([2, c, h, w], 0.0, 1.0, &mut rng).unwrap();
            check_grads!([x], |a| a.im2col(p))?;
            let y = Tensor::<f64>::randn([1, c * p.kernel[0] * p.kernel[1], oh * ow], 0.0, 1.0, &mut rng).unwrap();
            check_grads!([y], |a| a.col2im([h, w], p))?;
        }
    }

    #[test]
    fn second_derivatives_flow_through_the_pair() {
        let p = Im2colParams {
            padding: [1, 0],
            ..Im2colParams::new([2, 2])
        };
        let x = Tensor::from_vec((0..12).map(|v| v as f64 * 0.1).collect(), [1, 1, 3, 4]).unwrap();
        crate::gradgradcheck(|xs| xs[0].im2col(p).square(), std::slice::from_ref(&x)).unwrap();
        let y = x.im2col(p);
        crate::gradgradcheck(|xs| xs[0].col2im([3, 4], p).square(), &[y]).unwrap();
    }
}
