//! Element-wise loops over row-major data, with NumPy broadcasting.

use smallvec::SmallVec;

use crate::Shape;

/// Strides (in elements) with which to read a tensor of shape `from` as if it
/// had the broadcast shape `to`: 0 along broadcast dimensions.
///
/// `from` must broadcast to `to` (callers check with [`Shape::broadcast`]).
pub fn broadcast_strides(from: &Shape, to: &Shape) -> SmallVec<[usize; 4]> {
    let own = from.strides();
    let offset = to.rank() - from.rank();
    (0..to.rank())
        .map(|i| {
            if i < offset || from[i - offset] == 1 {
                0
            } else {
                own[i - offset]
            }
        })
        .collect()
}

/// Visits every index of `shape` in row-major order, passing the offsets into
/// two operands read with the given strides. The last axis runs in a tight loop.
pub fn for_each_offset2(
    shape: &Shape,
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize),
) {
    let n = shape.numel();
    if n == 0 {
        return;
    }
    let rank = shape.rank();
    if rank == 0 {
        f(0, 0);
        return;
    }
    let last = shape[rank - 1];
    let (la, lb) = (sa[rank - 1], sb[rank - 1]);
    let mut idx: SmallVec<[usize; 4]> = SmallVec::from_elem(0, rank);
    let (mut oa, mut ob) = (0usize, 0usize);
    let rows = n / last;
    for _ in 0..rows {
        for j in 0..last {
            f(oa + j * la, ob + j * lb);
        }
        // Advance the outer index (all axes but the last) like an odometer.
        let mut ax = rank - 1;
        while ax > 0 {
            ax -= 1;
            idx[ax] += 1;
            oa += sa[ax];
            ob += sb[ax];
            if idx[ax] < shape[ax] {
                break;
            }
            oa -= sa[ax] * shape[ax];
            ob -= sb[ax] * shape[ax];
            idx[ax] = 0;
        }
    }
}

/// Applies `f` pairwise to `a` (shape `sa`) and `b` (shape `sb`) broadcast to
/// `out`, returning the row-major results.
pub fn zip_broadcast<T: Copy, U>(
    a: &[T],
    sa: &Shape,
    b: &[T],
    sb: &Shape,
    out: &Shape,
    f: impl Fn(T, T) -> U,
) -> Vec<U> {
    if sa == out && sb == out {
        return a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect();
    }
    if sa == out && b.len() == 1 {
        let y = b[0];
        return a.iter().map(|&x| f(x, y)).collect();
    }
    if sb == out && a.len() == 1 {
        let x = a[0];
        return b.iter().map(|&y| f(x, y)).collect();
    }
    // A bias-like operand: its dimensions are the trailing ones of `out`, so
    // it repeats once per row.
    // Row by row into a buffer of the final size: a `flat_map` collected
    // would grow its `Vec` by doubling and keep each value's loop scalar
    // (W3's bias adds: 3 ns per value).
    if sa == out && is_trailing(sb, out) {
        let mut v = Vec::with_capacity(a.len());
        for row in a.chunks_exact(b.len()) {
            v.extend(row.iter().zip(b).map(|(&x, &y)| f(x, y)));
        }
        return v;
    }
    if sb == out && is_trailing(sa, out) {
        let mut v = Vec::with_capacity(b.len());
        for row in b.chunks_exact(a.len()) {
            v.extend(a.iter().zip(row).map(|(&x, &y)| f(x, y)));
        }
        return v;
    }
    let ta = broadcast_strides(sa, out);
    let tb = broadcast_strides(sb, out);
    let mut v = Vec::with_capacity(out.numel());
    for_each_run2(out, &ta, &tb, |oa, ob, len, (la, lb)| match (la, lb) {
        // The common cases as whole runs, so that they vectorise: a channel
        // bias `[1, c, 1, 1]` added to `[n, c, h, w]` is `n·c` runs of `h·w`
        // values plus one scalar each.
        (1, 1) => v.extend(
            a[oa..oa + len]
                .iter()
                .zip(&b[ob..ob + len])
                .map(|(&x, &y)| f(x, y)),
        ),
        (1, 0) => {
            let y = b[ob];
            v.extend(a[oa..oa + len].iter().map(|&x| f(x, y)));
        }
        (0, 1) => {
            let x = a[oa];
            v.extend(b[ob..ob + len].iter().map(|&y| f(x, y)));
        }
        _ => v.extend((0..len).map(|j| f(a[oa + j * la], b[ob + j * lb]))),
    });
    v
}

/// Calls `f(offset_a, offset_b, len, (stride_a, stride_b))` for each run of
/// `len` consecutive output elements, in row-major order: the run starts at
/// `offset_a` in `a` and `offset_b` in `b` and steps by the given strides.
///
/// Adjacent axes along which both operands are laid out as one axis (each
/// stride equals the next stride times the next length, zero strides
/// included) are merged first, so that runs are as long as the layout
/// allows: `[n, c, h, w]` against a channel bias `[1, c, 1, 1]` gives `n·c`
/// runs of `h·w`.
///
/// # Examples
///
/// ```
/// use wengert_core::Shape;
/// use wengert_core::kernels::elementwise::for_each_run2;
/// let mut runs = Vec::new();
/// // [2, 3, 4] against strides of a [1, 3, 1] operand: 6 runs of 4.
/// for_each_run2(&Shape::from([2, 3, 4]), &[12, 4, 1], &[0, 1, 0], |oa, ob, len, st| {
///     runs.push((oa, ob, len, st))
/// });
/// assert_eq!(runs.len(), 6);
/// assert_eq!(runs[4], (16, 1, 4, (1, 0)));
/// ```
pub fn for_each_run2(
    shape: &Shape,
    sa: &[usize],
    sb: &[usize],
    mut f: impl FnMut(usize, usize, usize, (usize, usize)),
) {
    if shape.numel() == 0 {
        return;
    }
    // Merge axes from the innermost out: (dim, stride_a, stride_b).
    let mut axes: SmallVec<[(usize, usize, usize); 4]> = SmallVec::new();
    for ax in (0..shape.rank()).rev() {
        let (d, a, b) = (shape[ax], sa[ax], sb[ax]);
        if d == 1 {
            continue;
        }
        match axes.last_mut() {
            Some(inner) if a == inner.1 * inner.0 && b == inner.2 * inner.0 => inner.0 *= d,
            _ => axes.push((d, a, b)),
        }
    }
    let Some(&(len, la, lb)) = axes.first() else {
        f(0, 0, 1, (1, 1));
        return;
    };
    let outer = &axes[1..];
    let mut idx: SmallVec<[usize; 4]> = SmallVec::from_elem(0, outer.len());
    let (mut oa, mut ob) = (0usize, 0usize);
    for _ in 0..shape.numel() / len {
        f(oa, ob, len, (la, lb));
        // Advance the outer index (innermost outer axis first) like an odometer.
        for (i, &(d, a, b)) in outer.iter().enumerate() {
            idx[i] += 1;
            oa += a;
            ob += b;
            if idx[i] < d {
                break;
            }
            oa -= a * d;
            ob -= b * d;
            idx[i] = 0;
        }
    }
}

/// True when `s`, without its leading 1s, is a non-empty suffix of `out`:
/// broadcasting `s` to `out` then repeats it whole.
fn is_trailing(s: &Shape, out: &Shape) -> bool {
    let dims = s.dims();
    let own = &dims[dims.iter().take_while(|&&d| d == 1).count()..];
    s.numel() > 0 && own.len() <= out.rank() && out.dims().ends_with(own)
}

/// Copies `src` (shape `from`) broadcast to shape `to`.
pub fn broadcast_copy<T: Copy>(src: &[T], from: &Shape, to: &Shape) -> Vec<T> {
    let s = broadcast_strides(from, to);
    let zeros: SmallVec<[usize; 4]> = SmallVec::from_elem(0, to.rank());
    let mut v = Vec::with_capacity(to.numel());
    for_each_run2(to, &s, &zeros, |i, _, len, (step, _)| match step {
        0 => v.extend(std::iter::repeat_n(src[i], len)),
        1 => v.extend_from_slice(&src[i..i + len]),
        _ => v.extend((0..len).map(|j| src[i + j * step])),
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_zip_matches_index_arithmetic() {
        // a: [2, 1, 3], b: [4, 1] -> out [2, 4, 3]; out[i][j][k] = a[i][0][k] * 10 + b[j][0]
        let a: Vec<f64> = (0..6).map(|v| v as f64).collect();
        let b: Vec<f64> = (0..4).map(|v| v as f64).collect();
        let (sa, sb) = (Shape::from([2, 1, 3]), Shape::from([4, 1]));
        let out = sa.broadcast("t", &sb).unwrap();
        let v = zip_broadcast(&a, &sa, &b, &sb, &out, |x, y| x * 10.0 + y);
        let mut want = Vec::new();
        for i in 0..2 {
            for j in 0..4 {
                for k in 0..3 {
                    want.push(a[i * 3 + k] * 10.0 + b[j]);
                }
            }
        }
        assert_eq!(v, want);
    }

    #[test]
    fn trailing_operand_fast_path_matches_index_arithmetic() {
        // out [3, 2, 4]; the other operand is [2, 4] or [1, 1, 4], on either side.
        let a: Vec<f64> = (0..24).map(|v| v as f64).collect();
        let out = Shape::from([3, 2, 4]);
        for (sb, b) in [
            (
                Shape::from([2, 4]),
                (0..8).map(|v| v as f64 * 100.0).collect::<Vec<_>>(),
            ),
            (Shape::from([1, 1, 4]), vec![100.0, 200.0, 300.0, 400.0]),
        ] {
            let bcast = broadcast_copy(&b, &sb, &out);
            let want: Vec<f64> = a.iter().zip(&bcast).map(|(x, y)| x - y).collect();
            assert_eq!(zip_broadcast(&a, &out, &b, &sb, &out, |x, y| x - y), want);
            let flipped: Vec<f64> = want.iter().map(|v| -v).collect();
            assert_eq!(
                zip_broadcast(&b, &sb, &a, &out, &out, |x, y| x - y),
                flipped
            );
        }
        // Not a suffix: [3, 1, 4] takes the general path and still agrees.
        let sc = Shape::from([3, 1, 4]);
        let c: Vec<f64> = (0..12).map(|v| v as f64 * 10.0).collect();
        let want: Vec<f64> = a
            .iter()
            .zip(broadcast_copy(&c, &sc, &out))
            .map(|(x, y)| x + y)
            .collect();
        assert_eq!(zip_broadcast(&a, &out, &c, &sc, &out, |x, y| x + y), want);
    }

    #[test]
    fn runs_agree_with_the_element_by_element_odometer_over_broadcast_shapes() {
        // Every operand shape that broadcasts to `out` by keeping or
        // collapsing each axis (and dropping leading ones), on both sides.
        let mut seed = 7u64;
        for out_dims in [
            vec![],
            vec![5],
            vec![2, 3],
            vec![4, 1, 3],
            vec![2, 3, 4, 5],
            vec![3, 0, 2],
            vec![1, 2, 1, 3, 2],
        ] {
            let out = Shape::from(out_dims.clone());
            let rank = out_dims.len();
            for mask in 0..(1u32 << (2 * rank)).min(256) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                let keep = |m: u32, drop: usize| -> Shape {
                    let dims: Vec<usize> = (drop..rank)
                        .map(|i| if m >> i & 1 == 1 { 1 } else { out_dims[i] })
                        .collect();
                    Shape::from(dims)
                };
                let sa = keep(mask, 0);
                let sb = keep(mask >> rank, (seed >> 40) as usize % (rank + 1));
                let a: Vec<f64> = (0..sa.numel()).map(|v| v as f64).collect();
                let b: Vec<f64> = (0..sb.numel()).map(|v| v as f64 * 1000.0).collect();
                let (ta, tb) = (broadcast_strides(&sa, &out), broadcast_strides(&sb, &out));
                let mut want = Vec::new();
                for_each_offset2(&out, &ta, &tb, |i, j| want.push(a[i] - b[j]));
                assert_eq!(
                    zip_broadcast(&a, &sa, &b, &sb, &out, |x, y| x - y),
                    want,
                    "{sa} - {sb} -> {out}"
                );
                let mut copy = Vec::new();
                for_each_offset2(&out, &ta, &ta, |i, _| copy.push(a[i]));
                assert_eq!(broadcast_copy(&a, &sa, &out), copy, "{sa} -> {out}");
            }
        }
    }

    #[test]
    fn broadcast_of_zero_size_is_empty() {
        let v = broadcast_copy(&[1.0f32], &Shape::from([1]), &Shape::from([0, 3]));
        assert!(v.is_empty());
    }
}
