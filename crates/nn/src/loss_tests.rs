//! Golden values of every loss, forward and backward, extreme cases included,
//! and gradient checks at interior points.

use super::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_core::gradcheck;

fn t(v: &[f64], shape: &[usize]) -> Tensor<f64> {
    Tensor::from_vec(v.to_vec(), shape).unwrap()
}

/// The loss value and its gradient with respect to `x`.
fn value_grad(x: &Tensor<f64>, f: impl Fn(&Tensor<f64>) -> Tensor<f64>) -> (Vec<f64>, Vec<f64>) {
    let x = x.detach().requires_grad();
    let l = f(&x);
    let g = l.sum().backward().unwrap();
    (l.to_vec(), g.get(&x).unwrap().to_vec())
}

#[track_caller]
fn close(a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{a:?} vs {b:?}");
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 + 1e-9 * y.abs(), "{a:?} vs {b:?}");
    }
}

#[test]
fn mse_golden() {
    // hand-derived: mean((x - y)²) = (1 + 4) / 2; grad = 2 (x - y) / 2.
    let (v, g) = value_grad(&t(&[1.0, 2.0], &[2]), |x| {
        mse_loss(x, &t(&[0.0, 4.0], &[2]), Reduction::Mean).unwrap()
    });
    close(&v, &[2.5]);
    close(&g, &[1.0, -2.0]);
}

#[test]
fn l1_golden_with_gradient_zero_at_the_kink() {
    // torch.nn.functional.l1_loss(x, y, reduction='sum') with x = [1, 2, 3],
    // y = [0, 4, 3]: 3; grad sign(x - y) = [1, -1, 0].
    let (v, g) = value_grad(&t(&[1.0, 2.0, 3.0], &[3]), |x| {
        l1_loss(x, &t(&[0.0, 4.0, 3.0], &[3]), Reduction::Sum).unwrap()
    });
    close(&v, &[3.0]);
    close(&g, &[1.0, -1.0, 0.0]);
}

#[test]
fn huber_golden_on_both_branches_and_the_threshold() {
    // torch.nn.functional.huber_loss(x, zeros, reduction='none', delta=1.0),
    // x = [0.5, 2, -3, 1]: [0.125, 1.5, 2.5, 0.5]; grad clamp(x, -1, 1).
    let (v, g) = value_grad(&t(&[0.5, 2.0, -3.0, 1.0], &[4]), |x| {
        huber_loss(x, &Tensor::zeros([4]), 1.0, Reduction::None).unwrap()
    });
    close(&v, &[0.125, 1.5, 2.5, 0.5]);
    close(&g, &[0.5, 1.0, -1.0, 1.0]);
    assert!(huber_loss(&t(&[1.0], &[1]), &t(&[1.0], &[1]), 0.0, Reduction::Sum).is_err());
}

#[test]
fn bce_golden_with_clamped_logs() {
    // torch.nn.functional.binary_cross_entropy(p, y, reduction='none') with
    // p = [0, 1, 0, 0.5, 0.25], y = [1, 0, 0, 1, 1] gives [100, 100, 0, ln 2, ln 4].
    // Gradients, hand-derived from the clamped formula: 0 where a log is clamped
    // (the first two), -y/p + (1 - y)/(1 - p) elsewhere: [0, 0, 1, -2, -4].
    // (PyTorch's fused backward gives ∓1e12 for the first two instead.)
    let y = t(&[1.0, 0.0, 0.0, 1.0, 1.0], &[5]);
    let (v, g) = value_grad(&t(&[0.0, 1.0, 0.0, 0.5, 0.25], &[5]), |p| {
        binary_cross_entropy(p, &y, Reduction::None).unwrap()
    });
    close(&v, &[100.0, 100.0, 0.0, 2f64.ln(), 4f64.ln()]);
    close(&g, &[0.0, 0.0, 1.0, -2.0, -4.0]);
    // Mean: the same values over 5; f32 too stays finite.
    let m = binary_cross_entropy(
        &t(&[0.0, 1.0], &[2]),
        &t(&[1.0, 0.0], &[2]),
        Reduction::Mean,
    )
    .unwrap();
    close(&[m.item()], &[100.0]);
    let p32 = Tensor::<f32>::from_vec(vec![0.0, 1.0, 1e-30], [3])
        .unwrap()
        .requires_grad();
    let l = binary_cross_entropy(&p32, &Tensor::ones([3]), Reduction::Sum).unwrap();
    assert!(l.item().is_finite());
    assert!(
        l.backward()
            .unwrap()
            .get(&p32)
            .unwrap()
            .to_vec()
            .iter()
            .all(|v| v.is_finite())
    );
}

#[test]
fn bce_rejects_targets_and_probabilities_outside_the_unit_interval() {
    let p = t(&[0.5, 0.5], &[2]);
    let e = binary_cross_entropy(&p, &t(&[0.0, 1.5], &[2]), Reduction::Mean).unwrap_err();
    assert_eq!(
        e.to_string(),
        "binary_cross_entropy: target 1.5 at element 1 is outside [0, 1]"
    );
    let e = binary_cross_entropy(&t(&[-0.1, 0.5], &[2]), &p, Reduction::Mean).unwrap_err();
    assert!(matches!(e, Error::InputOutOfRange { index: 0, .. }), "{e}");
    let e = binary_cross_entropy_with_logits(&p, &t(&[f64::NAN, 0.0], &[2]), Reduction::Mean);
    assert!(matches!(e, Err(Error::TargetOutOfRange { .. })));
    let e = binary_cross_entropy(&p, &t(&[0.5], &[1]), Reduction::Mean).unwrap_err();
    assert_eq!(
        e.to_string(),
        "binary_cross_entropy: input and target shapes differ (input [2], target [1])"
    );
}

#[test]
fn bce_with_logits_golden_finite_at_plus_minus_1000() {
    // torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction='none'),
    // z = [1000, -1000, 1000, -1000, 0], y = [0, 1, 1, 0, 0.25]:
    // [1000, 1000, 0, 0, ln 2]; grad sigmoid(z) - y = [1, -1, 0, 0, 0.25].
    let y = t(&[0.0, 1.0, 1.0, 0.0, 0.25], &[5]);
    let (v, g) = value_grad(&t(&[1000.0, -1000.0, 1000.0, -1000.0, 0.0], &[5]), |z| {
        binary_cross_entropy_with_logits(z, &y, Reduction::None).unwrap()
    });
    close(&v, &[1000.0, 1000.0, 0.0, 0.0, 2f64.ln()]);
    close(&g, &[1.0, -1.0, 0.0, 0.0, 0.25]);
}

#[test]
fn cross_entropy_golden_including_extreme_logits() {
    // torch.nn.functional.cross_entropy(torch.tensor([[1., 2., 3.]]), torch.tensor([2]))
    // = 0.40760596444438013; grad softmax - onehot.
    let (v, g) = value_grad(&t(&[1.0, 2.0, 3.0], &[1, 3]), |z| {
        cross_entropy(z, &[2], Reduction::Mean).unwrap()
    });
    close(&v, &[0.407_605_964_444_380_13]);
    close(
        &g,
        &[
            0.090_030_573_170_380_46,
            0.244_728_471_054_797_67,
            0.665_240_955_774_821_9 - 1.0,
        ],
    );
    // Extreme: logits ±1000 (hand-derived): labels [1, 0] give losses [2000, 0],
    // mean 1000; grad (softmax - onehot) / 2 = [[0.5, -0.5], [0, 0]].
    let (v, g) = value_grad(&t(&[1000.0, -1000.0, 1000.0, -1000.0], &[2, 2]), |z| {
        cross_entropy(z, &[1, 0], Reduction::Mean).unwrap()
    });
    close(&v, &[1000.0]);
    close(&g, &[0.5, -0.5, 0.0, 0.0]);
}

#[test]
fn cross_entropy_with_probabilities_golden() {
    // torch.nn.functional.cross_entropy(torch.zeros(1, 2), torch.tensor([[0.25, 0.75]]))
    // = ln 2; grad softmax(z) · Σt - t = [0.25, -0.25].
    let (v, g) = value_grad(&Tensor::zeros([1, 2]), |z| {
        cross_entropy_probs(z, &t(&[0.25, 0.75], &[1, 2]), Reduction::Sum).unwrap()
    });
    close(&v, &[2f64.ln()]);
    close(&g, &[0.25, -0.25]);
    let e = cross_entropy_probs(
        &Tensor::<f64>::zeros([2, 2]),
        &Tensor::zeros([1, 2]),
        Reduction::Sum,
    );
    assert!(matches!(e, Err(Error::BatchSizeMismatch { .. })));
}

#[test]
fn nll_golden_and_named_errors() {
    // hand-derived: -x[i, label_i]; grad -onehot / N.
    let (v, g) = value_grad(&t(&[-1.0, -2.0, -3.0, -4.0], &[2, 2]), |x| {
        nll_loss(x, &[1, 0], Reduction::Mean).unwrap()
    });
    close(&v, &[2.5]);
    close(&g, &[0.0, -0.5, -0.5, 0.0]);
    let x = Tensor::<f64>::zeros([2, 3]);
    let e = nll_loss(&x, &[0], Reduction::Sum).unwrap_err();
    assert_eq!(
        e.to_string(),
        "nll_loss: batch sizes differ (input [2, 3], target [1])"
    );
    let e = cross_entropy(&x, &[0, 3], Reduction::Sum).unwrap_err();
    assert!(matches!(
        e,
        Error::LabelOutOfRange {
            label: 3,
            index: 1,
            classes: 3,
            ..
        }
    ));
    let e = cross_entropy(&Tensor::<f64>::zeros([3]), &[0], Reduction::Sum).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cross_entropy: expected input of shape [N, C], got [3]"
    );
}

#[test]
fn kl_div_golden_with_a_zero_target() {
    // torch.nn.functional.kl_div(torch.log(torch.tensor([0.5, 0.5, 0.5])),
    //     torch.tensor([0.25, 0.75, 0.0]), reduction='none')
    // = [0.25 ln 0.5, 0.75 ln 1.5, 0]; grad -t.
    let x = t(&[0.5f64.ln(); 3], &[3]);
    let (v, g) = value_grad(&x, |x| {
        kl_div(x, &t(&[0.25, 0.75, 0.0], &[3]), Reduction::None).unwrap()
    });
    close(
        &v,
        &[-0.173_286_795_139_986_32, 0.304_098_831_081_123_3, 0.0],
    );
    close(&g, &[-0.25, -0.75, 0.0]);
    // The gradient with respect to the target is finite at t = 0 as well.
    let target = t(&[0.25, 0.75, 0.0], &[3]).requires_grad();
    let gt = kl_div(&x, &target, Reduction::Sum)
        .unwrap()
        .backward()
        .unwrap();
    assert!(
        gt.get(&target)
            .unwrap()
            .to_vec()
            .iter()
            .all(|v| v.is_finite())
    );
}

#[test]
fn losses_grad_match_finite_differences_over_input_and_target() {
    let mut rng = StdRng::seed_from_u64(9);
    let a = Tensor::<f64>::randn([3, 4], 0.0, 1.0, &mut rng).unwrap();
    let b = Tensor::<f64>::randn([3, 4], 0.0, 1.0, &mut rng).unwrap();
    let probs = Tensor::<f64>::rand_uniform([3, 4], 0.05, 0.95, &mut rng).unwrap();
    let probs2 = Tensor::<f64>::rand_uniform([3, 4], 0.05, 0.95, &mut rng).unwrap();
    for r in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        gradcheck(
            |x| mse_loss(&x[0], &x[1], r).unwrap(),
            &[a.clone(), b.clone()],
        )
        .unwrap();
        gradcheck(
            |x| l1_loss(&x[0], &x[1], r).unwrap(),
            &[a.clone(), b.clone()],
        )
        .unwrap();
        gradcheck(
            |x| huber_loss(&x[0], &x[1], 0.7, r).unwrap(),
            &[a.clone(), b.clone()],
        )
        .unwrap();
        gradcheck(
            |x| binary_cross_entropy(&x[0], &x[1], r).unwrap(),
            &[probs.clone(), probs2.clone()],
        )
        .unwrap();
        gradcheck(
            |x| binary_cross_entropy_with_logits(&x[0], &x[1], r).unwrap(),
            &[a.clone(), probs.clone()],
        )
        .unwrap();
        gradcheck(
            |x| cross_entropy(&x[0], &[3, 0, 1], r).unwrap(),
            std::slice::from_ref(&a),
        )
        .unwrap();
        gradcheck(
            |x| cross_entropy_probs(&x[0], &x[1], r).unwrap(),
            &[a.clone(), probs.clone()],
        )
        .unwrap();
        gradcheck(
            |x| nll_loss(&x[0], &[2, 2, 1], r).unwrap(),
            std::slice::from_ref(&a),
        )
        .unwrap();
        gradcheck(
            |x| kl_div(&x[0], &x[1], r).unwrap(),
            &[a.clone(), probs.clone()],
        )
        .unwrap();
    }
}

#[test]
fn reductions_have_the_documented_shapes() {
    let z = Tensor::<f32>::zeros([4, 3]);
    assert_eq!(
        cross_entropy(&z, &[0, 1, 2, 0], Reduction::None)
            .unwrap()
            .dims(),
        &[4]
    );
    assert_eq!(
        cross_entropy(&z, &[0, 1, 2, 0], Reduction::Sum)
            .unwrap()
            .rank(),
        0
    );
    assert_eq!(mse_loss(&z, &z, Reduction::None).unwrap().dims(), &[4, 3]);
}
