//! Test helpers: gradient-checking a module over its input and its parameters.

use wengert_core::{Tensor, gradcheck};

use crate::Module;

/// Gradient-checks `module` in f64 over its input `x` and every parameter (each
/// as a fresh leaf), through [`Module::set_parameters`].
#[track_caller]
pub(crate) fn check_module<M: Module<f64> + Clone>(module: M, x: &Tensor<f64>) {
    let mut inputs = vec![x.detach()];
    inputs.extend(
        module
            .named_parameters()
            .into_iter()
            .map(|(_, t)| t.detach()),
    );
    let f = |xs: &[Tensor<f64>]| {
        let mut m = module.clone();
        m.set_parameters(&xs[1..]).unwrap();
        m.forward(&xs[0])
    };
    if let Err(e) = gradcheck(f, &inputs) {
        panic!("{e}");
    }
}
