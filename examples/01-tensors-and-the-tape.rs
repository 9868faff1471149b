//! # 1. Tensors and the tape
//!
//! What it teaches: how wengert records a computation on a Wengert tape (printed
//! with `tape_dump`) and replays it backward, checked against derivatives worked
//! out by hand; then the same machinery fitting a straight line by gradient
//! descent (the update rule `θ ← θ - η ∇L(θ)` of the lecture "Treinando redes
//! neurais"), with the loss plotted.
//!
//! Run it with `cargo run --release --example 01-tensors-and-the-tape` (flags:
//! `--epochs N` for the number of descent steps, `--quick`, `--out DIR`).

#[allow(dead_code)]
pub mod common;

use common::{Args, BoxError, Series};
use wengert::{Tensor, gradcheck, watch_values};

/// The first operand of `f`.
pub const X: [f64; 3] = [0.5, 1.0, 2.0];
/// The second operand of `f`.
pub const Y: [f64; 3] = [2.0, 4.0, 8.0];
/// The slope and intercept the line's data were made with.
pub const TRUE_LINE: (f32, f32) = (3.0, -1.0);

/// `f(x, y) = Σ (x · y + exp(x)) / y`, element-wise over two vectors.
fn f(x: &Tensor<f64>, y: &Tensor<f64>) -> Tensor<f64> {
    (&(x * y) + &x.exp()) / y
}

/// `(∂f/∂xᵢ, ∂f/∂yᵢ)` by hand: `1 + eˣ/y` and `-eˣ/y²`.
pub fn hand_grads(x: f64, y: f64) -> (f64, f64) {
    (1.0 + x.exp() / y, -x.exp() / (y * y))
}

/// What the example found.
pub struct Report {
    /// `f(X, Y)`.
    pub value: f64,
    /// The tape behind `f`, as `tape_dump` prints it.
    pub dump: String,
    /// `∂f/∂x` from the tape, one per element.
    pub grad_x: Vec<f64>,
    /// `∂f/∂y` from the tape, one per element.
    pub grad_y: Vec<f64>,
    /// The fitted slope and intercept.
    pub line: (f32, f32),
    /// The mean squared error before each descent step.
    pub losses: Vec<f64>,
}

/// Runs the example: one expression recorded, dumped and differentiated, then
/// a line fitted by gradient descent.
pub fn run(args: &Args, print: bool) -> Result<Report, BoxError> {
    // --- Recording and replaying one expression --------------------------------
    let x = Tensor::from_vec(X.to_vec(), [3])?.requires_grad();
    let y = Tensor::from_vec(Y.to_vec(), [3])?.requires_grad();
    // Recorded while the tape watches its values, so that the dump can show
    // each value some tensor still holds (watching costs a little per op; it
    // is off by default).
    let out = watch_values(|| f(&x, &y).sum());
    // The Wengert list behind f: one entry per recorded op, in the order it ran,
    // each naming the entries it read. Backward replays it from the bottom up.
    let dump = out.tape_dump();
    let grads = out.backward()?;
    let grad_x = grads.get(&x).expect("f depends on x").to_vec();
    let grad_y = grads.get(&y).expect("f depends on y").to_vec();
    if print {
        println!("f(x, y) = {:.6}", out.item());
        println!(
            "\nthe tape (entry, op(inputs), shape, value; freed: not saved for backward):\n{}",
            dump.trim_end()
        );
        println!(
            "\n{:>6} {:>14} {:>14} {:>14} {:>14}",
            "i", "df/dx tape", "df/dx hand", "df/dy tape", "df/dy hand"
        );
        for i in 0..3 {
            let (hand_x, hand_y) = hand_grads(X[i], Y[i]);
            println!(
                "{i:>6} {:>14.10} {hand_x:>14.10} {:>14.10} {hand_y:>14.10}",
                grad_x[i], grad_y[i],
            );
        }
    }

    // The same gradients against central finite differences, with a random
    // cotangent; an error names the input and element that disagree.
    gradcheck(|v| f(&v[0], &v[1]), &[x.detach(), y.detach()])?;
    if print {
        println!("\ngradcheck: the tape agrees with finite differences");
    }

    // --- Gradient descent on a line --------------------------------------------
    // Data: y = 3x - 1 plus a little deterministic wiggle; fit w and b by
    // minimising the mean squared error L = mean((w x + b - y)²).
    let (true_w, true_b) = TRUE_LINE;
    let xs = Tensor::<f32>::linspace(-1.0, 1.0, 64)?;
    let ys = xs.map(|v| true_w * v + true_b + 0.05 * (17.0 * v).sin());
    let mut w = Tensor::scalar(0.0f32).requires_grad();
    let mut b = Tensor::scalar(0.0f32).requires_grad();
    let lr = 0.5;
    let steps = args.epochs.unwrap_or(60);
    let mut losses = Vec::with_capacity(steps + 1);
    let bar = common::progress(steps as u64 + 1, args, "fitting");
    if print {
        println!("\nstep       loss        w        b");
    }
    for step in 0..=steps {
        let err = &(&(&xs * &w) + &b) - &ys;
        let loss = (&err * &err).sum().div_scalar(xs.numel() as f32);
        let g = loss.backward()?;
        losses.push(f64::from(loss.item()));
        if print && step % 10 == 0 {
            bar.suspend(|| {
                println!(
                    "{step:>4} {:>10.6} {:>8.4} {:>8.4}",
                    loss.item(),
                    w.item(),
                    b.item()
                )
            });
        }
        // θ ← θ - η ∇L(θ); `with_data` keeps the leaf's identity.
        let update = |p: &Tensor<f32>| -> Result<Tensor<f32>, wengert::Error> {
            let gp = g
                .get(p)
                .expect("the loss depends on every parameter")
                .item();
            p.with_data(vec![p.item() - lr * gp])
        };
        (w, b) = (update(&w)?, update(&b)?);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let line = (w.item(), b.item());
    if print {
        println!(
            "\nfitted w = {:.3}, b = {:.3} (the data were made with w = {true_w}, b = {true_b})",
            line.0, line.1
        );
        let path = common::plot_lines(
            &args.out,
            "01-line-fit-loss.svg",
            "fitting y = 3x - 1 by gradient descent, learning rate 0.5",
            ("step", "mean squared error"),
            &[Series::indexed("L(w, b)", &losses)],
            true,
            common::Legend::UpperRight,
        )?;
        println!("loss curve: {}", path.display());
    }
    Ok(Report {
        value: out.item(),
        dump,
        grad_x,
        grad_y,
        line,
        losses,
    })
}

#[allow(dead_code)]
fn main() -> Result<(), BoxError> {
    let args = Args::parse("1. tensors and the tape");
    let report = run(&args, true)?;
    for i in 0..3 {
        let (hand_x, hand_y) = hand_grads(X[i], Y[i]);
        assert!(
            (report.grad_x[i] - hand_x).abs() < 1e-12 && (report.grad_y[i] - hand_y).abs() < 1e-12,
            "the tape's gradients differ from the hand-derived ones at element {i}"
        );
    }
    let (w, b) = report.line;
    assert!((w - TRUE_LINE.0).abs() < 0.05 && (b - TRUE_LINE.1).abs() < 0.05);
    Ok(())
}
