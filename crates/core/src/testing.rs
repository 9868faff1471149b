//! Shared helpers of the op tests: the strategies, and `check_grads!`, which
//! gradient-checks a closure in f64 and checks that f32 agrees with f64.

pub(crate) use crate::strategies::*;
pub(crate) use proptest::prelude::*;

use crate::{BackwardOptions, Float, Tensor, gradcheck};

/// Gradient-checks `$body` over the inputs in f64 (central differences, random
/// cotangent), then runs the same body in f32 and requires forward values and
/// gradients to agree with f64 within rtol 1e-4.
macro_rules! check_grads {
    ([$($x:expr),+ $(,)?], |$($a:ident),+| $body:expr) => {
        $crate::testing::check_both(
            &{
                let inputs: Vec<$crate::Tensor<f64>> = vec![$($x.clone()),+];
                inputs
            },
            |xs: &[$crate::Tensor<f64>]| {
                let [$($a),+] = xs else { unreachable!("arity") };
                $body
            },
            |xs: &[$crate::Tensor<f32>]| {
                let [$($a),+] = xs else { unreachable!("arity") };
                $body
            },
        )
    };
}
pub(crate) use check_grads;

pub(crate) fn check_both(
    inputs: &[Tensor<f64>],
    f64f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    f32f: impl Fn(&[Tensor<f32>]) -> Tensor<f32>,
) -> Result<(), TestCaseError> {
    gradcheck(&f64f, inputs)
        .map_err(|e| TestCaseError::fail(format!("{e}\ninputs: {inputs:?}")))?;
    let x32: Vec<Tensor<f32>> = inputs.iter().map(to_f32).collect();
    let (y64, g64) = value_and_grads(&f64f, inputs);
    let (y32, g32) = value_and_grads(&f32f, &x32);
    agree("forward value", &y64, &y32)?;
    for (i, (a, b)) in g64.iter().zip(&g32).enumerate() {
        agree(&format!("gradient of input {i}"), a, b)?;
    }
    Ok(())
}

/// Standard normal values of `shape` from a seeded generator.
pub(crate) fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Tensor::randn(shape, 0.0, 1.0, &mut rng).expect("BUG: a test shape")
}

pub(crate) fn to_f32(t: &Tensor<f64>) -> Tensor<f32> {
    Tensor::from_vec(
        t.as_slice().iter().map(|&v| v as f32).collect(),
        t.shape().clone(),
    )
    .unwrap()
}

/// The value and the gradients of `<f(x), v>` for a fixed cotangent pattern.
fn value_and_grads<T: Float>(
    f: &impl Fn(&[Tensor<T>]) -> Tensor<T>,
    xs: &[Tensor<T>],
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let leaves: Vec<Tensor<T>> = xs.iter().map(|t| t.detach().requires_grad()).collect();
    let y = f(&leaves);
    let n = y.numel();
    let seed = Tensor::from_vec(
        (0..n)
            .map(|k| T::from_f64(((k * 7 + 3) % 11) as f64 / 11.0 - 0.45))
            .collect(),
        y.shape().clone(),
    )
    .unwrap();
    let grads = y
        .backward_with(Some(&seed), BackwardOptions::default())
        .ok();
    let g = leaves
        .iter()
        .map(|l| match grads.as_ref().and_then(|g| g.get(l)) {
            Some(g) => g.as_slice().iter().map(|v| v.to_f64()).collect(),
            None => vec![0.0; l.numel()],
        })
        .collect();
    (y.as_slice().iter().map(|v| v.to_f64()).collect(), g)
}

fn agree(what: &str, a: &[f64], b: &[f64]) -> Result<(), TestCaseError> {
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        let ok = (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= 1e-4 * x.abs().max(1.0);
        if !ok {
            return Err(TestCaseError::fail(format!(
                "f32 disagrees with f64 in {what} at element {k}: {y} vs {x}"
            )));
        }
    }
    Ok(())
}

/// The value of `f(x)` and the gradient of `sum(f(x))` at the 1-D input `x`
/// (for golden-value and kink tests, where every element's slope is wanted).
pub(crate) fn value_and_grad(
    x: &[f64],
    f: impl Fn(&Tensor<f64>) -> Tensor<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let x = Tensor::from_vec(x.to_vec(), [x.len()])
        .unwrap()
        .requires_grad();
    let y = f(&x);
    let g = y.sum().backward().unwrap().get(&x).unwrap().to_vec();
    (y.to_vec(), g)
}

/// The element-wise second derivative of `sum(f(x))` at the 1-D input `x`, by
/// differentiating a recorded backward pass.
pub(crate) fn second_derivative(x: &[f64], f: impl Fn(&Tensor<f64>) -> Tensor<f64>) -> Vec<f64> {
    let x = Tensor::from_vec(x.to_vec(), [x.len()])
        .unwrap()
        .requires_grad();
    let opts = BackwardOptions {
        create_graph: true,
        ..Default::default()
    };
    let g = f(&x)
        .sum()
        .backward_with(None, opts)
        .unwrap()
        .get(&x)
        .unwrap()
        .clone();
    g.sum().backward().unwrap().get(&x).unwrap().to_vec()
}
