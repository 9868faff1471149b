//! The tape never recurses: a chain of 1,000,000 ops runs backward, and a
//! recorded chain is dropped, on a 2 MiB thread stack.

use wengert::Tensor;

const STACK: usize = 2 * 1024 * 1024;
const OPS: usize = 1_000_000;

fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .expect("spawn test thread")
        .join()
        .expect("the test thread panicked (stack overflow aborts the process instead)");
}

/// y_{k+1} = y_k * c + 1e-7 alternately; dy/dx is c^(OPS/2), with c chosen so
/// that it stays representable: (1 + 1e-6)^(500000) = e^0.5 (hand-derived).
#[test]
fn million_op_chain_runs_backward_and_drops_on_a_small_stack() {
    on_small_stack(|| {
        let x = Tensor::from_vec(vec![1.0f64; 4], [4])
            .unwrap()
            .requires_grad();
        let c = Tensor::from_vec(vec![1.0 + 1e-6; 4], [4]).unwrap();
        let mut y = x.clone();
        for k in 0..OPS {
            y = if k % 2 == 0 {
                &y * &c
            } else {
                y.add_scalar(1e-7)
            };
        }
        let g = y.sum().backward().unwrap();
        let gx = g.get(&x).unwrap().to_vec();
        let want = (1.0f64 + 1e-6).powi((OPS / 2) as i32);
        for v in gx {
            assert!((v - want).abs() < 1e-9 * want, "{v} vs {want}");
        }
        assert!((want - 0.5f64.exp()).abs() < 1e-6);
    });
}

#[test]
fn million_op_chain_is_dropped_without_backward_on_a_small_stack() {
    on_small_stack(|| {
        let x = Tensor::<f32>::ones([1]).requires_grad();
        let mut y = x.clone();
        for _ in 0..OPS {
            y = y.mul_scalar(1.0);
        }
        assert_eq!(y.item(), 1.0);
        drop(y);
    });
}
