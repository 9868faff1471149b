//! The README's example, verbatim, so that it cannot rot.

use wengert::Tensor;

#[test]
fn readme_example_runs() -> Result<(), wengert::Error> {
    // f(w) = Σ tanh(x · w); df/dw by replaying the tape backward.
    let x = Tensor::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], [2, 2])?;
    let w = Tensor::from_vec(vec![0.5, -0.5], [2, 1])?.requires_grad();
    let f = x.matmul(&w).tanh().sum();
    let grads = f.backward()?;
    println!("df/dw = {:?}", grads.get(&w).unwrap().to_vec());

    // The same gradient, checked against central finite differences.
    wengert::gradcheck(|v| v[0].matmul(&v[1]).tanh(), &[x, w.detach()])?;

    // Hand-derived: x·w = [-0.5, -0.5], so df/dw_j = Σ_i (1 - tanh²(-0.5)) x_ij.
    let s = 1.0 - 0.5f64.tanh().powi(2);
    let gw = grads.get(&w).unwrap().to_vec();
    assert!((gw[0] - 4.0 * s).abs() < 1e-12 && (gw[1] - 6.0 * s).abs() < 1e-12);
    Ok(())
}
