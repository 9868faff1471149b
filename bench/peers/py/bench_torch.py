"""PyTorch (eager, CPU) peer benchmarks, adapted from the shared reference harness. Usage:
  python bench_torch.py --workload {W1,W2,W3,W4,W5,W6} --threads {1,2}
"""
import sys
import os

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (setup_threads, parse_args, time_loop, report,
                    gemm_inner_iters, gemm_samples)

args = parse_args()
setup_threads(args.threads)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)
torch.manual_seed(0)
PEER = "torch"
T = args.threads
assert torch.get_num_threads() == T


def w1():
    for n in [int(s) for s in args.sizes.split(",")]:
        a = torch.randn(n, n, dtype=torch.float32)
        b = torch.randn(n, n, dtype=torch.float32)
        c = torch.empty(n, n, dtype=torch.float32)
        fn = lambda: torch.mm(a, b, out=c)  # noqa: E731
        inner = gemm_inner_iters(n)
        s, u = time_loop(fn, warmup=max(3, inner), iters=gemm_samples(n), inner=inner)
        med = s[len(s) // 2]
        report("W1", PEER, "mm", T, s, u, size=n, gflops=2 * n ** 3 / med / 1e9)


def sgd_train(model, make_loss, warmup, steps, workload, variant="eager"):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = make_loss()
        loss.backward()
        opt.step()
        return loss

    s, u = time_loop(step, warmup=warmup, iters=steps)
    loss = float(make_loss().detach())
    report(workload, PEER, variant, T, s, u, loss=loss)


def w2():
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                          nn.Linear(256, 10))
    x = torch.randn(128, 784)
    y = torch.randint(0, 10, (128,))
    sgd_train(model, lambda: F.cross_entropy(model(x), y), args.warmup or 20, args.steps or 300, "W2")


def w3():
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
    x = torch.randn(32, 2)
    y = torch.randn(32, 1)
    sgd_train(model, lambda: F.mse_loss(model(x), y), args.warmup or 50, args.steps or 2000, "W3")


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 16, 5)
        self.f1 = nn.Linear(400, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.flatten(1)
        x = F.relu(self.f1(x))
        x = F.relu(self.f2(x))
        return self.f3(x)


def w4():
    model = LeNet()
    x = torch.randn(64, 1, 28, 28)
    y = torch.randint(0, 10, (64,))
    sgd_train(model, lambda: F.cross_entropy(model(x), y), args.warmup or 20, args.steps or 200, "W4")


def w5():
    n, c, h, w = 32, 64, 32, 32
    flops = 2 * n * 64 * h * w * c * 9
    x = torch.randn(n, c, h, w)
    wt = torch.randn(64, c, 3, 3) * 0.05
    with torch.no_grad():
        fwd = lambda: F.conv2d(x, wt, padding=1)  # noqa: E731
        s, u = time_loop(fwd, warmup=args.warmup or 3, iters=args.steps or 20)
    report("W5", PEER, "fwd", T, s, u, gflops=flops / s[len(s) // 2] / 1e9)
    xg = x.clone().requires_grad_(True)
    wg = wt.clone().requires_grad_(True)

    def fb():
        xg.grad = None
        wg.grad = None
        F.conv2d(xg, wg, padding=1).sum().backward()

    s, u = time_loop(fb, warmup=args.warmup or 3, iters=args.steps or 20)
    # effective GFLOP/s for fwd+bwd counts 3x the forward flops (fwd, dX, dW)
    report("W5", PEER, "fwd+bwd", T, s, u, gflops=3 * flops / s[len(s) // 2] / 1e9)


NOPS = 10000


def chain(y):
    for i in range(NOPS):
        r = i % 3
        if r == 0:
            y = y * 1.0001
        elif r == 1:
            y = y + 0.0001
        else:
            y = torch.tanh(y)
    return y


def w6():
    x = torch.randn(16, requires_grad=True)

    def fb():
        x.grad = None
        chain(x).sum().backward()

    s, u = time_loop(fb, warmup=3, iters=args.steps or 20)
    report("W6", PEER, "fwd+bwd", T, s, u, ns_per_op=s[len(s) // 2] / NOPS * 1e9)

    def fo():
        with torch.no_grad():
            chain(x)

    s, u = time_loop(fo, warmup=3, iters=args.steps or 20)
    report("W6", PEER, "fwd-nograd", T, s, u, ns_per_op=s[len(s) // 2] / NOPS * 1e9)


{"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6}[args.workload]()
