use rand::SeedableRng;
use wengert_core::{Float, Tensor};

use super::*;
use crate::module::Module;
use crate::optim::{Adam, AdamConfig, Optimizer};
use crate::{Linear, Reduction, Sequential, Tanh, loss};

/// A module holding arbitrary named parameters and buffers.
struct Bag<T: Float> {
    params: Vec<(String, Tensor<T>)>,
    buffers: Vec<(String, Tensor<T>)>,
}

impl<T: Float> Module<T> for Bag<T> {
    fn try_forward(&self, x: &Tensor<T>) -> crate::Result<Tensor<T>> {
        Ok(x.clone())
    }
    fn visit_parameters(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        self.params.iter().for_each(|(n, t)| f(n, t));
    }
    fn visit_parameters_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        self.params.iter_mut().for_each(|(n, t)| f(n, t));
    }
    fn visit_buffers(&self, f: &mut dyn FnMut(&str, &Tensor<T>)) {
        self.buffers.iter().for_each(|(n, t)| f(n, t));
    }
    fn visit_buffers_mut(&mut self, f: &mut dyn FnMut(&str, &mut Tensor<T>)) {
        self.buffers.iter_mut().for_each(|(n, t)| f(n, t));
    }
}

fn t<T: Float>(v: Vec<T>, dims: &[usize]) -> Tensor<T> {
    Tensor::from_vec(v, dims).unwrap()
}

/// The bits of every parameter and buffer, by name, in visiting order.
fn bits<T: Float>(m: &dyn Module<T>) -> Vec<(String, Vec<usize>, Vec<u64>)> {
    module_tensors(m)
        .into_iter()
        .map(|(n, t)| {
            let b = t.as_slice().iter().map(|v| v.to_bits_u64()).collect();
            (n, t.dims().to_vec(), b)
        })
        .collect()
}

/// A module of the given layout with every value set to `fill`.
fn same_layout<T: Float>(m: &Bag<T>, fill: f64) -> Bag<T> {
    let like = |v: &[(String, Tensor<T>)]| {
        v.iter()
            .map(|(n, t)| (n.clone(), Tensor::full(t.dims(), T::from_f64(fill))))
            .collect()
    };
    Bag {
        params: like(&m.params),
        buffers: like(&m.buffers),
    }
}

fn special_f32() -> Bag<f32> {
    let nan_payload = f32::from_bits(0x7fa0_1234); // signalling, with payload
    let neg_nan = f32::from_bits(0xffc0_0001);
    let values = vec![
        0.0,
        -0.0,
        f32::from_bits(1),            // smallest subnormal
        -f32::from_bits(0x007f_ffff), // largest subnormal, negative
        nan_payload,
        neg_nan,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        1.0 / 3.0,
        f32::MAX,
        -1.5,
    ];
    Bag {
        params: vec![
            ("layer.weight".into(), t(values, &[3, 4]).requires_grad()),
            (
                "layer.bias".into(),
                t(vec![f32::from_bits(0x7f80_0001)], &[1]),
            ),
            ("scalar".into(), t(vec![-0.0], &[])),
            ("empty".into(), t(vec![], &[0, 2])),
        ],
        buffers: vec![("running_var".into(), t(vec![f32::from_bits(3), -0.0], &[2]))],
    }
}

fn special_f64() -> Bag<f64> {
    let values = vec![
        -0.0,
        f64::from_bits(1),
        f64::from_bits(0x7ff4_0000_dead_beef), // signalling NaN with payload
        f64::from_bits(0xfff8_0000_0000_0042),
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE / 3.0,
    ];
    Bag {
        params: vec![("w".into(), t(values, &[2, 3]).requires_grad())],
        buffers: vec![("b".into(), t(vec![0.0, -0.0, f64::from_bits(2)], &[3]))],
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn save_and_load_restore_every_bit_in_f32_and_f64() {
    let dir = tmp();
    let a = special_f32();
    let path = dir.path().join("a.safetensors");
    save_module(&a, &path).unwrap();
    let mut b = same_layout(&a, 7.0);
    load_module(&mut b, &path).unwrap();
    assert_eq!(bits(&b), bits(&a));

    let a = special_f64();
    save_module(&a, &path).unwrap();
    let mut b = same_layout(&a, 7.0);
    load_module(&mut b, &path).unwrap();
    assert_eq!(bits(&b), bits(&a));
}

#[test]
fn loading_keeps_leaf_identity_and_frozen_state() {
    let a = special_f64();
    let bytes = module_to_bytes(&a).unwrap();
    let mut b = same_layout(&a, 1.0);
    b.params[0].1 = b.params[0].1.clone().requires_grad();
    let id = b.params[0].1.leaf_id();
    b.buffers[0].1 = Tensor::zeros([3]);
    load_module_from_bytes(&mut b, &bytes).unwrap();
    assert!(id.is_some());
    assert_eq!(b.params[0].1.leaf_id(), id);
    let mut c = same_layout(&a, 1.0); // frozen: plain constants
    load_module_from_bytes(&mut c, &bytes).unwrap();
    assert!(!c.params[0].1.is_leaf());
    assert_eq!(bits(&c), bits(&a));
}

#[test]
fn header_is_standard_safetensors() {
    let a = Bag::<f32> {
        params: vec![("w".into(), t(vec![1.0, 2.0], &[2, 1]))],
        buffers: vec![],
    };
    let bytes = module_to_bytes(&a).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0);
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    assert!(header.contains(r#""w":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}"#));
    assert!(header.contains(r#""format":"pt""#));
    assert!(header.contains(r#""wengert.kind":"module""#));
    assert!(header.contains(r#""wengert.crc32":""#));
    // Row-major little-endian data right after the header.
    assert_eq!(
        &bytes[8 + n..],
        &[1.0f32.to_le_bytes(), 2.0f32.to_le_bytes()].concat()
    );
    // The crate's own reader accepts it.
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.tensor("w").unwrap().shape(), &[2, 1]);
}

/// Cuts `bytes` at every offset and flips each bit in turn: every variant
/// either loads exactly `original` or is rejected, leaving the module as it was.
fn assert_damage_never_changes_values<T: Float>(original: &Bag<T>) -> (usize, usize) {
    let bytes = module_to_bytes(original).unwrap();
    let want = bits(original);
    let mut rejected = 0;
    let mut exact = 0;
    let mut check = |variant: &[u8], what: &str| {
        let mut m = same_layout(original, 7.0);
        let before = bits(&m);
        match load_module_from_bytes(&mut m, variant) {
            Ok(()) => {
                assert_eq!(bits(&m), want, "{what} loaded changed values");
                exact += 1;
            }
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        Error::Checkpoint { .. } | Error::CheckpointMismatch { .. }
                    ),
                    "{what}: {e}"
                );
                assert_eq!(
                    bits(&m),
                    before,
                    "{what} was rejected but changed the module"
                );
                rejected += 1;
            }
        }
    };
    for cut in 0..bytes.len() {
        check(&bytes[..cut], &format!("cut at {cut}"));
    }
    let mut v = bytes.clone();
    for i in 0..bytes.len() * 8 {
        v[i / 8] ^= 1 << (i % 8);
        check(&v, &format!("bit {} of byte {}", i % 8, i / 8));
        v[i / 8] ^= 1 << (i % 8);
    }
    assert_eq!(rejected + exact, bytes.len() * 9);
    (rejected, exact)
}

#[test]
fn every_cut_and_bit_flip_loads_the_original_or_is_rejected() {
    let small32 = Bag::<f32> {
        params: vec![("w".into(), t(vec![f32::from_bits(0x7fa0_0001), -0.0], &[2]))],
        buffers: vec![("r".into(), t(vec![f32::from_bits(5)], &[1]))],
    };
    let (rejected, _) = assert_damage_never_changes_values(&small32);
    // Every truncation is rejected; CRC-32 catches every single-bit flip of
    // what it covers, and the rest breaks the JSON or the layout.
    let len = module_to_bytes(&small32).unwrap().len();
    assert_eq!(rejected, len * 9);
    let small64 = Bag::<f64> {
        params: vec![(
            "w".into(),
            t(vec![f64::from_bits(0x7ff0_0000_0000_0001)], &[1]),
        )],
        buffers: vec![],
    };
    assert_damage_never_changes_values(&small64);
}

#[test]
fn every_cut_and_bit_flip_of_optimizer_state_is_rejected_or_exact() {
    let state = OptimizerState {
        tensors: vec![("w.exp_avg".to_string(), t(vec![-0.0f32, 1.5], &[2]))],
        steps: vec![("w".to_string(), 12)],
    };
    let bytes = optimizer_state_to_bytes(&state).unwrap();
    let same = |s: &OptimizerState<f32>| {
        s.steps == state.steps
            && s.tensors.len() == 1
            && s.tensors[0].0 == "w.exp_avg"
            && s.tensors[0].1.dims() == [2]
            && s.tensors[0]
                .1
                .as_slice()
                .iter()
                .map(|v| v.to_bits())
                .eq([(-0.0f32).to_bits(), 1.5f32.to_bits()])
    };
    let check = |v: &[u8]| match optimizer_state_from_bytes::<f32>(v) {
        Ok(s) => assert!(same(&s), "damaged state loaded changed values: {s:?}"),
        Err(e) => assert!(matches!(e, Error::Checkpoint { .. }), "{e}"),
    };
    for cut in 0..bytes.len() {
        check(&bytes[..cut]);
    }
    let mut v = bytes.clone();
    for i in 0..bytes.len() * 8 {
        v[i / 8] ^= 1 << (i % 8);
        check(&v);
        v[i / 8] ^= 1 << (i % 8);
    }
    assert!(same(&optimizer_state_from_bytes(&bytes).unwrap()));
}

#[test]
fn a_checkpoint_of_another_model_is_rejected_with_every_problem() {
    let a = Bag::<f32> {
        params: vec![
            ("enc.weight".into(), Tensor::zeros([2, 3])),
            ("enc.bias".into(), Tensor::zeros([2])),
            ("old.weight".into(), Tensor::zeros([1])),
        ],
        buffers: vec![("bn.running_mean".into(), Tensor::zeros([4]))],
    };
    let mut b = Bag::<f32> {
        params: vec![
            ("enc.weight".into(), Tensor::ones([3, 2])),
            ("enc.bias".into(), Tensor::ones([2])),
            ("new.weight".into(), Tensor::ones([1])),
        ],
        buffers: vec![
            ("bn.running_mean".into(), Tensor::ones([5])),
            ("bn.running_var".into(), Tensor::ones([5])),
        ],
    };
    let before = bits(&b);
    let e = load_module_from_bytes(&mut b, &module_to_bytes(&a).unwrap()).unwrap_err();
    assert_eq!(
        e,
        Error::CheckpointMismatch {
            path: "<bytes>".into(),
            missing: vec!["bn.running_var".into(), "new.weight".into()],
            unexpected: vec!["old.weight".into()],
            mismatched: vec![
                "bn.running_mean: file F32 [4], model F32 [5]".into(),
                "enc.weight: file F32 [2, 3], model F32 [3, 2]".into(),
            ],
        }
    );
    assert_eq!(bits(&b), before);
}

#[test]
fn an_f64_checkpoint_does_not_load_into_an_f32_model() {
    let a = special_f64();
    let mut b = Bag::<f32> {
        params: vec![("w".into(), Tensor::zeros([2, 3]))],
        buffers: vec![("b".into(), Tensor::zeros([3]))],
    };
    let e = load_module_from_bytes(&mut b, &module_to_bytes(&a).unwrap()).unwrap_err();
    let Error::CheckpointMismatch { mismatched, .. } = e else {
        panic!("{e}")
    };
    assert_eq!(
        mismatched,
        [
            "b: file F64 [3], model F32 [3]",
            "w: file F64 [2, 3], model F32 [2, 3]"
        ]
    );
    let state = OptimizerState::<f64> {
        tensors: vec![("w.v".into(), Tensor::zeros([1]))],
        steps: vec![],
    };
    let e =
        optimizer_state_from_bytes::<f32>(&optimizer_state_to_bytes(&state).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "<bytes>: tensors of another dtype than F32: w.v (F64)"
    );
}

#[test]
fn model_and_optimizer_checkpoints_are_not_interchangeable() {
    let a = special_f32();
    let e = optimizer_state_from_bytes::<f32>(&module_to_bytes(&a).unwrap()).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"<bytes>: holds wengert.kind Some("module"), expected "optimizer""#
    );
    let state = OptimizerState::<f32>::default();
    let mut b = same_layout(&a, 0.0);
    let e = load_module_from_bytes(&mut b, &optimizer_state_to_bytes(&state).unwrap());
    assert!(matches!(e, Err(Error::Checkpoint { .. })));
}

#[test]
fn foreign_and_truncated_files_are_named_errors() {
    let dir = tmp();
    let path = dir.path().join("x.safetensors");
    let mut m = special_f32();
    let load = |bytes: &[u8], m: &mut Bag<f32>| {
        std::fs::write(&path, bytes).unwrap();
        load_module(m, &path).unwrap_err().to_string()
    };
    let p = path.display().to_string();
    assert_eq!(
        load(b"", &mut m),
        format!("{p}: truncated: 0 bytes, fewer than the 8-byte header length")
    );
    // A header length far beyond the file is refused before anything is read.
    let mut huge = u64::MAX.to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    assert_eq!(
        load(&huge, &mut m),
        format!(
            "{p}: header length {} exceeds the 2 bytes that follow it (truncated, or not a safetensors file)",
            u64::MAX
        )
    );
    let e = load(b"\x02\0\0\0\0\0\0\0{}", &mut m);
    assert!(e.contains("no wengert.crc32 checksum"), "{e}");
    let e = load(b"hello, this is a text file, not a checkpoint", &mut m);
    assert!(e.contains("header length"), "{e}");
    // A standard safetensors file without our checksum.
    let plain = safetensors::serialize(
        [(
            "w",
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &[0; 4])
                .unwrap(),
        )],
        None,
    )
    .unwrap();
    let e = load(&plain, &mut m);
    assert!(
        e.ends_with("no wengert.crc32 checksum in the metadata (not a wengert checkpoint)"),
        "{e}"
    );
    // A changed data byte is caught by the checksum.
    let mut bytes = module_to_bytes(&special_f32()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let e = load(&bytes, &mut m);
    assert!(e.contains("checksum mismatch: stored crc32"), "{e}");
    let e = load_module(&mut m, dir.path().join("missing.safetensors")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    assert_eq!(bits(&m), bits(&special_f32()));
}

#[test]
fn a_failing_save_leaves_the_previous_checkpoint_intact() {
    let dir = tmp();
    let path = dir.path().join("model.safetensors");
    let old = special_f32();
    save_module(&old, &path).unwrap();
    let old_bytes = std::fs::read(&path).unwrap();
    // An injected write error after half of the new data.
    let new_bytes = module_to_bytes(&same_layout(&old, 3.0)).unwrap();
    let e = atomic::write_atomic_with(&path, |f| {
        use std::io::Write;
        f.write_all(&new_bytes[..new_bytes.len() / 2])?;
        Err(std::io::Error::other("injected failure"))
    })
    .unwrap_err();
    assert!(e.to_string().ends_with(": injected failure"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), old_bytes);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["model.safetensors"]);
    // A save into a directory that does not exist fails without touching anything.
    let e = save_module(&old, dir.path().join("no/such/dir/model.safetensors")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    // A save whose rename fails (the target is a non-empty directory) too.
    let blocked = dir.path().join("blocked");
    std::fs::create_dir_all(blocked.join("inside")).unwrap();
    assert!(matches!(save_module(&old, &blocked), Err(Error::Io { .. })));
    assert!(blocked.join("inside").is_dir());
    // A successful save replaces the file.
    let new = same_layout(&old, 3.0);
    save_module(&new, &path).unwrap();
    let mut back = same_layout(&old, 0.0);
    load_module(&mut back, &path).unwrap();
    assert_eq!(bits(&back), bits(&new));
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["blocked", "model.safetensors"]);
}

#[test]
fn optimizer_state_round_trips_with_exact_step_counts() {
    let dir = tmp();
    let path = dir.path().join("opt.safetensors");
    let state = OptimizerState {
        tensors: vec![
            (
                "a.exp_avg".to_string(),
                t(vec![f64::from_bits(0x7ff0_0000_0000_0003), -0.0], &[2]),
            ),
            (
                "a.exp_avg_sq".to_string(),
                t(vec![f64::from_bits(1), 0.0], &[2]),
            ),
        ],
        steps: vec![
            ("a".to_string(), (1 << 53) + 1),
            ("b".to_string(), u64::MAX),
        ],
    };
    save_optimizer_state(&state, &path).unwrap();
    let back = load_optimizer_state::<f64>(&path).unwrap();
    assert_eq!(back.steps, state.steps);
    assert_eq!(back.tensors.len(), 2);
    for ((n1, t1), (n2, t2)) in back.tensors.iter().zip(&state.tensors) {
        assert_eq!(n1, n2);
        assert_eq!(t1.dims(), t2.dims());
        let b1: Vec<u64> = t1.as_slice().iter().map(|v| v.to_bits()).collect();
        let b2: Vec<u64> = t2.as_slice().iter().map(|v| v.to_bits()).collect();
        assert_eq!(b1, b2, "{n1}");
    }
}

fn mlp<T: Float>(seed: u64) -> Sequential<T> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Sequential::new()
        .add(Linear::<T>::new(3, 8, true, &mut rng).unwrap())
        .add(Tanh)
        .add(Linear::new(8, 2, true, &mut rng).unwrap())
}

fn train<T: Float>(model: &mut Sequential<T>, opt: &mut Adam<T>, steps: std::ops::Range<u64>) {
    for s in steps {
        let mut rng = rand::rngs::StdRng::seed_from_u64(100 + s);
        let x = Tensor::<T>::randn([6, 3], T::ZERO, T::ONE, &mut rng).unwrap();
        let y = x.sum_axes(&[1], true).tanh();
        let y = Tensor::concat(&[&y, &y.neg()], 1);
        let l = loss::mse_loss(&model.forward(&x), &y, Reduction::Mean).unwrap();
        opt.step(model, &l.backward().unwrap()).unwrap();
    }
}

fn interrupted_run_resumed_from_disk_matches_an_uninterrupted_one<T: Float>() {
    let config = AdamConfig {
        lr: 0.01,
        ..Default::default()
    };
    let mut straight = mlp::<T>(1);
    let mut opt = Adam::new(config).unwrap();
    train(&mut straight, &mut opt, 0..20);

    let dir = tmp();
    let (mp, op) = (
        dir.path().join("model.safetensors"),
        dir.path().join("adam.safetensors"),
    );
    {
        let mut model = mlp::<T>(1);
        let mut opt = Adam::new(config).unwrap();
        train(&mut model, &mut opt, 0..9);
        save_module(&model, &mp).unwrap();
        save_optimizer_state(&opt.state(), &op).unwrap();
    }
    let mut model = mlp::<T>(2); // other initial values, overwritten by the load
    load_module(&mut model, &mp).unwrap();
    let mut opt = Adam::new(config).unwrap();
    opt.load_state(&model, &load_optimizer_state(&op).unwrap())
        .unwrap();
    train(&mut model, &mut opt, 9..20);

    assert_eq!(bits(&model), bits(&straight));
    // The run did move the parameters.
    assert_ne!(bits(&mlp::<T>(1)), bits(&straight));
}

#[test]
fn interrupted_run_resumed_from_disk_matches_an_uninterrupted_one_f32() {
    interrupted_run_resumed_from_disk_matches_an_uninterrupted_one::<f32>();
}

#[test]
fn interrupted_run_resumed_from_disk_matches_an_uninterrupted_one_f64() {
    interrupted_run_resumed_from_disk_matches_an_uninterrupted_one::<f64>();
}
