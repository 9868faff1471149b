//! Second derivatives: `gradgradcheck` (the gradient of a recorded backward
//! pass against finite differences of the first gradient, f64) over the op
//! set, closed forms, and a Hessian-vector product of an MLP loss.
//!
//! A linear op has a zero second derivative on its own, so each linear op is
//! checked inside a square (`op(x)²`): the second derivative then runs through
//! the op's backward rule and the backward of that rule.

use proptest::prelude::*;
use rand::SeedableRng;
use wengert::strategies::{Domain, nonscalar_shape, tensor, unique_values};
use wengert::{
    Conv1dParams, Conv2dParams, ConvTranspose1dParams, ConvTranspose2dParams, Im2colParams, Shape,
    Tensor, grad, gradgradcheck, hessian, hvp,
};

fn ggc(
    inputs: &[Tensor<f64>],
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
) -> Result<(), TestCaseError> {
    gradgradcheck(f, inputs).map_err(|e| TestCaseError::fail(format!("{e}\ninputs: {inputs:?}")))
}

fn sq(t: Tensor<f64>) -> Tensor<f64> {
    &t * &t
}

fn small_shape() -> impl Strategy<Value = Shape> + Clone {
    wengert::strategies::shape(3, 1..4)
}

fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arithmetic_second_derivatives_match((sa, sb) in wengert::strategies::broadcastable_pair(), seed in 0u64..1000) {
        let mut r = rng(seed);
        let a = Tensor::rand_uniform(sa, -2.0, 2.0, &mut r).unwrap();
        let b = Tensor::rand_uniform(sb, 0.5, 2.0, &mut r).unwrap();
        ggc(&[a.clone(), b.clone()], |x| &x[0] * &x[1])?;
        ggc(&[a.clone(), b.clone()], |x| &x[0] / &x[1])?;
        ggc(&[a.clone(), b.clone()], |x| sq(&x[0] + &x[1]))?;
        ggc(&[a, b], |x| sq(&x[0] - &x[1]))?;
    }

    #[test]
    fn scalar_ops_second_derivatives_match(x in tensor(small_shape(), Domain::away_from(&[0.0], 0.3))) {
        ggc(std::slice::from_ref(&x), |v| v[0].rdiv_scalar(2.0))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].mul_scalar(-1.5).add_scalar(0.5).div_scalar(2.0).neg()))?;
    }

    #[test]
    fn exp_log_second_derivatives_match(x in tensor(small_shape(), Domain::positive())) {
        ggc(std::slice::from_ref(&x), |v| v[0].exp())?;
        ggc(std::slice::from_ref(&x), |v| v[0].log())?;
    }

    #[test]
    fn smooth_unary_second_derivatives_match(x in tensor(small_shape(), -2.0..2.0), p in tensor(small_shape(), Domain::positive())) {
        let one = |f: fn(&Tensor<f64>) -> Tensor<f64>, x: &Tensor<f64>| ggc(std::slice::from_ref(x), |v| f(&v[0]));
        one(|t| t.sin(), &x)?;
        one(|t| t.cos(), &x)?;
        one(|t| t.tanh(), &x)?;
        one(|t| t.sigmoid(), &x)?;
        one(|t| t.softplus(), &x)?;
        one(|t| t.log_sigmoid(), &x)?;
        one(|t| t.gelu(), &x)?;
        one(|t| t.gelu_erf(), &x)?;
        one(|t| t.square(), &x)?;
        one(|t| t.sqrt(), &p)?;
        one(|t| t.recip(), &p)?;
        one(|t| t.powf(2.5), &p)?;
    }

    #[test]
    fn piecewise_unary_second_derivatives_match(x in tensor(small_shape(), Domain::away_from(&[-0.5, 0.0, 0.5], 0.05))) {
        let one = |f: fn(&Tensor<f64>) -> Tensor<f64>| ggc(std::slice::from_ref(&x), |v| f(&v[0]));
        one(|t| sq(t.relu()))?;
        one(|t| sq(t.abs()))?;
        one(|t| sq(t.leaky_relu(0.1)))?;
        one(|t| t.elu(1.5))?;
        one(|t| t.selu())?;
        one(|t| sq(t.clamp(-0.5, 0.5)))?;
    }

    #[test]
    fn binary_and_where_second_derivatives_match((sa, sb) in wengert::strategies::broadcastable_pair(), seed in 0u64..1000) {
        let mut r = rng(seed);
        let a = Tensor::rand_uniform(sa, 0.5, 2.0, &mut r).unwrap();
        let b = Tensor::rand_uniform(sb, -2.0, 2.0, &mut r).unwrap();
        ggc(&[a.clone(), b.clone()], |x| x[0].pow(&x[1]))?;
        // Operands kept apart so that no tie sits within eps of a sample.
        let c = b.map(|v| if (v - 1.0).abs() < 0.05 { v + 0.1 } else { v });
        ggc(&[a.clone(), c.clone()], |x| sq(x[0].maximum(&x[1])))?;
        ggc(&[a.clone(), c.clone()], |x| sq(x[0].minimum(&x[1])))?;
        let cond = a.gt(&c);
        ggc(&[a, c], |x| sq(Tensor::where_(&cond, &x[0], &x[1])))?;
    }

    #[test]
    fn statistics_second_derivatives_match(x in tensor(nonscalar_shape(), -2.0..2.0), keep in any::<bool>()) {
        ggc(std::slice::from_ref(&x), |v| sq(v[0].mean_axes(&[0], keep)))?;
        ggc(std::slice::from_ref(&x), |v| v[0].var_axes(&[-1], false, keep))?;
        ggc(std::slice::from_ref(&x), |v| v[0].logsumexp_axes(&[-1], keep))?;
        ggc(std::slice::from_ref(&x), |v| v[0].softmax(-1))?;
        ggc(std::slice::from_ref(&x), |v| v[0].log_softmax(0))?;
    }

    #[test]
    fn max_min_second_derivatives_match(x in unique_values(nonscalar_shape()), keep in any::<bool>()) {
        ggc(std::slice::from_ref(&x), |v| sq(v[0].max_axes(&[-1], keep)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].min_axes(&[0], keep)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].max()))?;
    }

    #[test]
    fn convolution_second_derivatives_match(
        n in 1usize..3, cin in 1usize..3, cout in 1usize..3, h in 3usize..6, w in 3usize..6,
        k in 1usize..4, stride in 1usize..3, pad in 0usize..2, seed in 0u64..1000,
    ) {
        let mut r = rng(seed);
        let x = Tensor::<f64>::randn([n, cin, h, w], 0.0, 1.0, &mut r).unwrap();
        let wt = Tensor::<f64>::randn([cout, cin, k, k], 0.0, 0.5, &mut r).unwrap();
        let b = Tensor::<f64>::randn([cout], 0.0, 0.5, &mut r).unwrap();
        let p2 = Conv2dParams { stride: [stride, stride], padding: [pad, pad], ..Conv2dParams::default() };
        ggc(&[x.clone(), wt.clone(), b.clone()], |v| v[0].conv2d(&v[1], Some(&v[2]), p2).tanh())?;
        let p1 = Conv1dParams { stride, padding: pad, ..Conv1dParams::default() };
        let x1 = x.reshape([n, cin, h * w]);
        let w1 = wt.reshape([cout, cin, k * k]);
        ggc(&[x1, w1], |v| v[0].conv1d(&v[1], None, p1).tanh())?;
        let wt_t = Tensor::<f64>::randn([cin, cout, k, k], 0.0, 0.5, &mut r).unwrap();
        let pt = ConvTranspose2dParams { stride: [stride, stride], ..ConvTranspose2dParams::default() };
        ggc(&[x.clone(), wt_t], |v| v[0].conv_transpose2d(&v[1], None, pt).tanh())?;
        let window = Im2colParams { stride: [stride, stride], padding: [pad, pad], ..Im2colParams::new([k.min(h), k.min(w)]) };
        ggc(std::slice::from_ref(&x), |v| sq(v[0].im2col(window)))?;
        let cols = x.im2col(window);
        ggc(std::slice::from_ref(&cols), |v| sq(v[0].col2im([h, w], window)))?;
        let x1 = x.reshape([n, cin, h * w]);
        let wt1 = Tensor::<f64>::randn([cin, cout, k], 0.0, 0.5, &mut r).unwrap();
        let pt1 = ConvTranspose1dParams { stride, ..ConvTranspose1dParams::default() };
        ggc(&[x1, wt1], |v| v[0].conv_transpose1d(&v[1], None, pt1).tanh())?;
    }

    #[test]
    fn pooling_second_derivatives_match(x in unique_values(Just(Shape::from([2, 2, 5, 4]))), stride in 1usize..3) {
        ggc(std::slice::from_ref(&x), |v| sq(v[0].max_pool2d([2, 2], [stride, stride], [0, 0])))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].avg_pool2d([3, 2], [stride, stride], [1, 1], false)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].global_avg_pool()))?;
        let x1 = x.reshape([2, 2, 20]);
        ggc(std::slice::from_ref(&x1), |v| sq(v[0].max_pool1d(3, stride, 1)))?;
        ggc(std::slice::from_ref(&x1), |v| sq(v[0].avg_pool1d(4, stride, 0, true)))?;
    }

    #[test]
    fn reductions_and_broadcasts_second_derivatives_match(x in tensor(nonscalar_shape(), -1.0..1.0), keep in any::<bool>()) {
        ggc(std::slice::from_ref(&x), |v| sq(v[0].sum_axes(&[-1], keep)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].sum()))?;
        let mut to = vec![2];
        to.extend_from_slice(x.dims());
        ggc(std::slice::from_ref(&x), |v| sq(v[0].broadcast_to(to.clone())))?;
    }

    #[test]
    fn matmul_second_derivatives_match(m in 1usize..4, k in 1usize..4, n in 1usize..4, lt in any::<bool>(), rt in any::<bool>(), seed in 0u64..1000) {
        let mut r = rng(seed);
        let sa = if lt { [k, m] } else { [m, k] };
        let sb = if rt { [n, k] } else { [k, n] };
        let a = Tensor::<f64>::randn(sa, 0.0, 1.0, &mut r).unwrap();
        let b = Tensor::<f64>::randn(sb, 0.0, 1.0, &mut r).unwrap();
        ggc(&[a, b], |x| x[0].matmul_t(&x[1], lt, rt))?;
    }

    #[test]
    fn shape_ops_second_derivatives_match(x in tensor(nonscalar_shape(), -1.0..1.0), seed in 0u64..1000) {
        let r = x.rank();
        let d0 = x.dims()[0];
        let perm: Vec<usize> = (0..r).rev().collect();
        ggc(std::slice::from_ref(&x), |v| sq(v[0].permute(&perm)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].transpose(0, -1)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].unsqueeze(0).squeeze(0).reshape([v[0].numel()])))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].narrow(0, d0 / 2, d0 - d0 / 2)))?;
        ggc(std::slice::from_ref(&x), |v| sq(v[0].slice(0, 0, d0, 2)))?;
        let pads: Vec<(usize, usize)> = (0..r).map(|i| (i % 2, 1)).collect();
        ggc(std::slice::from_ref(&x), |v| sq(v[0].pad(&pads, 0.5)))?;
        ggc(std::slice::from_ref(&x), |v| sq(Tensor::concat(&[&v[0], &v[0].mul_scalar(2.0)], 0)))?;
        ggc(std::slice::from_ref(&x), |v| sq(Tensor::stack(&[&v[0], &v[0]], -1)))?;
        let idx: Vec<usize> = (0..d0 + 1).map(|i| (i * 7 + seed as usize) % d0).collect();
        ggc(std::slice::from_ref(&x), |v| sq(v[0].index_select(0, &idx)))?;
        let src = x.index_select(0, &idx).mul_scalar(0.5);
        ggc(&[x.clone(), src], |v| sq(v[0].index_add(0, &idx, &v[1])))?;
        let gidx: Vec<usize> = (0..x.numel()).map(|i| (i * 5 + seed as usize) % d0).collect();
        ggc(std::slice::from_ref(&x), |v| sq(v[0].gather(0, &gidx, v[0].shape().clone())))?;
        ggc(&[x.clone(), x.mul_scalar(0.3)], |v| sq(v[0].scatter_add(0, &gidx, v[0].shape().clone(), &v[1])))?;
    }
}

#[test]
fn second_derivative_of_sin_cubed_has_its_closed_form() {
    // d²/dx² sin³(x) = 6 sin(x) cos²(x) - 3 sin³(x); at x = 1 that is ≈ -0.3136 (hand-derived).
    let x = Tensor::from_vec(vec![1.0f64], [1]).unwrap();
    let h = hessian(
        |x| {
            let s = x.sin();
            (&(&s * &s) * &s).sum()
        },
        &x,
    )
    .unwrap()
    .item();
    let (s, c) = (1.0f64.sin(), 1.0f64.cos());
    let want = 6.0 * s * c * c - 3.0 * s * s * s;
    assert!((h - want).abs() < 1e-12, "{h} vs {want}");
    assert!((want - -0.3136).abs() < 1e-4);
}

#[test]
fn second_derivative_of_tanh_is_minus_two_tanh_times_its_derivative() {
    // tanh'' = -2 tanh (1 - tanh²) (hand-derived).
    for v in [-2.0f64, -0.3, 0.0, 0.7, 3.0] {
        let x = Tensor::from_vec(vec![v], [1]).unwrap();
        let h = hessian(|x| x.tanh().sum(), &x).unwrap().item();
        let t = v.tanh();
        assert!((h - -2.0 * t * (1.0 - t * t)).abs() < 1e-12, "at {v}: {h}");
    }
}

#[test]
fn hessian_of_a_quadratic_form_is_a_plus_a_transposed() {
    let mut r = rng(5);
    let a = Tensor::<f64>::randn([4, 4], 0.0, 1.0, &mut r).unwrap();
    let x = Tensor::<f64>::randn([4], 0.0, 1.0, &mut r).unwrap();
    let h = hessian(|x| x.matmul(&a).matmul(x), &x).unwrap();
    let want = &a + &a.transpose(0, 1);
    for (g, w) in h.as_slice().iter().zip(want.as_slice()) {
        assert!((g - w).abs() < 1e-12);
    }
}

#[test]
fn mlp_hessian_vector_product_matches_finite_differences_of_the_gradient() {
    // A 2-layer MLP, tanh hidden layer, MSE loss; parameters flattened into one vector.
    let mut r = rng(11);
    let x = Tensor::<f64>::randn([5, 3], 0.0, 1.0, &mut r).unwrap();
    let y = Tensor::<f64>::randn([5, 2], 0.0, 1.0, &mut r).unwrap();
    let (n1, n2) = (3 * 4 + 4, 4 * 2 + 2);
    let loss = |p: &Tensor<f64>| {
        let w1 = p.narrow(0, 0, 12).reshape([3, 4]);
        let b1 = p.narrow(0, 12, 4);
        let w2 = p.narrow(0, n1, 8).reshape([4, 2]);
        let b2 = p.narrow(0, n1 + 8, 2);
        let h = (&x.matmul(&w1) + &b1).tanh();
        let e = &(&h.matmul(&w2) + &b2) - &y;
        (&e * &e).sum().div_scalar(5.0)
    };
    let p = Tensor::<f64>::randn([n1 + n2], 0.0, 0.5, &mut r).unwrap();
    let v = Tensor::<f64>::randn([n1 + n2], 0.0, 1.0, &mut r).unwrap();
    let (_, hv) = hvp(loss, &p, &v).unwrap();
    let gradient = |p: &Tensor<f64>| {
        let p = p.detach().requires_grad();
        grad(&[&loss(&p)], &[&p], None, false).unwrap()[0]
            .clone()
            .unwrap()
    };
    let eps = 1e-5;
    let plus = gradient(&(&p + &v.mul_scalar(eps)));
    let minus = gradient(&(&p - &v.mul_scalar(eps)));
    let fd = (&plus - &minus).div_scalar(2.0 * eps);
    for (a, n) in hv.as_slice().iter().zip(fd.as_slice()) {
        assert!((a - n).abs() <= 1e-6 + 1e-5 * n.abs(), "{a} vs {n}");
    }
}

#[test]
fn third_derivative_of_tanh_flows_through_the_fused_backward() {
    // tanh''' = -2 (1 - t²)(1 - 3t²) (hand-derived from t' = 1 - t²).
    for v in [-1.3f64, 0.0, 0.4, 2.0] {
        let x = Tensor::from_vec(vec![v], [1]).unwrap().requires_grad();
        let d1 = grad(&[&x.tanh().sum()], &[&x], None, true).unwrap()[0]
            .clone()
            .unwrap();
        let d2 = grad(&[&d1.sum()], &[&x], None, true).unwrap()[0]
            .clone()
            .unwrap();
        let d3 = grad(&[&d2.sum()], &[&x], None, false).unwrap()[0]
            .clone()
            .unwrap()
            .item();
        let t = v.tanh();
        let want = -2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t);
        assert!((d3 - want).abs() < 1e-12, "at {v}: {d3} vs {want}");
    }
}
