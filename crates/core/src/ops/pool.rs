//! Max pooling, average pooling and global average pooling (NCHW / NCL).
//!
//! - `max_pool`: `y[b, c, oy, ox] = max` of the window's real pixels (padding
//!   is never a candidate). The forward pass finds the position `k*` of each
//!   window's maximum ([`max_pool_argmax`]) and gathers `x[k*]`, so
//!   `grad_x = index_add(zeros, k*, grad_out)`, a constant scatter. Each
//!   window sends its gradient to exactly one pixel, the **first** maximum in
//!   row-major order; where overlapping windows (stride < kernel) share a
//!   maximum, their contributions add up. A NaN in a window is its maximum, so
//!   NaN propagates (to the value and, through the scatter, to the gradient).
//! - `avg_pool`: `y = (Σ window) / count` through [`Tensor::im2col`], a sum
//!   and a division, so `grad_x = col2im(grad_out / count)`. `count` is `kh·kw`
//!   with `count_include_pad` (zeros of the padding are averaged in, as
//!   PyTorch's default), otherwise the number of real pixels in the window.
//! - `global_avg_pool`: the mean over every spatial axis, `[n, c, ..] → [n,
//!   c]`; `grad_x = grad_out / (h·w)` broadcast.
//!
//! Output size per axis: `floor((w + 2p − k) / s) + 1` (the lecture notes'
//! `r = (w − f + 2b) / p` drops the `+ 1` and the floor). As in PyTorch the
//! padding may be at most half the kernel, so every window holds a real pixel.
//! Max pooling is piecewise linear with kinks at ties; average pooling is linear.

use std::fmt;

use crate::error::{Error, Result};
use smallvec::smallvec;

use crate::kernels::pool::max_pool_argmax;
use crate::ops::im2col::{Im2colParams, check_window};
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor};

/// The parameters of one pooling call, for validation and messages.
struct PoolSpec {
    op: &'static str,
    axes: usize,
    window: Im2colParams,
    count_include_pad: Option<bool>,
}

impl fmt::Display for PoolSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: [usize; 2]| {
            if self.axes == 1 {
                v[1].to_string()
            } else {
                format!("{v:?}")
            }
        };
        let w = &self.window;
        write!(
            f,
            "kernel {}, stride {}, padding {}",
            show(w.kernel),
            show(w.stride),
            show(w.padding)
        )?;
        if let Some(c) = self.count_include_pad {
            write!(f, ", count_include_pad {c}")?;
        }
        Ok(())
    }
}

impl PoolSpec {
    fn new2(op: &'static str, kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Self {
        PoolSpec {
            op,
            axes: 2,
            window: Im2colParams {
                kernel,
                stride,
                padding,
                dilation: [1, 1],
            },
            count_include_pad: None,
        }
    }

    fn new1(op: &'static str, kernel: usize, stride: usize, padding: usize) -> Self {
        PoolSpec {
            axes: 1,
            ..PoolSpec::new2(op, [1, kernel], [1, stride], [0, padding])
        }
    }

    /// Validates `x` and returns it as `[n, c, h, w]` with `[oh, ow]`.
    fn check<T: Float>(&self, x: &Tensor<T>) -> Result<(Tensor<T>, [usize; 2])> {
        if x.rank() != self.axes + 2 {
            return Err(Error::RankMismatch {
                op: self.op,
                expected: if self.axes == 1 {
                    "rank 3 [batch, channels, length]"
                } else {
                    "rank 4 [batch, channels, height, width]"
                },
                shape: x.shape().clone(),
            });
        }
        let x4 = if self.axes == 1 {
            x.unsqueeze(2)
        } else {
            x.clone()
        };
        let size = [x4.dims()[2], x4.dims()[3]];
        let out = check_window(self.op, x.shape(), size, &self.window, self, self.axes)?;
        let w = &self.window;
        // With padding, an empty input would give windows of padding only:
        // no maximum, and a mean over no pixel.
        if size.contains(&0) {
            return Err(Error::Conv {
                op: self.op,
                what: "input has an empty spatial dimension".into(),
                input: x.shape().clone(),
                params: self.to_string(),
            });
        }
        if (0..2).any(|a| 2 * w.padding[a] > w.kernel[a]) {
            return Err(Error::Conv {
                op: self.op,
                what: "padding must be at most half the kernel".into(),
                input: x.shape().clone(),
                params: self.to_string(),
            });
        }
        Ok((x4, out))
    }

    fn finish<T: Float>(&self, y: Tensor<T>) -> Tensor<T> {
        if self.axes == 1 { y.squeeze(2) } else { y }
    }

    fn max<T: Float>(&self, x: &Tensor<T>) -> Result<Tensor<T>> {
        let (x4, [oh, ow]) = self.check(x)?;
        let d = x4.dims();
        let (n, c) = (d[0], d[1]);
        let geom = self.window.geom(n * c, [d[2], d[3]]);
        let argmax = max_pool_argmax(&geom, x4.as_slice());
        let xs = x4.as_slice();
        let values: Vec<T> = argmax.iter().map(|&k| xs[k]).collect();
        let y = Tensor::from_parts(values, Shape::from([n, c, oh, ow]));
        let y = Tensor::from_op(y, &[&x4], || MaxPoolBackward {
            input: x4.shape().clone(),
            argmax,
        });
        Ok(self.finish(y))
    }

    fn avg<T: Float>(&self, x: &Tensor<T>, count_include_pad: bool) -> Result<Tensor<T>> {
        let (x4, [oh, ow]) = self.check(x)?;
        let d = x4.dims();
        let (n, c, size) = (d[0], d[1], [d[2], d[3]]);
        let sums = x4
            .reshape([n * c, 1, size[0], size[1]])
            .im2col(self.window)
            .sum_axes(&[1], false);
        let taps = self.window.kernel[0] * self.window.kernel[1];
        let y = if count_include_pad {
            sums.div_scalar(T::from_usize(taps))
        } else {
            // How many real pixels each window covers: a constant.
            let counts = Tensor::<T>::ones([1, 1, size[0], size[1]])
                .detach()
                .im2col(self.window)
                .sum_axes(&[1], false);
            &sums / &counts
        };
        Ok(self.finish(y.reshape([n, c, oh, ow])))
    }
}

/// Backward of max pooling: saves the input shape and the flat index of each
/// window's maximum. `grad_x = index_add(zeros, k*, grad_out)`: a scatter
/// loop for a plain backward, the recorded `index_add` (differentiable again)
/// under `create_graph`.
struct MaxPoolBackward {
    input: Shape,
    argmax: Vec<usize>,
}

impl<T: Float> Backward<T> for MaxPoolBackward {
    fn name(&self) -> &'static str {
        "max_pool"
    }
    fn backward(&self, grad_out: &Tensor<T>, _needs: &[bool]) -> Result<Grads<T>> {
        let flat = grad_out.reshape([self.argmax.len()]);
        let grad_x = if Tensor::would_record(&[&flat]) {
            Tensor::zeros([self.input.numel()]).index_add(0, &self.argmax, &flat)
        } else {
            let mut gx = vec![T::ZERO; self.input.numel()];
            for (&k, &g) in self.argmax.iter().zip(flat.as_slice()) {
                gx[k] += g;
            }
            Tensor::from_parts(gx, Shape::from([self.input.numel()]))
        };
        Ok(smallvec![Some(grad_x.reshape(self.input.clone()))])
    }
}

impl<T: Float> Tensor<T> {
    /// Returns the maximum of each `kernel` window of `self` (`[n, c, h, w]`),
    /// moved by `stride`, over the input padded by `padding` (padding never
    /// wins): `[n, c, oh, ow]`, `o = floor((w + 2p − k) / s) + 1`.
    ///
    /// The gradient goes to the first maximum of each window in row-major
    /// order; a NaN in a window propagates.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// // The lecture notes' 2×2 max pool, stride 1.
    /// let x = Tensor::from_vec(vec![1.0f32, 3.0, 6.0, 4.0, 2.0, 2.0, 0.0, 4.0,
    ///                               5.0, 0.0, 1.0, 4.0, 4.0, 4.0, 1.0, 3.0], [1, 1, 4, 4]).unwrap();
    /// let y = x.try_max_pool2d([2, 2], [1, 1], [0, 0]).unwrap();
    /// assert_eq!(y.to_vec(), vec![3.0, 6.0, 6.0, 5.0, 2.0, 4.0, 5.0, 4.0, 4.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`] unless `self` has rank 4; [`Error::Conv`] for a
    /// zero kernel or stride, padding over half the kernel, or a kernel longer
    /// than the padded input.
    pub fn try_max_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Result<Tensor<T>> {
        PoolSpec::new2("max_pool2d", kernel, stride, padding).max(self)
    }

    /// Panicking twin of [`Tensor::try_max_pool2d`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::arange(0.0, 16.0, 1.0).unwrap().reshape([1, 1, 4, 4]);
    /// assert_eq!(x.max_pool2d([2, 2], [2, 2], [0, 0]).to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_max_pool2d`] returns an error, with its message.
    #[track_caller]
    pub fn max_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Tensor<T> {
        match self.try_max_pool2d(kernel, stride, padding) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the maximum of each window of `self` (`[n, c, l]`): `[n, c,
    /// floor((l + 2p − k) / s) + 1]`; conventions as [`Tensor::max_pool2d`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 5.0, 2.0, 0.0, 3.0], [1, 1, 5]).unwrap();
    /// assert_eq!(x.try_max_pool1d(2, 2, 1).unwrap().to_vec(), vec![1.0, 5.0, 3.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_max_pool2d`], for a rank-3 input.
    pub fn try_max_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Result<Tensor<T>> {
        PoolSpec::new1("max_pool1d", kernel, stride, padding).max(self)
    }

    /// Panicking twin of [`Tensor::try_max_pool1d`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![1.0f32, 5.0, 2.0], [1, 1, 3]).unwrap();
    /// assert_eq!(x.max_pool1d(2, 1, 0).to_vec(), vec![5.0, 5.0]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_max_pool1d`] returns an error, with its message.
    #[track_caller]
    pub fn max_pool1d(&self, kernel: usize, stride: usize, padding: usize) -> Tensor<T> {
        match self.try_max_pool1d(kernel, stride, padding) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the mean of each `kernel` window of `self` (`[n, c, h, w]`):
    /// `[n, c, oh, ow]`, `o = floor((w + 2p − k) / s) + 1`. With
    /// `count_include_pad` the padding's zeros count in the mean (divide by
    /// `kh·kw`, PyTorch's default); without, only the real pixels do.
    ///
    /// # Examples
    ///
    /// ```
    /// use wengert_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [1, 1, 2, 2]).unwrap();
    /// let y = x.try_avg_pool2d([2, 2], [2, 2], [1, 1], true).unwrap();
    /// assert_eq!(y.to_vec(), vec![0.25, 0.5, 0.75, 1.0]);
    /// let y = x.try_avg_pool2d([2, 2], [2, 2], [1, 1], false).unwrap();
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_max_pool2d`].
    pub fn try_avg_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        count_include_pad: bool,
    ) -> Result<Tensor<T>> {
        let spec = PoolSpec {
            count_include_pad: Some(count_include_pad),
            ..PoolSpec::new2("avg_pool2d", kernel, stride, padding)
        };
        spec.avg(self, count_include_pad)
    }

    /// Panicking twin of [`Tensor::try_avg_pool2d`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::arange(0.0, 16.0, 1.0).unwrap().reshape([1, 1, 4, 4]);
    /// assert_eq!(x.avg_pool2d([2, 2], [2, 2], [0, 0], true).to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_avg_pool2d`] returns an error, with its message.
    #[track_caller]
    pub fn avg_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        count_include_pad: bool,
    ) -> Tensor<T> {
        match self.try_avg_pool2d(kernel, stride, padding, count_include_pad) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the mean of each window of `self` (`[n, c, l]`): `[n, c,
    /// floor((l + 2p − k) / s) + 1]`; `count_include_pad` as
    /// [`Tensor::avg_pool2d`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![2.0f32, 4.0, 6.0], [1, 1, 3]).unwrap();
    /// assert_eq!(x.try_avg_pool1d(2, 1, 0, true).unwrap().to_vec(), vec![3.0, 5.0]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Tensor::try_max_pool1d`].
    pub fn try_avg_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        count_include_pad: bool,
    ) -> Result<Tensor<T>> {
        let spec = PoolSpec {
            count_include_pad: Some(count_include_pad),
            ..PoolSpec::new1("avg_pool1d", kernel, stride, padding)
        };
        spec.avg(self, count_include_pad)
    }

    /// Panicking twin of [`Tensor::try_avg_pool1d`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::from_vec(vec![2.0f32, 4.0], [1, 1, 2]).unwrap();
    /// assert_eq!(x.avg_pool1d(2, 2, 1, false).to_vec(), vec![2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_avg_pool1d`] returns an error, with its message.
    #[track_caller]
    pub fn avg_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        count_include_pad: bool,
    ) -> Tensor<T> {
        match self.try_avg_pool1d(kernel, stride, padding, count_include_pad) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// Returns the mean over every spatial axis of `self` (`[n, c, ...]`, rank
    /// 3 or more): `[n, c]`.
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f64>::arange(0.0, 8.0, 1.0).unwrap().reshape([1, 2, 2, 2]);
    /// assert_eq!(x.try_global_avg_pool().unwrap().to_vec(), vec![1.5, 5.5]);
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::RankMismatch`] below rank 3; [`Error::EmptyReduction`] when a
    /// spatial axis has length zero.
    pub fn try_global_avg_pool(&self) -> Result<Tensor<T>> {
        if self.rank() < 3 {
            return Err(Error::RankMismatch {
                op: "global_avg_pool",
                expected: "rank 3 or more [batch, channels, spatial...]",
                shape: self.shape().clone(),
            });
        }
        let spatial: usize = self.dims()[2..].iter().product();
        if spatial == 0 {
            return Err(Error::EmptyReduction {
                op: "global_avg_pool",
                axis: None,
                shape: self.shape().clone(),
            });
        }
        let (n, c) = (self.dims()[0], self.dims()[1]);
        Ok(self
            .reshape(Shape::from([n, c, spatial]))
            .sum_axes(&[2], false)
            .div_scalar(T::from_usize(spatial)))
    }

    /// Panicking twin of [`Tensor::try_global_avg_pool`].
    ///
    /// # Examples
    ///
    /// ```
    /// let x = wengert_core::Tensor::<f32>::ones([2, 3, 4]);
    /// assert_eq!(x.global_avg_pool().to_vec(), vec![1.0; 6]);
    /// ```
    ///
    /// # Panics
    ///
    /// Where [`Tensor::try_global_avg_pool`] returns an error, with its message.
    #[track_caller]
    pub fn global_avg_pool(&self) -> Tensor<T> {
        match self.try_global_avg_pool() {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::conv::tests::notes_input;
    use crate::testing::*;
    use rand::{Rng, SeedableRng};

    /// Direct loops: (max with first-maximum ties, avg) per window.
    fn naive_pool(
        x: &Tensor<f64>,
        k: [usize; 2],
        s: [usize; 2],
        p: [usize; 2],
        include: bool,
    ) -> (Vec<f64>, Vec<f64>) {
        let d = x.dims();
        let (planes, h, w) = (d[0] * d[1], d[2], d[3]);
        let oh = (h + 2 * p[0] - k[0]) / s[0] + 1;
        let ow = (w + 2 * p[1] - k[1]) / s[1] + 1;
        let (mut mx, mut av) = (Vec::new(), Vec::new());
        for pl in 0..planes {
            for oy in 0..oh {
                for ox in 0..ow {
                    let (mut best, mut sum, mut count) = (f64::NEG_INFINITY, 0.0, 0);
                    for i in 0..k[0] {
                        for j in 0..k[1] {
                            let iy = (oy * s[0] + i) as isize - p[0] as isize;
                            let ix = (ox * s[1] + j) as isize - p[1] as isize;
                            if iy < 0 || ix < 0 || iy as usize >= h || ix as usize >= w {
                                continue;
                            }
                            let v = x.as_slice()[(pl * h + iy as usize) * w + ix as usize];
                            if v > best {
                                best = v;
                            }
                            sum += v;
                            count += 1;
                        }
                    }
                    mx.push(best);
                    av.push(
                        sum / if include {
                            (k[0] * k[1]) as f64
                        } else {
                            count as f64
                        },
                    );
                }
            }
        }
        (mx, av)
    }

    fn random_pool(rng: &mut impl Rng) -> ([usize; 4], [usize; 2], [usize; 2], [usize; 2]) {
        loop {
            let k = [rng.random_range(1..=3), rng.random_range(1..=3)];
            let s = [rng.random_range(1..=3), rng.random_range(1..=3)];
            let p = [
                rng.random_range(0..=k[0] / 2),
                rng.random_range(0..=k[1] / 2),
            ];
            let size = [rng.random_range(1..=7), rng.random_range(1..=7)];
            if size[0] + 2 * p[0] >= k[0] && size[1] + 2 * p[1] >= k[1] {
                let x = [
                    rng.random_range(1..=2),
                    rng.random_range(1..=3),
                    size[0],
                    size[1],
                ];
                return (x, k, s, p);
            }
        }
    }

    #[test]
    fn notes_golden_max_pool() {
        // Lecture notes, "Camadas pooling": [max pool] 2×2, stride 1.
        let y = notes_input().max_pool2d([2, 2], [1, 1], [0, 0]);
        assert_eq!(
            y.to_vec(),
            vec![3.0, 6.0, 6.0, 5.0, 2.0, 4.0, 5.0, 4.0, 4.0]
        );
    }

    #[test]
    fn notes_golden_avg_pool_corrects_the_misprint() {
        // Lecture notes, "Camadas pooling": [avg pool] 2×2, stride 1, printed as
        // [[2, 2.75, 3.5], [2.25, 0.75, 2.25], [3.25, 2, 2.25]]. The entry at row 2,
        // column 1 (from 0) averages the window [[0, 1], [4, 1]]: (0+1+4+1)/4 =
        // 1.5, not the printed 2. Hand-derived; all values are exact in binary.
        let y = notes_input().avg_pool2d([2, 2], [1, 1], [0, 0], true);
        assert_eq!(
            y.to_vec(),
            vec![2.0, 2.75, 3.5, 2.25, 0.75, 2.25, 3.25, 1.5, 2.25]
        );
        assert_eq!(y.as_slice()[7], 1.5);
    }

    #[test]
    fn pooling_matches_direct_loops_over_random_configurations() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        for _ in 0..300 {
            let (xs, k, s, p) = random_pool(&mut rng);
            let x = Tensor::<f64>::randn(xs, 0.0, 1.0, &mut rng).unwrap();
            for include in [true, false] {
                let (mx, av) = naive_pool(&x, k, s, p, include);
                assert_eq!(
                    x.max_pool2d(k, s, p).to_vec(),
                    mx,
                    "{xs:?} {k:?} {s:?} {p:?}"
                );
                let got = x.avg_pool2d(k, s, p, include);
                for (a, b) in got.as_slice().iter().zip(&av) {
                    assert!((a - b).abs() < 1e-12, "{xs:?} {k:?} {s:?} {p:?} {include}");
                }
            }
            // 1-D: the last axis of a height-1 input.
            let x1 = x.narrow(2, 0, 1).squeeze(2);
            let (mx, av) = naive_pool(&x, [1, k[1]], [1, s[1]], [0, p[1]], true);
            let oh = (xs[2] - 1) + 1;
            let ow = (xs[3] + 2 * p[1] - k[1]) / s[1] + 1;
            let rows_of = |v: &[f64]| -> Vec<f64> {
                (0..xs[0] * xs[1])
                    .flat_map(|pl| v[pl * oh * ow..pl * oh * ow + ow].to_vec())
                    .collect()
            };
            assert_eq!(x1.max_pool1d(k[1], s[1], p[1]).to_vec(), rows_of(&mx));
            for (a, b) in x1
                .avg_pool1d(k[1], s[1], p[1], true)
                .as_slice()
                .iter()
                .zip(rows_of(&av))
            {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn max_pool_ties_go_to_the_first_maximum_once_per_window() {
        // [1, 5, 5, 2], kernel 2, stride 1: windows (1,5), (5,5), (5,2). The
        // first 5 wins the first two windows, the second 5 the third window.
        let x = Tensor::from_vec(vec![1.0f64, 5.0, 5.0, 2.0], [1, 1, 4])
            .unwrap()
            .requires_grad();
        let y = x.max_pool1d(2, 1, 0);
        let seed = Tensor::from_vec(vec![1.0, 10.0, 100.0], [1, 1, 3]).unwrap();
        let g = y
            .backward_with(Some(&seed), crate::BackwardOptions::default())
            .unwrap();
        assert_eq!(g.get(&x).unwrap().to_vec(), vec![0.0, 11.0, 100.0, 0.0]);
    }

    #[test]
    fn max_pool_propagates_nan() {
        let x = Tensor::from_vec(vec![1.0f64, f64::NAN, 3.0, 0.0, 7.0, 2.0], [1, 1, 2, 3])
            .unwrap()
            .requires_grad();
        let y = x.max_pool2d([2, 2], [1, 1], [0, 0]);
        let v = y.to_vec();
        assert!(v[0].is_nan() && v[1].is_nan());
        let x2 = Tensor::from_vec(vec![1.0f64, 9.0, f64::NAN, 4.0], [1, 1, 4]).unwrap();
        let v = x2.max_pool1d(2, 2, 0).to_vec();
        assert_eq!(v[0], 9.0);
        assert!(v[1].is_nan());
        // The gradient of a NaN window goes to the NaN's position.
        let g = y.sum().backward().unwrap();
        assert_eq!(
            g.get(&x).unwrap().to_vec(),
            vec![0.0, 2.0, 0.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn pool_errors_name_the_parameters() {
        let x = Tensor::<f32>::zeros([1, 1, 4, 4]);
        let e = x.try_max_pool2d([2, 2], [1, 1], [2, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "max_pool2d: padding must be at most half the kernel (input [1, 1, 4, 4], \
             kernel [2, 2], stride [1, 1], padding [2, 0])"
        );
        let e = x.try_avg_pool2d([5, 1], [1, 1], [0, 0], false).unwrap_err();
        assert!(e.to_string().contains("kernel extent [5, 1]"), "{e}");
        assert!(e.to_string().ends_with("count_include_pad false)"), "{e}");
        let e = x.try_avg_pool2d([2, 2], [0, 1], [0, 0], true).unwrap_err();
        assert!(e.to_string().contains("stride must be positive"), "{e}");
        let e = x.try_max_pool1d(2, 1, 0).unwrap_err();
        assert!(matches!(
            e,
            Error::RankMismatch {
                op: "max_pool1d",
                ..
            }
        ));
        let e = Tensor::<f32>::zeros([2, 3])
            .try_global_avg_pool()
            .unwrap_err();
        assert!(matches!(e, Error::RankMismatch { .. }));
        let e = Tensor::<f32>::zeros([2, 3, 0])
            .try_global_avg_pool()
            .unwrap_err();
        assert!(matches!(e, Error::EmptyReduction { .. }));
    }

    /// Found by the `ops` fuzz target: an empty height with padding 1 left a
    /// window on the padding only, and the max-pool kernel panicked.
    #[test]
    fn pooling_an_empty_spatial_dimension_is_an_error() {
        let x = Tensor::<f32>::zeros([7, 7, 0, 7]);
        let e = x.try_max_pool2d([2, 2], [1, 1], [1, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "max_pool2d: input has an empty spatial dimension (input [7, 7, 0, 7], \
             kernel [2, 2], stride [1, 1], padding [1, 0])"
        );
        for include in [false, true] {
            let e = x.try_avg_pool2d([2, 2], [1, 1], [1, 0], include);
            assert!(matches!(e, Err(Error::Conv { .. })), "{e:?}");
        }
        let e = Tensor::<f32>::zeros([1, 2, 0]).try_max_pool1d(2, 1, 1);
        assert!(matches!(e, Err(Error::Conv { .. })), "{e:?}");
    }

    #[test]
    fn pooling_second_derivatives_flow() {
        // Unique values keep max pooling away from its kinks (ties).
        let x = Tensor::from_vec(
            (0..12).map(|v| ((v * 7) % 12) as f64 * 0.1).collect(),
            [1, 1, 3, 4],
        )
        .unwrap();
        crate::gradgradcheck(
            |v| v[0].max_pool2d([2, 2], [1, 1], [0, 0]).square(),
            std::slice::from_ref(&x),
        )
        .unwrap();
        crate::gradgradcheck(
            |v| v[0].avg_pool2d([2, 2], [1, 2], [1, 1], false).square(),
            &[x],
        )
        .unwrap();
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn max_pool2d_grad_matches_finite_differences_with_overlapping_windows(
            x in unique_values(Just(Shape::from([2, 2, 5, 4]))),
            k in 2usize..4, s in 1usize..3, p in 0usize..2,
        ) {
            check_grads!([x], |a| a.max_pool2d([k, k], [s, 1], [p, p.min(k / 2)]))?;
        }

        #[test]
        fn max_pool1d_grad_matches_finite_differences(
            x in unique_values(Just(Shape::from([2, 3, 7]))),
            k in 1usize..4, s in 1usize..3,
        ) {
            check_grads!([x], |a| a.max_pool1d(k, s, k / 2))?;
        }

        #[test]
        fn avg_pool_grad_matches_finite_differences(
            x in tensor(Just(Shape::from([2, 2, 5, 4])), -1.0..1.0),
            k in 1usize..4, s in 1usize..3, include in any::<bool>(),
        ) {
            check_grads!([x], |a| a.avg_pool2d([k, 2], [s, 1], [k / 2, 1], include))?;
            let x1 = x.reshape([2, 2, 20]);
            check_grads!([x1], |a| a.avg_pool1d(k, s, k / 2, include))?;
        }

        #[test]
        fn global_avg_pool_grad_matches_finite_differences(
            x in tensor(Just(Shape::from([2, 3, 2, 3])), -1.0..1.0),
        ) {
            check_grads!([x], |a| a.global_avg_pool())?;
        }
    }
}
