"""f32 rounding error of Winograd's F(2x2, 3x3) and F(4x4, 3x3) against the
direct sum, on one output channel of a 64-channel 16x16 image (W5's channel
count), relative to the largest output. Why wengert uses F(2x2, 3x3) only:
F(4x4, 3x3) would cut the multiplications further (36 per 16 outputs
instead of 16 per 4) but rounds about five times worse than the direct sum.

    python3 bench/conv_routes/winograd_error.py    (needs numpy)

Transform matrices: Lavin and Gray, "Fast Algorithms for Convolutional
Neural Networks", CVPR 2016.
"""
import numpy as np

C, H = 64, 16
rng = np.random.default_rng(0)
x = rng.standard_normal((C, H + 2, H + 2))  # the zero-padded input, padding 1
w = rng.standard_normal((C, 3, 3)) / 24

F2 = (
    [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
    [[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]],
    [[1, 1, 1, 0], [0, 1, -1, -1]],
)
F4 = (
    [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
     [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]],
    [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
     [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
)


def direct(dt):
    xs, ws = x.astype(dt), w.astype(dt)
    out = np.zeros((H, H), dt)
    for c in range(C):
        for ky in range(3):
            for kx in range(3):
                out += xs[c, ky:ky + H, kx:kx + H] * ws[c, ky, kx]
    return out


def winograd(matrices, dt):
    bt, g, at = (np.array(m, float).astype(dt) for m in matrices)
    m, a = at.shape
    xs, ws = x.astype(dt), w.astype(dt)
    u = np.einsum("ij,cjk,lk->cil", g, ws, g).astype(dt)
    out = np.zeros((H, H), dt)
    for ty in range(H // m):
        for tx in range(H // m):
            d = xs[:, ty * m:ty * m + a, tx * m:tx * m + a]
            v = np.einsum("ij,cjk,lk->cil", bt, d, bt).astype(dt)
            out[ty * m:ty * m + m, tx * m:tx * m + m] = at @ (u * v).sum(0, dtype=dt) @ at.T
    return out


reference = direct(np.float64)
scale = np.abs(reference).max()
for name, result in [
    ("direct sum", direct(np.float32)),
    ("F(2x2, 3x3)", winograd(F2, np.float32)),
    ("F(4x4, 3x3)", winograd(F4, np.float32)),
]:
    err = np.abs(result - reference)
    print(f"{name:12s} f32 error / largest output: max {err.max() / scale:.1e}, "
          f"rms {np.sqrt((err ** 2).mean()) / scale:.1e}")
assert np.abs(winograd(F4, np.float64) - reference).max() / scale < 1e-13
