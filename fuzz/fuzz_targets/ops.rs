//! The fallible op API driven by arbitrary shapes, axes, strides, paddings,
//! indices and labels: every call returns `Ok` or a named error, never panics.
//! Dimensions are kept below 8 so that what the shapes ask for stays small.
//! Two tables: the core ops (`OPS`) and the losses and lookups of
//! `wengert-nn` that take labels (`LOSSES`), which return the nn error.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};

use libfuzzer_sys::fuzz_target;
use wengert::nn::{Embedding, Reduction, loss};
use wengert::{
    BackwardOptions, Conv1dParams, Conv2dParams, ConvTranspose1dParams, ConvTranspose2dParams,
    Im2colParams, Tensor, watch_values,
};

struct Bytes<'a>(&'a [u8], usize);

impl Bytes<'_> {
    fn next(&mut self) -> u8 {
        let b = self.0.get(self.1).copied().unwrap_or(0);
        self.1 += 1;
        b
    }
    fn shape(&mut self) -> Vec<usize> {
        let rank = (self.next() % 5) as usize;
        (0..rank).map(|_| (self.next() % 8) as usize).collect()
    }
    fn axis(&mut self) -> isize {
        (self.next() % 13) as isize - 6
    }
    fn list(&mut self) -> Vec<usize> {
        let n = (self.next() % 6) as usize;
        (0..n).map(|_| (self.next() % 9) as usize).collect()
    }
}

fn tensor(dims: &[usize]) -> Tensor<f32> {
    let n: usize = dims.iter().product();
    Tensor::from_vec(
        (0..n).map(|i| (i as f32 * 0.37).sin()).collect(),
        dims.to_vec(),
    )
    .unwrap()
    .requires_grad()
}

/// The system allocator with a cap on any single allocation: the ops' inputs
/// are at most 7^4 elements, so a request beyond 64 MiB means an op asked for
/// far more memory than its input justifies. Works without a sanitizer, unlike
/// libFuzzer's `-malloc_limit_mb`.
struct Capped;

const CAP: usize = 64 << 20;

// SAFETY: forwards to the system allocator unchanged below the cap.
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            eprintln!(
                "allocation of {} bytes exceeds the 64 MiB cap",
                layout.size()
            );
            std::process::abort();
        }
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP {
            eprintln!("reallocation to {new_size} bytes exceeds the 64 MiB cap");
            std::process::abort();
        }
        // SAFETY: as in `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;

type Op = fn(&Tensor<f32>, &Tensor<f32>, &Args) -> wengert::Result<Tensor<f32>>;
type Loss = fn(&Tensor<f32>, &Tensor<f32>, &Args) -> wengert::nn::Result<Tensor<f32>>;

/// Everything the input bytes decide besides the two operands.
struct Args {
    sb: Vec<usize>,
    a1: isize,
    a2: isize,
    idx: Vec<usize>,
    n: usize,
    flag: bool,
    pads: Vec<(usize, usize)>,
    conv: Conv2dParams,
    /// Output padding for the transposed convolutions.
    out_pad: [usize; 2],
    window: Im2colParams,
    reduction: Reduction,
}

impl Args {
    fn conv1d(&self) -> Conv1dParams {
        let c = &self.conv;
        Conv1dParams {
            stride: c.stride[0],
            padding: c.padding[1],
            dilation: c.dilation[0],
            groups: c.groups,
        }
    }
    fn conv_transpose2d(&self) -> ConvTranspose2dParams {
        let c = &self.conv;
        ConvTranspose2dParams {
            stride: c.stride,
            padding: c.padding,
            output_padding: self.out_pad,
            dilation: c.dilation,
            groups: c.groups,
        }
    }
    fn conv_transpose1d(&self) -> ConvTranspose1dParams {
        let c = self.conv1d();
        ConvTranspose1dParams {
            stride: c.stride,
            padding: c.padding,
            output_padding: self.out_pad[1],
            dilation: c.dilation,
            groups: c.groups,
        }
    }
    /// Pooling window, stride and padding from the im2col window.
    fn pool(&self) -> ([usize; 2], [usize; 2], [usize; 2]) {
        (self.window.kernel, self.window.stride, self.window.padding)
    }
}

const OPS: &[Op] = &[
    |x, y, _| x.try_add(y),
    |x, y, _| x.try_mul(y),
    |x, y, _| x.try_pow(y),
    |x, y, _| x.try_maximum(y),
    |x, y, _| Tensor::try_where_(x, y, x),
    |x, y, a| x.try_matmul_t(y, a.flag, !a.flag),
    |x, _, a| x.try_reshape(a.sb.clone()),
    |x, _, a| x.try_broadcast_to(a.sb.clone()),
    |x, _, a| x.try_sum_axes(&[a.a1, a.a2], a.flag),
    |x, _, a| x.try_var_axes(&[a.a1], a.flag, !a.flag),
    |x, _, a| x.try_max_axes(&[a.a1, a.a2], a.flag),
    |x, _, a| x.try_logsumexp_axes(&[a.a1], a.flag),
    |x, _, a| x.try_softmax(a.a1),
    |x, _, a| x.try_transpose(a.a1, a.a2),
    |x, _, a| x.try_permute(&a.idx),
    |x, _, a| x.try_squeeze(a.a1),
    |x, _, a| x.try_unsqueeze(a.a1),
    |x, _, a| x.try_narrow(a.a1, a.idx.first().copied().unwrap_or(0), a.n),
    |x, _, a| x.try_slice(a.a1, a.n, a.idx.len(), a.idx.first().copied().unwrap_or(0)),
    |x, _, a| x.try_pad(&a.pads, 0.0),
    |x, y, a| Tensor::try_concat(&[x, y], a.a1),
    |x, y, a| Tensor::try_stack(&[x, y], a.a1),
    |x, _, a| x.try_index_select(a.a1, &a.idx),
    |x, y, a| x.try_index_add(a.a1, &a.idx, y),
    |x, _, a| x.try_gather(a.a1, &a.idx, a.sb.clone()),
    |x, y, a| x.try_scatter_add(a.a1, &a.idx, a.sb.clone(), y),
    |_, _, a| Tensor::try_one_hot(&a.idx, a.n),
    |x, y, _| x.try_linear(y, None),
    |x, y, a| x.try_linear(y, Some(&Tensor::zeros([a.n]))),
    |x, y, _| x.try_mean_squared_error(y),
    |x, y, a| x.try_conv2d(y, None, a.conv),
    |x, y, a| x.try_conv2d(y, Some(&Tensor::zeros([a.n])), a.conv),
    |x, y, a| x.try_conv1d(y, None, a.conv1d()),
    |x, y, a| x.try_conv_transpose2d(y, None, a.conv_transpose2d()),
    |x, y, a| x.try_conv_transpose1d(y, Some(&Tensor::zeros([a.n])), a.conv_transpose1d()),
    |x, _, a| x.try_im2col(a.window),
    |x, _, a| x.try_col2im([a.n, a.idx.len()], a.window),
    |x, _, a| x.try_max_pool2d([a.n, 2], [1 + a.n % 2, 1], [a.idx.len() % 2, 0]),
    |x, _, a| {
        let (k, s, p) = a.pool();
        x.try_max_pool2d(k, s, p)
    },
    |x, _, a| {
        let (k, s, p) = a.pool();
        x.try_avg_pool2d(k, s, p, a.flag)
    },
    |x, _, a| {
        let (k, s, p) = a.pool();
        x.try_max_pool1d(k[1], s[1], p[1])
    },
    |x, _, a| x.try_avg_pool1d(a.n, 1 + a.n % 3, a.idx.len() % 2, a.flag),
    |x, _, _| x.try_global_avg_pool(),
];

/// Labels come from `idx` (values below 9), so some are out of range.
const LOSSES: &[Loss] = &[
    |x, _, a| loss::cross_entropy(x, &a.idx, a.reduction),
    |x, _, a| loss::nll_loss(x, &a.idx, a.reduction),
    |x, y, a| loss::cross_entropy_probs(x, y, a.reduction),
    |x, y, a| loss::binary_cross_entropy(&x.sigmoid(), &y.sigmoid(), a.reduction),
    |x, y, a| loss::binary_cross_entropy(x, y, a.reduction),
    |x, y, a| loss::binary_cross_entropy_with_logits(x, y, a.reduction),
    |x, y, a| loss::mse_loss(x, y, a.reduction),
    |x, y, a| loss::huber_loss(x, y, a.n as f64 - 1.0, a.reduction),
    |x, y, a| loss::kl_div(x, &y.sigmoid(), a.reduction),
    |x, _, a| Embedding::from_tensor(x.clone())?.try_lookup(&a.idx, a.sb.clone()),
];

/// Runs `op` on fresh operands on a fresh tape, then the backward of its
/// result, so that each successful op's backward runs too (a tape is
/// consumed by its first backward). `mode` bit 0 records inside
/// `watch_values`; bit 1 runs a retaining backward first (the rules become
/// shared) and dumps the tape before and after the consuming one.
fn exercise<E>(
    sa: &[usize],
    sb: &[usize],
    mode: u8,
    op: impl Fn(&Tensor<f32>, &Tensor<f32>) -> Result<Tensor<f32>, E>,
) {
    let (x, y) = (tensor(sa), tensor(sb));
    let r = if mode & 1 == 1 {
        watch_values(|| op(&x, &y))
    } else {
        op(&x, &y)
    };
    if let Ok(r) = r {
        let s = r.sum();
        if mode & 2 == 2 {
            let retain = BackwardOptions {
                retain_graph: true,
                create_graph: false,
            };
            let _ = s.backward_with(None, retain);
            let _ = s.tape_dump();
        }
        let _ = s.backward();
        if mode & 2 == 2 {
            let _ = s.tape_dump();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data, 0);
    let (sa, sb) = (b.shape(), b.shape());
    let (a1, a2) = (b.axis(), b.axis());
    let (idx, n, flag) = (b.list(), b.next() as usize % 9, b.next() % 2 == 0);
    let pads = idx.iter().map(|&i| (i % 3, n % 3)).collect();
    let conv = Conv2dParams {
        stride: [b.next() as usize % 3, 1 + b.next() as usize % 2],
        padding: [b.next() as usize % 3, b.next() as usize % 3],
        dilation: [b.next() as usize % 3, 1],
        groups: b.next() as usize % 3,
    };
    let out_pad = [b.next() as usize % 3, b.next() as usize % 3];
    let window = Im2colParams {
        kernel: [b.next() as usize % 4, b.next() as usize % 4],
        stride: [b.next() as usize % 3, b.next() as usize % 3],
        padding: [b.next() as usize % 3, b.next() as usize % 3],
        dilation: [b.next() as usize % 3, b.next() as usize % 3],
    };
    let reduction = [Reduction::Mean, Reduction::Sum, Reduction::None][b.next() as usize % 3];
    let mode = b.next() % 4;
    let args = Args {
        sb: sb.clone(),
        a1,
        a2,
        idx,
        n,
        flag,
        pads,
        conv,
        out_pad,
        window,
        reduction,
    };
    for op in OPS {
        exercise(&sa, &sb, mode, |x, y| op(x, y, &args));
    }
    for op in LOSSES {
        exercise(&sa, &sb, mode, |x, y| op(x, y, &args));
    }
    let _ = tensor(&sa).try_argmax(Some(a1));
});
