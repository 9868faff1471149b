//! The tiled im2col + GEMM core of [`Tensor::conv2d`] (and `conv1d`), as one
//! recorded op whose backward is written with tensor ops.
//!
//! With `x: [n, c_in, h, w]`, `weight: [c_out, c_in/g, kh, kw]`, per batch
//! tile `t` of `x`, `cols_t = im2col(x_t)` viewed `[t, g, K, L]` (`K =
//! c_in/g·kh·kw`, `L = oh·ow`) and `W = weight` viewed `[g, c_out/g, K]`:
//!
//! - `y_t = W · cols_t`;
//! - `grad_x_t = col2im(Wᵀ · grad_out_t)`;
//! - `grad_weight = Σ_tiles Σ_b grad_out_t · cols_tᵀ`.
//!
//! Why an op rather than the plain composite `im2col → matmul`: recorded, the
//! composite's `matmul` would save every tile's columns (`kh·kw` times the
//! input) until backward. This op saves only `x` and `weight` and rebuilds
//! each tile's columns in backward.
//!
//! The forward pass, and the backward pass when no graph of it is recorded
//! (a plain `backward`), run the slice kernels of [`crate::kernels::conv`]:
//! tiles of at most [`crate::kernels::conv::TILE_BUDGET`] column entries,
//! written straight into the output, threads over the batch. Under
//! `create_graph` the same gradients are written with tensor ops (`im2col`,
//! `matmul`, `col2im`, `narrow` and `concat`, in tiles of at most
//! [`COLS_BUDGET`] column entries), so that they are differentiable again;
//! tests check that both paths agree.

use smallvec::smallvec;

use crate::error::Result;
use crate::kernels::conv::{self as kernel, ConvDims};
use crate::ops::conv::COLS_BUDGET;
use crate::ops::im2col::Im2colParams;
use crate::tape::{Backward, Grads};
use crate::{Float, Shape, Tensor, is_grad_enabled};

/// A validated convolution geometry, in the 2-D form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvGeom {
    pub(crate) window: Im2colParams,
    pub(crate) groups: usize,
    pub(crate) c_in: usize,
    pub(crate) c_out: usize,
    pub(crate) size: [usize; 2],
    pub(crate) out: [usize; 2],
}

impl ConvGeom {
    /// `K`, the rows of the column matrix per group.
    fn k(&self) -> usize {
        self.c_in / self.groups * self.window.kernel[0] * self.window.kernel[1]
    }

    fn l(&self) -> usize {
        self.out[0] * self.out[1]
    }

    /// The kernel's view of this geometry over a batch of `n` images.
    fn dims(&self, n: usize) -> ConvDims {
        ConvDims {
            batch: n,
            image: self.window.geom(self.c_in, self.size),
            groups: self.groups,
            c_out: self.c_out,
        }
    }

    /// `(start, len)` of each batch tile: as many images as fit the budget.
    fn tiles(&self, n: usize) -> Vec<(usize, usize)> {
        let per_image = (self.k() * self.groups * self.l()).max(1);
        let tile = (COLS_BUDGET / per_image).max(1);
        if n <= tile {
            return vec![(0, n)];
        }
        (0..n).step_by(tile).map(|s| (s, tile.min(n - s))).collect()
    }

    /// The columns of `x_t` as `[t, g, K, L]`.
    fn cols<T: Float>(&self, xt: &Tensor<T>) -> Tensor<T> {
        let t = xt.dims()[0];
        xt.im2col(self.window)
            .reshape([t, self.groups, self.k(), self.l()])
    }

    /// `weight` as `[g, c_out/g, K]`.
    fn wg<T: Float>(&self, w: &Tensor<T>) -> Tensor<T> {
        w.reshape([self.groups, self.c_out / self.groups, self.k()])
    }

    /// Runs `f` on each batch tile of `t` (whole when it fits) and
    /// concatenates the results along the batch axis.
    fn per_tile<T: Float>(&self, t: &Tensor<T>, f: impl Fn(&Tensor<T>) -> Tensor<T>) -> Tensor<T> {
        let tiles = self.tiles(t.dims()[0]);
        if tiles.len() == 1 {
            return f(t);
        }
        let parts: Vec<Tensor<T>> = tiles.iter().map(|&(s, l)| f(&t.narrow(0, s, l))).collect();
        Tensor::concat(&parts.iter().collect::<Vec<_>>(), 0)
    }
}

/// Returns the cross-correlation of `x` (`[n, c_in, h, w]`) and `w` (`[c_out,
/// c_in/g, kh, kw]`), recorded as one op. The caller has validated `geo`.
pub(crate) fn conv_gemm<T: Float>(x: &Tensor<T>, w: &Tensor<T>, geo: ConvGeom) -> Tensor<T> {
    let n = x.dims()[0];
    let shape = Shape::from([n, geo.c_out, geo.out[0], geo.out[1]]);
    let mut y = vec![T::ZERO; shape.numel()];
    kernel::forward(&geo.dims(n), x.as_slice(), w.as_slice(), &mut y);
    Tensor::from_op(Tensor::from_parts(y, shape), &[x, w], || ConvGemmBackward {
        x: x.clone(),
        w: w.clone(),
        geo,
    })
}

/// Backward of the convolution core: saves the input, the weight and the
/// geometry; rebuilds each tile's columns.
struct ConvGemmBackward<T: Float> {
    x: Tensor<T>,
    w: Tensor<T>,
    geo: ConvGeom,
}

impl<T: Float> Backward<T> for ConvGemmBackward<T> {
    fn name(&self) -> &'static str {
        "conv2d"
    }
    fn backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Result<Grads<T>> {
        if is_grad_enabled() {
            return Ok(self.recorded_backward(grad_out, needs));
        }
        let d = self.geo.dims(self.x.dims()[0]);
        let mut gx = needs[0].then(|| vec![T::ZERO; self.x.numel()]);
        let mut gw = needs[1].then(|| vec![T::ZERO; self.w.numel()]);
        kernel::backward(
            &d,
            self.x.as_slice(),
            self.w.as_slice(),
            grad_out.as_slice(),
            gx.as_deref_mut(),
            gw.as_deref_mut(),
        );
        let grad_x = gx.map(|g| Tensor::from_parts(g, self.x.shape().clone()));
        let grad_w = gw.map(|g| Tensor::from_parts(g, self.w.shape().clone()));
        Ok(smallvec![grad_x, grad_w])
    }
}

impl<T: Float> ConvGemmBackward<T> {
    /// The gradients as recorded tensor ops, for `create_graph`.
    fn recorded_backward(&self, grad_out: &Tensor<T>, needs: &[bool]) -> Grads<T> {
        let geo = &self.geo;
        let (g, l) = (geo.groups, geo.l());
        let per_group = geo.c_out / g;
        let wg = geo.wg(&self.w);
        let go = |gt: &Tensor<T>| {
            let t = gt.dims()[0];
            gt.reshape([t, g, per_group, l])
        };
        let grad_x = needs[0].then(|| {
            geo.per_tile(grad_out, |gt| {
                let t = gt.dims()[0];
                wg.matmul_t(&go(gt), true, false)
                    .reshape([t, geo.c_in * geo.window.kernel[0] * geo.window.kernel[1], l])
                    .col2im(geo.size, geo.window)
            })
        });
        let grad_w = needs[1].then(|| {
            let mut acc: Option<Tensor<T>> = None;
            for (s, len) in geo.tiles(self.x.dims()[0]) {
                let (xt, gt) = if len == self.x.dims()[0] {
                    (self.x.clone(), grad_out.clone())
                } else {
                    (self.x.narrow(0, s, len), grad_out.narrow(0, s, len))
                };
                let part = go(&gt)
                    .matmul_t(&geo.cols(&xt), false, true)
                    .sum_axes(&[0], false);
                acc = Some(match acc {
                    None => part,
                    Some(a) => &a + &part,
                });
            }
            acc.expect("BUG: at least one tile")
                .reshape(self.w.shape().clone())
        });
        smallvec![grad_x, grad_w]
    }
}
