//! The fallible op API driven by arbitrary shapes, axes, strides, paddings,
//! indices and labels: every call returns `Ok` or a named error, never panics.
//! Dimensions are kept below 8 so that what the shapes ask for stays small.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wengert::{Conv2dParams, Tensor};

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
    Tensor::from_vec((0..n).map(|i| (i as f32 * 0.37).sin()).collect(), dims.to_vec()).unwrap().requires_grad()
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data, 0);
    let (sa, sb) = (b.shape(), b.shape());
    let (x, y) = (tensor(&sa), tensor(&sb));
    let (a1, a2) = (b.axis(), b.axis());
    let (idx, n, flag) = (b.list(), b.next() as usize % 9, b.next() % 2 == 0);
    let pads: Vec<(usize, usize)> = idx.iter().map(|&i| (i % 3, n % 3)).collect();
    let conv = Conv2dParams {
        stride: [b.next() as usize % 3, 1 + b.next() as usize % 2],
        padding: [b.next() as usize % 3, b.next() as usize % 3],
        dilation: [b.next() as usize % 3, 1],
        groups: b.next() as usize % 3,
    };
    let results = [
        x.try_add(&y),
        x.try_mul(&y),
        x.try_pow(&y),
        x.try_maximum(&y),
        Tensor::try_where_(&x, &y, &x),
        x.try_matmul_t(&y, flag, !flag),
        x.try_reshape(sb.clone()),
        x.try_broadcast_to(sb.clone()),
        x.try_sum_axes(&[a1, a2], flag),
        x.try_var_axes(&[a1], flag, !flag),
        x.try_max_axes(&[a1, a2], flag),
        x.try_logsumexp_axes(&[a1], flag),
        x.try_softmax(a1),
        x.try_transpose(a1, a2),
        x.try_permute(&idx),
        x.try_squeeze(a1),
        x.try_unsqueeze(a1),
        x.try_narrow(a1, idx.first().copied().unwrap_or(0), n),
        x.try_slice(a1, n, idx.len(), idx.first().copied().unwrap_or(0)),
        x.try_pad(&pads, 0.0),
        Tensor::try_concat(&[&x, &y], a1),
        Tensor::try_stack(&[&x, &y], a1),
        x.try_index_select(a1, &idx),
        x.try_index_add(a1, &idx, &y),
        x.try_gather(a1, &idx, sb.clone()),
        x.try_scatter_add(a1, &idx, sb.clone(), &y),
        Tensor::try_one_hot(&idx, n),
        x.try_conv2d(&y, None, conv),
        x.try_max_pool2d([n, 2], [1 + n % 2, 1], [idx.len() % 2, 0]),
        x.try_avg_pool1d(n, 1 + n % 3, idx.len() % 2, flag),
        x.try_global_avg_pool(),
    ];
    for r in results.into_iter().flatten() {
        let _ = r.sum().backward();
    }
    let _ = x.try_argmax(Some(a1));
});
