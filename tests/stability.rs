//! Numerical stability: one test per hazard, each with the correct value.
//! Every expected number is hand-derived from the definition (noted inline).

use wengert::nn::loss::{binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy};
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{BatchNorm1d, Linear, Module, Reduction};
use wengert::{Tensor, grad};

fn t(v: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(v.to_vec(), [v.len()]).unwrap()
}

fn leaf(v: &[f64]) -> Tensor<f64> {
    t(v).requires_grad()
}

fn d(y: &Tensor<f64>, x: &Tensor<f64>) -> Vec<f64> {
    grad(&[&y.sum()], &[x], None, false).unwrap()[0]
        .as_ref()
        .unwrap()
        .to_vec()
}

#[test]
fn softmax_family_is_exact_at_magnitude_1000() {
    // logsumexp([1000, 999, -1000]) = 1000 + ln(1 + e^-1) (e^-2000 underflows to 0).
    let x = t(&[1000.0, 999.0, -1000.0]);
    let lse = x.logsumexp().item();
    assert_eq!(lse, 1000.0 + (1.0 + (-1.0f64).exp()).ln());
    let s = x.softmax(0).to_vec();
    let p = 1.0 / (1.0 + (-1.0f64).exp());
    // A few ulp at most: the shift by the maximum is exact.
    assert!(
        (s[0] - p).abs() < 4e-16 && (s[1] - (1.0 - p)).abs() < 4e-16 && s[2] == 0.0,
        "{s:?}"
    );
    let ls = x.log_softmax(0).to_vec();
    assert!(ls.iter().all(|v| v.is_finite()), "{ls:?}");
    assert!((ls[2] - (-2000.0 - (1.0 + (-1.0f64).exp()).ln())).abs() < 1e-12);
}

#[test]
fn cross_entropy_of_extreme_logits_is_2000() {
    // -log softmax([1000, 0, -1000])[2] = 1000 + ln(1 + e^-1000 + e^-2000) - (-1000) = 2000.
    let z = Tensor::from_vec(vec![1000.0f64, 0.0, -1000.0], [1, 3]).unwrap();
    assert_eq!(
        cross_entropy(&z, &[2], Reduction::Mean).unwrap().item(),
        2000.0
    );
}

#[test]
fn bce_with_logits_is_finite_at_100_and_1000() {
    // max(z, 0) - z·y + ln(1 + e^-|z|): (100, 0) -> 100, (-100, 1) -> 100, (1000, 1) -> 0, (-1000, 0) -> 0.
    let z = leaf(&[100.0, -100.0, 1000.0, -1000.0]);
    let y = t(&[0.0, 1.0, 1.0, 0.0]);
    let l = binary_cross_entropy_with_logits(&z, &y, Reduction::None).unwrap();
    let v = l.to_vec();
    assert!(
        (v[0] - 100.0).abs() < 1e-12 && (v[1] - 100.0).abs() < 1e-12,
        "{v:?}"
    );
    assert_eq!((v[2], v[3]), (0.0, 0.0));
    assert!(d(&l, &z).iter().all(|g| g.is_finite()));
}

#[test]
fn bce_on_probabilities_0_and_1_is_100_not_infinity() {
    // log clamped at -100, as PyTorch: -ln(0) becomes 100.
    let p = leaf(&[0.0, 1.0]);
    let y = t(&[1.0, 0.0]);
    let l = binary_cross_entropy(&p, &y, Reduction::None).unwrap();
    assert_eq!(l.to_vec(), vec![100.0, 100.0]);
    assert!(d(&l, &p).iter().all(|g| g.is_finite()));
}

#[test]
fn sigmoid_and_log_sigmoid_at_1000() {
    let x = leaf(&[-1000.0, 1000.0]);
    assert_eq!(x.sigmoid().to_vec(), vec![0.0, 1.0]);
    assert_eq!(x.log_sigmoid().to_vec(), vec![-1000.0, 0.0]);
    assert_eq!(d(&x.sigmoid(), &x), vec![0.0, 0.0]);
    assert_eq!(d(&x.log_sigmoid(), &x), vec![1.0, 0.0]);
}

#[test]
fn logsumexp_of_all_minus_infinity_is_minus_infinity_with_zero_gradient() {
    // Documented convention: the value is -inf and the lane's gradient is 0, never NaN.
    let x = leaf(&[f64::NEG_INFINITY; 3]);
    let y = x.logsumexp();
    assert_eq!(y.item(), f64::NEG_INFINITY);
    assert_eq!(d(&y, &x), vec![0.0; 3]);
}

#[test]
fn sqrt_at_zero_and_the_where_gotcha() {
    let x = leaf(&[0.0]);
    assert_eq!(d(&x.sqrt(), &x), vec![f64::INFINITY]);
    // where(x > 0, sqrt(x), 0) at 0: the value is 0, but the unselected branch
    // receives a zero gradient and 0 · inf = NaN (as in PyTorch; documented).
    let w = Tensor::where_(&x.gt(&t(&[0.0])), &x.sqrt(), &t(&[0.0]));
    assert_eq!(w.item(), 0.0);
    assert!(d(&w, &x)[0].is_nan());
    // The remedy: keep the unselected branch finite.
    let safe = Tensor::where_(&x.gt(&t(&[0.0])), &x, &t(&[1.0])).sqrt();
    let w2 = Tensor::where_(&x.gt(&t(&[0.0])), &safe, &t(&[0.0]));
    assert_eq!(d(&w2, &x), vec![0.0]);
}

#[test]
fn powers_at_zero() {
    // d/dy 0^y at y = 2 is 0 (0^y is constant 0 for y > 0), not NaN; 0^0 = 1.
    let y = leaf(&[2.0]);
    let base = t(&[0.0]);
    assert_eq!(d(&base.pow(&y), &y), vec![0.0]);
    assert_eq!(t(&[0.0]).pow(&t(&[0.0])).item(), 1.0);
    assert_eq!(t(&[0.0]).powf(0.0).item(), 1.0);
}

#[test]
fn division_by_zero_follows_ieee() {
    let v = t(&[1.0, -1.0, 0.0]).div(&t(&[0.0])).to_vec();
    assert_eq!((v[0], v[1]), (f64::INFINITY, f64::NEG_INFINITY));
    assert!(v[2].is_nan());
}

#[test]
fn batch_norm_of_a_constant_batch_is_finite() {
    let bn = BatchNorm1d::<f64>::new(2).unwrap();
    let x = Tensor::full([4, 2], 3.0).requires_grad();
    let y = bn.forward(&x);
    assert!(y.as_slice().iter().all(|v| v.is_finite()));
    assert_eq!(y.to_vec(), vec![0.0; 8]);
    let g = d(&(&y * &t(&[1.0, 2.0])), &x);
    assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
}

#[test]
fn adam_with_zero_gradients_keeps_the_parameter() {
    let w = Tensor::from_vec(vec![0.5f64, -2.0], [1, 2])
        .unwrap()
        .requires_grad();
    let mut model = Linear::from_tensors(w.clone(), None).unwrap();
    let mut opt = Adam::<f64>::new(AdamConfig::default()).unwrap();
    for _ in 0..3 {
        // The loss 0 · Σ y has an all-zero gradient.
        let loss = model.forward(&Tensor::ones([1, 2])).sum().mul_scalar(0.0);
        let g = loss.backward().unwrap();
        opt.step(&mut model, &g).unwrap();
    }
    assert_eq!(model.weight.to_vec(), vec![0.5, -2.0]);
}

#[test]
fn variance_is_two_pass() {
    // var(1e8 + [1, 2, 3]) = 2/3 (biased); E[x²] - E[x]² would lose every digit.
    let v = t(&[1e8 + 1.0, 1e8 + 2.0, 1e8 + 3.0]).var(false).item();
    assert!((v - 2.0 / 3.0).abs() < 1e-9, "{v}");
}

#[test]
fn fan_out_accumulates() {
    // y = x·x + x at 3: dy/dx = 2x + 1 = 7.
    let x = leaf(&[3.0]);
    assert_eq!(d(&(&(&x * &x) + &x), &x), vec![7.0]);
}

#[test]
fn max_propagates_nan() {
    let x = leaf(&[1.0, f64::NAN, 3.0]);
    let m = x.max();
    assert!(m.item().is_nan());
    let g = d(&m, &x);
    assert_eq!((g[0], g[2]), (0.0, 0.0));
    assert_eq!(g[1], 1.0, "the gradient goes to the NaN");
}
