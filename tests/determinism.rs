//! One seed drives initialisation, dropout masks and shuffling: two runs of
//! the same training with the same seed (and the same thread count) give
//! bit-identical parameters, also with a convolution large enough to be split
//! over both cores.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert::data::{Dataset, synthetic};
use wengert::nn::loss::cross_entropy;
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{
    Conv2d, Dropout, Flatten, Linear, MaxPool2d, Module, Reduction, Relu, Sequential,
};
use wengert::{Conv2dParams, Tensor};

/// The bits of every named parameter, in visiting order.
fn bits(model: &dyn Module<f32>) -> Vec<(String, Vec<u32>)> {
    model
        .named_parameters()
        .into_iter()
        .map(|(name, t)| (name, t.as_slice().iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// Trains an MLP with dropout on two moons for a few epochs from `seed` alone.
fn train_mlp(seed: u64) -> Vec<(String, Vec<u32>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = synthetic::two_moons(64, 0.1, &mut rng).unwrap();
    let mut model = Sequential::new()
        .add(Linear::new(2, 32, true, &mut rng).unwrap())
        .add(Relu)
        .add(Dropout::new(0.3, rng.random()).unwrap())
        .add(Linear::new(32, 2, true, &mut rng).unwrap());
    let mut opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    })
    .unwrap();
    for _ in 0..3 {
        for batch in data.batches(16).unwrap().shuffle(&mut rng) {
            let logits = model.forward(&batch.inputs);
            let loss = cross_entropy(&logits, batch.labels().unwrap(), Reduction::Mean).unwrap();
            let grads = loss.backward().unwrap();
            opt.step(&mut model, &grads).unwrap();
        }
    }
    bits(&model)
}

/// Trains a small CNN whose convolution work is large enough to be threaded.
fn train_cnn(seed: u64) -> Vec<(String, Vec<u32>)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let images = Tensor::<f32>::rand_uniform([16, 16, 16, 16], 0.0, 1.0, &mut rng).unwrap();
    let labels: Vec<usize> = (0..16).map(|_| rng.random_range(0..3)).collect();
    let data = Dataset::classification(images, labels).unwrap();
    let pad = Conv2dParams {
        padding: [1, 1],
        ..Conv2dParams::default()
    };
    let mut model = Sequential::new()
        .add(Conv2d::new(16, 16, [3, 3], pad, true, &mut rng).unwrap())
        .add(Relu)
        .add(MaxPool2d::new([4, 4]).unwrap())
        .add(Flatten)
        .add(Linear::new(16 * 4 * 4, 3, true, &mut rng).unwrap());
    let mut opt = Adam::new(AdamConfig::default()).unwrap();
    for batch in data.batches(8).unwrap().shuffle(&mut rng) {
        let loss = cross_entropy(
            &model.forward(&batch.inputs),
            batch.labels().unwrap(),
            Reduction::Mean,
        )
        .unwrap();
        let grads = loss.backward().unwrap();
        opt.step(&mut model, &grads).unwrap();
    }
    bits(&model)
}

#[test]
fn same_seed_gives_bit_identical_parameters() {
    let (a, b) = (train_mlp(7), train_mlp(7));
    assert_eq!(a, b);
    // And the seed matters: another seed trains to other parameters.
    assert_ne!(a, train_mlp(8));
}

#[test]
fn same_seed_gives_bit_identical_parameters_with_threaded_convolution() {
    // The convolution's GEMM (8 images of [16 × 144] · [144 × 256] per batch)
    // is split over the cores when there are several.
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    assert_eq!(
        wengert::kernels::par::threads_for(8, 16 * 144 * 256) > 1,
        cores > 1
    );
    let (a, b) = (train_cnn(3), train_cnn(3));
    assert_eq!(a, b);
    assert_ne!(a, train_cnn(4));
}
