//! The checkpoint and optimizer-state loaders on arbitrary bytes, and on a
//! valid checkpoint with the input XOR-ed into it: `Ok` only with the original
//! values, a named error otherwise, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rand::SeedableRng;
use wengert::nn::checkpoint::{load_module_from_bytes, module_to_bytes, optimizer_state_from_bytes};
use wengert::nn::{Linear, Module};

/// The source model's parameter bits and its checkpoint, made once.
fn source() -> &'static (Vec<u32>, Vec<u8>) {
    static SOURCE: OnceLock<(Vec<u32>, Vec<u8>)> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let m = Linear::<f32>::new(3, 2, true, &mut rng).unwrap();
        (bits(&m), module_to_bytes(&m).unwrap())
    })
}

fn bits(m: &Linear<f32>) -> Vec<u32> {
    m.named_parameters().iter().flat_map(|(_, t)| t.as_slice().iter().map(|v| v.to_bits())).collect()
}

fuzz_target!(|data: &[u8]| {
    let (source_bits, valid) = source();
    let mut model = Linear::<f32>::from_tensors(
        wengert::Tensor::zeros([2, 3]).requires_grad(),
        Some(wengert::Tensor::zeros([2]).requires_grad()),
    )
    .unwrap();
    let _ = load_module_from_bytes(&mut model, data);
    let _ = optimizer_state_from_bytes::<f32>(data);
    // Damage a valid file with the input; a load that succeeds must give the
    // original values bit for bit.
    let mut damaged = valid.clone();
    for (k, b) in data.iter().enumerate() {
        let i = k % damaged.len();
        damaged[i] ^= b;
    }
    if data.len() > 1 && data[0] < 16 {
        damaged.truncate(damaged.len() * data[1] as usize / 256);
    }
    if load_module_from_bytes(&mut model, &damaged).is_ok() {
        assert_eq!(&bits(&model), source_bits, "a damaged checkpoint loaded changed values");
    }
});
