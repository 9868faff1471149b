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
    let ta = broadcast_strides(sa, out);
    let tb = broadcast_strides(sb, out);
    let mut v = Vec::with_capacity(out.numel());
    for_each_offset2(out, &ta, &tb, |i, j| v.push(f(a[i], b[j])));
    v
}

/// Copies `src` (shape `from`) broadcast to shape `to`.
pub fn broadcast_copy<T: Copy>(src: &[T], from: &Shape, to: &Shape) -> Vec<T> {
    let s = broadcast_strides(from, to);
    let zeros: SmallVec<[usize; 4]> = SmallVec::from_elem(0, to.rank());
    let mut v = Vec::with_capacity(to.numel());
    for_each_offset2(to, &s, &zeros, |i, _| v.push(src[i]));
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
    fn broadcast_of_zero_size_is_empty() {
        let v = broadcast_copy(&[1.0f32], &Shape::from([1]), &Shape::from([0, 3]));
        assert!(v.is_empty());
    }
}
