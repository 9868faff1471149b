//! # 15. Second derivatives: Newton's method with Hessian-vector products
//!
//! What it teaches: wengert's backward pass can itself be recorded
//! (`create_graph`) and differentiated again. A Hessian-vector product `H v`
//! costs two backward passes and never forms `H`; conjugate gradient uses such
//! products to solve the Newton system `H p = -∇f`. On the Rosenbrock function
//! `f(x, y) = (1 - x)² + 100 (y - x²)²`, whose curved valley makes plain gradient
//! descent crawl, Newton-CG reaches the minimum (1, 1) in a few dozen steps.
//! (This goes beyond the lecture notes, which stop at first-order methods:
//! momentum, RMSProp and Adam approximate curvature from gradients alone.)
//!
//! Run it with `cargo run --release --example 15-newton-with-hessian-vector-products`.

use wengert::{Tensor, grad, hvp};

fn rosenbrock(p: &Tensor<f64>) -> Tensor<f64> {
    let x = p.narrow(0, 0, 1);
    let y = p.narrow(0, 1, 1);
    let a = (1.0 - &x).square();
    let b = (&y - &x.square()).square().mul_scalar(100.0);
    (&a + &b).sum()
}

fn value_and_grad(p: &Tensor<f64>) -> Result<(f64, Tensor<f64>), wengert::Error> {
    let leaf = p.detach().requires_grad();
    let f = rosenbrock(&leaf);
    let g = grad(&[&f], &[&leaf], None, false)?
        .remove(0)
        .expect("f depends on p");
    Ok((f.item(), g))
}

fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    (a * b).sum().item()
}

/// Solves H p = -g approximately by conjugate gradient, using only products H v.
fn newton_direction(p: &Tensor<f64>, g: &Tensor<f64>) -> Result<Tensor<f64>, wengert::Error> {
    let mut x = g.zeros_like();
    let mut r = g.neg(); // r = b - H x with b = -g, x = 0
    let mut d = r.clone();
    for _ in 0..10 {
        let (_, hd) = hvp(rosenbrock, p, &d)?;
        let curvature = dot(&d, &hd);
        if curvature <= 1e-12 {
            // Not positive definite along d: fall back to what we have (or -g).
            return Ok(if dot(&x, &x) > 0.0 { x } else { g.neg() });
        }
        let alpha = dot(&r, &r) / curvature;
        x = &x + &d.mul_scalar(alpha);
        let r_next = &r - &hd.mul_scalar(alpha);
        if dot(&r_next, &r_next).sqrt() < 1e-10 {
            return Ok(x);
        }
        let beta = dot(&r_next, &r_next) / dot(&r, &r);
        d = &r_next + &d.mul_scalar(beta);
        r = r_next;
    }
    Ok(x)
}

fn main() -> Result<(), wengert::Error> {
    let start = Tensor::from_vec(vec![-1.2f64, 1.0], [2])?;

    // The second derivative at the start, two ways: H e₁ by hvp, and by hand
    // (∂²f/∂x² = 2 - 400 (y - 3x²), ∂²f/∂x∂y = -400 x).
    let e1 = Tensor::from_vec(vec![1.0, 0.0], [2])?;
    let (_, h_e1) = hvp(rosenbrock, &start, &e1)?;
    let (x, y) = (-1.2f64, 1.0f64);
    println!("H e1 by two backward passes: {:?}", h_e1.to_vec());
    println!(
        "H e1 by hand:                [{}, {}]",
        2.0 - 400.0 * (y - 3.0 * x * x),
        -400.0 * x
    );

    println!(
        "\n{:>5} | {:>12} {:>10} | {:>12} {:>10}",
        "iter", "GD f", "GD |g|", "Newton f", "Newton |g|"
    );
    let mut gd = start.clone();
    let mut nt = start.clone();
    let lr = 1.0e-3;
    for it in 0..=40 {
        let (f_gd, g_gd) = value_and_grad(&gd)?;
        let (f_nt, g_nt) = value_and_grad(&nt)?;
        if it % 5 == 0 {
            println!(
                "{it:>5} | {f_gd:>12.6} {:>10.2e} | {f_nt:>12.3e} {:>10.2e}",
                dot(&g_gd, &g_gd).sqrt(),
                dot(&g_nt, &g_nt).sqrt()
            );
        }
        // Gradient descent: 100 small steps per row of the table, so that GD gets
        // far more gradient evaluations than Newton.
        for _ in 0..100 {
            let (_, g) = value_and_grad(&gd)?;
            gd = &gd - &g.mul_scalar(lr);
        }
        // Newton-CG with a backtracking line search on the step length.
        if dot(&g_nt, &g_nt).sqrt() > 1e-12 {
            let dir = newton_direction(&nt, &g_nt)?;
            let mut t = 1.0;
            while t > 1e-8 {
                let cand = &nt + &dir.mul_scalar(t);
                if value_and_grad(&cand)?.0 <= f_nt + 1e-4 * t * dot(&g_nt, &dir) {
                    nt = cand;
                    break;
                }
                t *= 0.5;
            }
        }
    }
    let (f_gd, _) = value_and_grad(&gd)?;
    let (f_nt, _) = value_and_grad(&nt)?;
    println!(
        "\nafter 4,000 gradient steps, GD is at {:?} with f = {f_gd:.3e}",
        gd.to_vec()
    );
    println!(
        "after 40 Newton-CG steps, Newton is at {:?} with f = {f_nt:.3e}",
        nt.to_vec()
    );
    assert!(
        f_nt < 1e-12 && f_nt < f_gd,
        "Newton-CG should reach the minimum"
    );
    Ok(())
}
