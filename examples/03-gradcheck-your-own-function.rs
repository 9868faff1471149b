//! # 3. Gradient checking your own function
//!
//! What it teaches: how to test a gradient you did not get from wengert's own
//! ops. `wengert::gradcheck` compares the tape's gradient of any closure of
//! `f64` tensors with central finite differences,
//! `(L(x + ε e_k) - L(x - ε e_k)) / 2ε`, where `L = <f(x), v>` for a random
//! cotangent `v`. The example checks a user function built from wengert ops
//! (it passes), one with a stray `detach` (it fails), and a user-written op,
//! softplus, with two classic backward bugs, showing the structured report
//! that names the input, the element, and the analytic and numeric values.
//!
//! It follows the backprop lecture ("Aula 9 - Redes Neurais - Treinamento"):
//! hand-derived gradients like its delta formulas are exactly what a gradient
//! check is for. The second bug, forgetting to multiply by `grad_out`, passes a
//! check that reduces the output with a plain sum (every `grad_out` is then 1),
//! which is why `gradcheck` uses a random cotangent.
//!
//! Run it with `cargo run --release --example 03-gradcheck-your-own-function`
//! (flags: `--seed N` for the inputs and the cotangent, `--quick`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert::{Backward, GradCheckFailure, GradCheckOptions, Grads, Tensor, gradcheck_with};

/// A user's layer built from wengert ops: `swish(x W + b)`, `swish(z) = z σ(z)`.
pub fn swish_layer(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let z = &x.matmul(w) + b;
    &z * &z.sigmoid()
}

/// The same layer with a bug: `detach` cuts `σ(z)` from the tape, so the tape
/// sees `z · constant` and misses the term `z σ'(z)`.
pub fn swish_layer_detached(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let z = &x.matmul(w) + b;
    &z * &z.sigmoid().detach()
}

/// Which backward rule [`softplus`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `grad_x = grad_out * σ(x)`: right.
    Correct,
    /// `grad_x = grad_out * e^x`: the derivative of `e^x`, not of `log(1 + e^x)`.
    WrongFormula,
    /// `grad_x = σ(x)`: the local derivative, never multiplied by `grad_out`.
    ForgetsGradOut,
}

/// Backward of [`softplus`]: saves the input.
struct SoftplusBackward {
    x: Tensor<f64>,
    rule: Rule,
}

impl Backward<f64> for SoftplusBackward {
    fn name(&self) -> &'static str {
        "my_softplus"
    }

    fn backward(&self, grad_out: &Tensor<f64>, _needs: &[bool]) -> wengert::Result<Grads<f64>> {
        let grad_x = match self.rule {
            Rule::Correct => grad_out * &self.x.sigmoid(),
            Rule::WrongFormula => grad_out * &self.x.exp(),
            Rule::ForgetsGradOut => self.x.sigmoid(),
        };
        Ok([Some(grad_x)].into_iter().collect())
    }
}

/// A user-written op: `softplus(x) = log(1 + e^x)`, computed by a raw map (the
/// tape does not see inside it) and recorded with the chosen backward `rule`.
pub fn softplus(x: &Tensor<f64>, rule: Rule) -> Tensor<f64> {
    // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which never overflows.
    let y = x.map(|v| v.max(0.0) + (-v.abs()).exp().ln_1p());
    Tensor::from_op(y, &[x], || SoftplusBackward { x: x.clone(), rule })
}

/// What the example found: the outcome of each check.
pub struct Report {
    /// The failure of the detached layer's check.
    pub detached: GradCheckFailure,
    /// The failure of softplus with [`Rule::WrongFormula`].
    pub wrong_formula: GradCheckFailure,
    /// The failure of softplus with [`Rule::ForgetsGradOut`].
    pub forgets_grad_out: GradCheckFailure,
    /// `d/dx Σ softplus(x)` with [`Rule::ForgetsGradOut`], minus the true
    /// `σ(x)`, largest over the elements: the plain-sum check that misses the bug.
    pub sum_check_error: f64,
}

/// Unwraps the structured report of a check that must fail.
fn expect_failure(result: wengert::Result<()>) -> Result<GradCheckFailure, BoxError> {
    match result {
        Err(wengert::Error::GradCheck(f)) => Ok(*f),
        Err(e) => Err(e.into()),
        Ok(()) => Err("a gradient check that should fail passed".into()),
    }
}

/// Runs every check; prints each outcome when `print`.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let opts = GradCheckOptions {
        seed: args.seed,
        ..Default::default()
    };
    let x = Tensor::<f64>::randn([4, 3], 0.0, 1.0, &mut rng)?;
    let w = Tensor::<f64>::randn([3, 2], 0.0, 1.0, &mut rng)?;
    let b = Tensor::<f64>::randn([2], 0.0, 1.0, &mut rng)?;
    let inputs = [x.clone(), w, b];
    let just_x = [x.clone()];

    // 1. A function of wengert ops: the tape is right by construction, and the
    //    check says so. This is how to test a composite before trusting it.
    gradcheck_with(|v| swish_layer(&v[0], &v[1], &v[2]), &inputs, opts)?;
    // 2. A stray detach: the tape's gradient is silently wrong; the check is not.
    let detached = expect_failure(gradcheck_with(
        |v| swish_layer_detached(&v[0], &v[1], &v[2]),
        &inputs,
        opts,
    ))?;
    // 3. A user-written op with a correct backward, then two wrong ones.
    gradcheck_with(|v| softplus(&v[0], Rule::Correct), &just_x, opts)?;
    let wrong_formula = expect_failure(gradcheck_with(
        |v| softplus(&v[0], Rule::WrongFormula),
        &just_x,
        opts,
    ))?;
    let forgets_grad_out = expect_failure(gradcheck_with(
        |v| softplus(&v[0], Rule::ForgetsGradOut),
        &just_x,
        opts,
    ))?;
    // The check a hurried author writes: differentiate the plain sum. Every
    // grad_out is 1 there, so the missing factor goes unnoticed.
    let leaf = x.detach().requires_grad();
    let g = softplus(&leaf, Rule::ForgetsGradOut).sum().backward()?;
    let sum_check_error = g
        .get(&leaf)
        .expect("the sum depends on x")
        .as_slice()
        .iter()
        .zip(x.sigmoid().as_slice())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);

    if print {
        println!("swish(x W + b), built from wengert ops:      gradcheck passes");
        println!("the same with σ(z) detached:                 gradcheck fails:\n  {detached}");
        println!("\nmy_softplus, grad_x = grad_out * σ(x):       gradcheck passes");
        println!(
            "my_softplus, grad_x = grad_out * e^x:         gradcheck fails:\n  {wrong_formula}"
        );
        println!(
            "my_softplus, grad_x = σ(x) (no grad_out):     gradcheck fails:\n  {forgets_grad_out}"
        );
        println!(
            "  ...yet d/dx Σ softplus(x) from that rule matches σ(x) to {sum_check_error:.1e}:\n  \
             a plain sum sets every grad_out to 1 and hides the bug; a random cotangent does not."
        );
        let f = &wrong_formula;
        println!("\nthe report is a struct, for tests to inspect:");
        println!(
            "  input {}, shape {}, element {:?} at {:?}, analytic {:.6}, numeric {:.6}, atol {:e}, rtol {:e}",
            f.input, f.shape, f.index, f.position, f.analytic, f.numeric, f.atol, f.rtol
        );
    }
    Ok(Report {
        detached,
        wrong_formula,
        forgets_grad_out,
        sum_check_error,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("3. gradient checking your own function");
    let report = run(&args, true)?;
    assert!(report.sum_check_error < 1e-12);
    Ok(())
}
