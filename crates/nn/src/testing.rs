//! Test helpers: gradient-checking a module over its input and its parameters.

use wengert_core::{Tensor, gradcheck};

use crate::Module;

/// Gradient-checks `module` in f64 over its input `x` and every parameter (each
/// as a fresh leaf), through [`Module::set_parameters`]. Also requires that
/// every parameter actually reaches the output (a gradient check over an input
/// the output ignores would pass vacuously).
#[track_caller]
pub(crate) fn check_module<M: Module<f64> + Clone>(module: M, x: &Tensor<f64>) {
    let mut inputs = vec![x.detach()];
    inputs.extend(
        module
            .named_parameters()
            .into_iter()
            .map(|(_, t)| t.detach()),
    );
    let build = |xs: &[Tensor<f64>]| {
        let mut m = module.clone();
        m.set_parameters(&xs[1..]).unwrap();
        m
    };
    let leaves: Vec<Tensor<f64>> = inputs.iter().map(|t| t.detach().requires_grad()).collect();
    let y = build(&leaves).forward(&leaves[0]);
    if y.numel() > 0 && y.is_tracked() {
        let grads = y.sum().backward().unwrap();
        for ((name, _), leaf) in module.named_parameters().iter().zip(&leaves[1..]) {
            assert!(
                grads.get(leaf).is_some(),
                "parameter {name} does not reach the output"
            );
        }
    }
    if let Err(e) = gradcheck(|xs| build(xs).forward(&xs[0]), &inputs) {
        panic!("{e}");
    }
}

/// A standard-normal f64 tensor of `shape` from a seed.
pub(crate) fn randn(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::randn(
        shape,
        0.0,
        1.0,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed),
    )
    .unwrap()
}

pub(crate) fn with_random_affine<M: Module<f64>>(mut m: M, seed: u64) -> M {
    let vals: Vec<Tensor<f64>> = m
        .named_parameters()
        .iter()
        .enumerate()
        .map(|(i, (_, p))| randn(p.dims(), seed + i as u64))
        .collect();
    m.set_parameters(&vals).unwrap();
    m
}
