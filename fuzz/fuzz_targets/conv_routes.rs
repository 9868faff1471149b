//! The convolution's routes against each other: arbitrary geometries
//! (channel counts up to 40, so that Winograd's F(2×2, 3×3) and the
//! shifted GEMMs are reached, which the `ops` target's small tensors are
//! not; the direct sums fit any stride-1 geometry of one group) and
//! arbitrary values; every route that fits a geometry
//! (`Route::fits`) must give the im2col route's output, input gradient and
//! weight gradient, in `f64`, within 1e-9 relative to the largest term.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wengert::kernels::conv::{ConvDims, Route, backward_by, forward_by};
use wengert::kernels::im2col::Geom2d;

struct Bytes<'a>(&'a [u8], usize);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
    fn pick(&mut self, n: u8) -> usize {
        (self.next() % n) as usize
    }
}

/// Every element of `got` within `tol` of `want`'s, relative to `scale`.
fn close(route: Route, what: &str, d: &ConvDims, got: &[f64], want: &[f64], scale: f64) {
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= 1e-9 * scale,
            "{route:?} {what}[{i}] {a} against im2col's {b}, {d:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data, 0);
    // 3x3 kernels, stride 1 and one group most of the time (Winograd's
    // shapes); anything else otherwise.
    let common = b.next() % 4 != 0;
    let groups = if common { 1 } else { 1 + b.pick(3) };
    let c_in = groups * (1 + b.pick(40 / groups as u8));
    let c_out = groups * (1 + b.pick(40 / groups as u8));
    let kernel = if common { [3, 3] } else { [1 + b.pick(4), 1 + b.pick(4)] };
    let stride = if common { [1, 1] } else { [1 + b.pick(2), 1 + b.pick(2)] };
    let dilation = if common { [1, 1] } else { [1 + b.pick(2), 1 + b.pick(2)] };
    let image = Geom2d {
        channels: c_in,
        size: [1 + b.pick(10), 1 + b.pick(10)],
        kernel,
        stride,
        padding: [b.pick(4), b.pick(4)],
        dilation,
    };
    let d = ConvDims { batch: b.pick(4), image, groups, c_out };
    if image.out().is_none_or(|[oh, ow]| oh == 0 || ow == 0) {
        return;
    }
    let seed = b.next() as f64;
    let values = |n: usize, k: f64| -> Vec<f64> {
        (0..n).map(|i| ((i as f64 + seed) * k).sin() + (b.0.len() % 7) as f64 * 0.1).collect()
    };
    let (xl, wl, yl) = (d.batch * c_in * image.size[0] * image.size[1], c_out * d.k(), d.batch * c_out * d.l());
    let (x, w, g) = (values(xl, 0.37), values(wl, 0.73), values(yl, 1.31));
    // An output or input-gradient element sums at most this many terms,
    // each at most 1.7 · 1.7 in size.
    let taps = kernel[0] * kernel[1];
    let scale = 3.0 * (c_in.max(c_out) / groups * taps).max(1) as f64;
    let run = |route: Route| {
        let (mut y, mut gx, mut gw) = (vec![f64::NAN; yl], vec![f64::NAN; xl], vec![f64::NAN; wl]);
        forward_by(route, &d, &x, &w, &mut y);
        backward_by(route, &d, &x, &w, &g, Some(&mut gx), Some(&mut gw));
        (y, gx, gw)
    };
    let want = run(Route::Im2col);
    for route in [Route::Shift, Route::Winograd, Route::Direct] {
        if route.fits(&d) {
            let got = run(route);
            close(route, "y", &d, &got.0, &want.0, scale);
            close(route, "grad_x", &d, &got.1, &want.1, scale);
            // The weight gradient sums over every image and output pixel.
            let wscale = scale * (d.batch * d.l()).max(1) as f64;
            close(route, "grad_w", &d, &got.2, &want.2, wscale);
        }
    }
});
