//! Accurate reductions: sums accumulate in `f64` with pairwise blocking, so that
//! summing 10^7 copies of `0.1f32` is off by far less than 1e-4 relative.

use crate::Float;

/// Sums `x` in `f64`: eight independent lanes per block of 1024, blocks combined
/// pairwise. The error grows like log(n), not n.
pub fn sum_f64<T: Float>(x: &[T]) -> f64 {
    const BLOCK: usize = 1024;
    if x.len() <= BLOCK {
        let mut acc = [0.0f64; 8];
        let chunks = x.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for l in 0..8 {
                acc[l] += c[l].to_f64();
            }
        }
        let mut s =
            ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for v in rest {
            s += v.to_f64();
        }
        return s;
    }
    let mid = (x.len() / 2).next_multiple_of(8);
    sum_f64(&x[..mid]) + sum_f64(&x[mid..])
}

/// Sums along the middle axis of data viewed as `[outer, len, inner]`,
/// returning `[outer, inner]` values.
pub fn sum_axis<T: Float>(x: &[T], outer: usize, len: usize, inner: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(outer * inner);
    if inner == 1 {
        for o in 0..outer {
            out.push(T::from_f64(sum_f64(&x[o * len..(o + 1) * len])));
        }
        return out;
    }
    let mut acc = vec![0.0f64; inner];
    for o in 0..outer {
        acc.fill(0.0);
        let base = o * len * inner;
        for r in 0..len {
            let row = &x[base + r * inner..base + (r + 1) * inner];
            for (a, v) in acc.iter_mut().zip(row) {
                *a += v.to_f64();
            }
        }
        out.extend(acc.iter().map(|&a| T::from_f64(a)));
    }
    out
}

/// Folds along the middle axis of `[outer, len, inner]` data with `f`, starting
/// from the first element of each lane; `len` must be at least 1. Returns, for
/// each of the `outer * inner` lanes, the folded value and the index along the
/// axis that `f` last chose (for arg-reductions).
///
/// `f(acc, v)` returns true when `v` replaces the accumulator.
pub fn select_axis<T: Float>(
    x: &[T],
    outer: usize,
    len: usize,
    inner: usize,
    replaces: impl Fn(T, T) -> bool,
) -> (Vec<T>, Vec<usize>) {
    assert!(len > 0, "BUG: select over an empty axis");
    let mut vals = Vec::with_capacity(outer * inner);
    let mut idx = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        let base = o * len * inner;
        for i in 0..inner {
            let mut best = x[base + i];
            let mut at = 0;
            for r in 1..len {
                let v = x[base + r * inner + i];
                if replaces(best, v) {
                    best = v;
                    at = r;
                }
            }
            vals.push(best);
            idx.push(at);
        }
    }
    (vals, idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_million_tenths_sum_to_a_million() {
        let x = vec![0.1f32; 10_000_000];
        let s = sum_f64(&x) as f32;
        assert!(((s - 1.0e6) / 1.0e6).abs() < 1e-4, "{s}");
    }

    #[test]
    fn axis_sum_matches_naive() {
        let x: Vec<f64> = (0..2 * 3 * 4).map(|v| v as f64).collect();
        let s = sum_axis(&x, 2, 3, 4);
        let mut want = vec![0.0; 8];
        for o in 0..2 {
            for r in 0..3 {
                for i in 0..4 {
                    want[o * 4 + i] += x[o * 12 + r * 4 + i];
                }
            }
        }
        assert_eq!(s, want);
    }
}
