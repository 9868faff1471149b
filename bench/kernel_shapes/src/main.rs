//! How fast can an AVX-512 GEMM micro-kernel run on this machine, by the
//! shape of its block of C? Run with `cargo run --release` in this folder.
//!
//! Each kernel computes an `mr` by `nr` block of C from packed panels (A:
//! `mr` values per step of k, B: `nr` values per step), keeping the whole
//! block in vector registers, as `matrixmultiply` and every GotoBLAS-style
//! GEMM do. The loop below is the GotoBLAS inner loop: one B micro-panel
//! (in L1) against the A panels of a 96-row block (in L2), repeated, so the
//! figures are each shape's ceiling on data in cache, without packing.
//!
//! - `16x16`: `matrixmultiply`'s AVX-512 `sgemm` shape: one register per
//!   row of C, so each step of k takes 16 broadcasts of A and one load of B
//!   for 16 FMAs.
//! - `6x64`, `8x48`, `12x32`: `R` rows by `V` registers (`16·V` columns):
//!   `R` broadcasts and `V` loads for `R·V` FMAs (24 of the 32 registers
//!   hold C).

use std::arch::x86_64::*;
use std::time::Instant;

/// One register per row of a 16 x 16 block (`matrixmultiply`'s shape).
///
/// # Safety
///
/// AVX-512F is available; `a` holds `16·k`, `b` `16·k` values, 64-byte
/// aligned, and `c` has room for 256.
#[target_feature(enable = "avx512f")]
unsafe fn k16x16(k: usize, a: *const f32, b: *const f32, c: *mut f32) {
    // SAFETY: as the function's contract.
    unsafe {
        let mut acc = [_mm512_setzero_ps(); 16];
        let (mut a, mut b) = (a, b);
        for _ in 0..k {
            let bv = _mm512_load_ps(b);
            for (i, acc) in acc.iter_mut().enumerate() {
                *acc = _mm512_fmadd_ps(_mm512_set1_ps(*a.add(i)), bv, *acc);
            }
            a = a.add(16);
            b = b.add(16);
        }
        for (i, acc) in acc.iter().enumerate() {
            _mm512_storeu_ps(c.add(i * 16), *acc);
        }
    }
}

/// `R` rows by `V` registers of 16 columns.
///
/// # Safety
///
/// AVX-512F is available; `a` holds `R·k`, `b` `16·V·k` values, 64-byte
/// aligned, and `c` has room for `R·16·V`.
#[target_feature(enable = "avx512f")]
unsafe fn k_rows<const R: usize, const V: usize>(
    k: usize,
    a: *const f32,
    b: *const f32,
    c: *mut f32,
) {
    // SAFETY: as the function's contract.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); V]; R];
        let (mut a, mut b) = (a, b);
        for _ in 0..k {
            let mut bv = [_mm512_setzero_ps(); V];
            for (j, bv) in bv.iter_mut().enumerate() {
                *bv = _mm512_load_ps(b.add(16 * j));
            }
            for (i, row) in acc.iter_mut().enumerate() {
                let av = _mm512_set1_ps(*a.add(i));
                for (acc, bv) in row.iter_mut().zip(&bv) {
                    *acc = _mm512_fmadd_ps(av, *bv, *acc);
                }
            }
            a = a.add(R);
            b = b.add(16 * V);
        }
        for (i, row) in acc.iter().enumerate() {
            for (j, acc) in row.iter().enumerate() {
                _mm512_storeu_ps(c.add(i * 16 * V + 16 * j), *acc);
            }
        }
    }
}

/// Sixteen values on a 64-byte boundary.
#[repr(align(64))]
struct Line(#[expect(dead_code, reason = "read through raw pointers")] [f32; 16]);

/// At least `n` values, 64-byte aligned.
fn panel(n: usize) -> Vec<Line> {
    (0..n.div_ceil(16))
        .map(|i| Line([(i % 7) as f32 * 0.01; 16]))
        .collect()
}

type Kernel = unsafe fn(usize, *const f32, *const f32, *mut f32);

/// GFLOP/s of `kernel` (an `mr` by `nr` block), best of 7 runs.
fn measure(mr: usize, nr: usize, kc: usize, kernel: Kernel) -> f64 {
    let blocks = 96 / mr;
    let a = panel(blocks * mr * kc);
    let b = panel(kc * nr);
    let mut c = vec![0f32; mr * nr];
    let (ap, bp) = (a.as_ptr().cast::<f32>(), b.as_ptr().cast::<f32>());
    let reps = 20_000;
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..reps {
            for m in 0..blocks {
                // SAFETY: AVX-512F was detected in `main`; A holds `blocks`
                // panels of `mr·kc` values and B one of `kc·nr`, both
                // 64-byte aligned; C holds `mr·nr`.
                unsafe { kernel(kc, ap.add(m * mr * kc), bp, c.as_mut_ptr()) };
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    2.0 * (blocks * mr * nr * kc * reps) as f64 / best / 1e9
}

fn main() {
    if !is_x86_feature_detected!("avx512f") {
        eprintln!("this measurement needs AVX-512F");
        return;
    }
    let shapes: [(&str, usize, usize, Kernel); 4] = [
        ("16x16", 16, 16, k16x16),
        ("6x64", 6, 64, k_rows::<6, 4>),
        ("8x48", 8, 48, k_rows::<8, 3>),
        ("12x32", 12, 32, k_rows::<12, 2>),
    ];
    println!("| shape | kc = 64 | kc = 256 |\n|---|---|---|");
    for (name, mr, nr, kernel) in shapes {
        let [short, long] = [64, 256].map(|kc| measure(mr, nr, kc, kernel));
        println!("| {name} | {short:.0} GFLOP/s | {long:.0} GFLOP/s |");
    }
}
