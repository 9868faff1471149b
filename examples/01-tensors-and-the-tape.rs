//! # 1. Tensors and the tape
//!
//! What it teaches: how wengert records a computation on a Wengert tape (printed
//! with `tape_dump`) and replays it backward, checked against derivatives worked out by hand; then
//! the same machinery fitting a straight line by gradient descent (the update
//! rule `θ ← θ - η ∇L(θ)` of the lecture "Treinando redes neurais").
//!
//! Run it with `cargo run --release --example 01-tensors-and-the-tape`.

use wengert::{Tensor, gradcheck};

fn main() -> Result<(), wengert::Error> {
    // --- Recording and replaying one expression --------------------------------
    // f(x, y) = Σ (x · y + exp(x)) / y, element-wise over two vectors.
    let x = Tensor::from_vec(vec![0.5f64, 1.0, 2.0], [3])?.requires_grad();
    let y = Tensor::from_vec(vec![2.0f64, 4.0, 8.0], [3])?.requires_grad();
    let f = ((&(&x * &y) + &x.exp()) / &y).sum();
    println!("f(x, y) = {:.6}", f.item());

    // The Wengert list behind f: one entry per recorded op, in the order it ran,
    // each naming the entries it read. Backward replays it from the bottom up.
    let dump = f.tape_dump();
    println!(
        "\nthe tape (entry, op(inputs), shape, value; freed: not saved for backward):\n{}",
        dump.trim_end()
    );
    assert!(dump.contains("mul(#0, #1)") && dump.lines().last().unwrap().contains("sum("));

    let grads = f.backward()?;
    let (gx, gy) = (grads.get(&x).unwrap(), grads.get(&y).unwrap());
    // By hand: ∂f/∂x = 1 + exp(x)/y and ∂f/∂y = -exp(x)/y².
    println!(
        "\n{:>6} {:>14} {:>14} {:>14} {:>14}",
        "i", "df/dx tape", "df/dx hand", "df/dy tape", "df/dy hand"
    );
    for i in 0..3 {
        let (xi, yi) = (x.as_slice()[i], y.as_slice()[i]);
        let hand_x = 1.0 + xi.exp() / yi;
        let hand_y = -xi.exp() / (yi * yi);
        println!(
            "{i:>6} {:>14.10} {:>14.10} {:>14.10} {:>14.10}",
            gx.as_slice()[i],
            hand_x,
            gy.as_slice()[i],
            hand_y
        );
        assert!(
            (gx.as_slice()[i] - hand_x).abs() < 1e-12 && (gy.as_slice()[i] - hand_y).abs() < 1e-12
        );
    }

    // The same gradients against central finite differences, with a random cotangent.
    gradcheck(
        |v| (&(&v[0] * &v[1]) + &v[0].exp()) / &v[1],
        &[x.detach(), y.detach()],
    )?;
    println!("\ngradcheck: the tape agrees with finite differences");

    // --- Gradient descent on a line --------------------------------------------
    // Data: y = 3x - 1 plus a little deterministic wiggle; fit w and b by minimising
    // the mean squared error L = mean((w x + b - y)²).
    let xs = Tensor::<f32>::linspace(-1.0, 1.0, 64)?;
    let ys = xs.map(|v| 3.0 * v - 1.0 + 0.05 * (17.0 * v).sin());
    let mut w = Tensor::scalar(0.0f32).requires_grad();
    let mut b = Tensor::scalar(0.0f32).requires_grad();
    let lr = 0.5;
    println!("\nstep       loss        w        b");
    for step in 0..=60 {
        let err = &(&(&xs * &w) + &b) - &ys;
        let loss = (&err * &err).sum().div_scalar(xs.numel() as f32);
        let g = loss.backward()?;
        if step % 10 == 0 {
            println!(
                "{step:>4} {:>10.6} {:>8.4} {:>8.4}",
                loss.item(),
                w.item(),
                b.item()
            );
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
    }
    assert!((w.item() - 3.0).abs() < 0.05 && (b.item() + 1.0).abs() < 0.05);
    println!(
        "\nfitted w = {:.3}, b = {:.3} (the data were made with w = 3, b = -1)",
        w.item(),
        b.item()
    );
    Ok(())
}
