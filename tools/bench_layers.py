"""Time forward + backward of the course's NumPy layers against PyTorch on the CPU.

A benchmark, not a test: writes build/bench_layers.md (median of several runs,
all cores). The layers are those built in chapter 3: utils.nn.Dense,
utils.conv.Conv2D and utils.rnn.LSTM, each against the torch module it equals.

    make bench-layers
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from utils import conv, nn, rnn

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "build" / "bench_layers.md"


def median_seconds(fn, repeats: int = 7) -> float:
    fn()  # warm-up (allocations, lazy initialisation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_step(layer, X):
    def run():
        Y = layer.forward(X)
        layer.backward(np.ones_like(Y))
    return run


def torch_step(module, X):
    def run():
        X.grad = None
        module.zero_grad()
        out = module(X)
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    return run


def main() -> None:
    torch.set_num_threads(os.cpu_count() or 1)
    rng = np.random.default_rng(0)
    cases = []

    linear = torch.nn.Linear(512, 512).double()
    X = rng.normal(size=(256, 512))
    cases.append(("Dense 512→512, batch 256", nn.Dense.from_torch(linear), X, linear))

    conv2d = torch.nn.Conv2d(16, 32, 3, padding=1).double()
    X = rng.normal(size=(32, 16, 28, 28))
    cases.append(("Conv2D 16→32, 3×3, 32×16×28×28", conv.Conv2D.from_torch(conv2d), X, conv2d))

    lstm = torch.nn.LSTM(64, 128, batch_first=True).double()
    X = rng.normal(size=(32, 50, 64))
    cases.append(("LSTM 64→128, batch 32 × 50 steps", rnn.LSTM.from_torch(lstm), X, lstm))

    rows = []
    for name, ours, X, module in cases:
        t_np = median_seconds(numpy_step(ours, X))
        X64 = torch.tensor(X, requires_grad=True)
        t_64 = median_seconds(torch_step(module, X64))
        module32 = module.float()
        X32 = torch.tensor(X, dtype=torch.float32, requires_grad=True)
        t_32 = median_seconds(torch_step(module32, X32))
        module.double()
        rows.append((name, t_np, t_64, t_32))

    lines = [
        "# NumPy layers against PyTorch (forward + backward, CPU)",
        "",
        f"Median of 7 runs after a warm-up; {torch.get_num_threads()} threads; {platform.machine()}, "
        f"NumPy {np.__version__}, torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}.",
        "",
        "| layer | NumPy float64 (ms) | torch float64 (ms) | torch float32 (ms) | NumPy / torch64 | NumPy / torch32 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, t_np, t_64, t_32 in rows:
        lines.append(f"| {name} | {1e3 * t_np:.1f} | {1e3 * t_64:.1f} | {1e3 * t_32:.1f} | "
                     f"{t_np / t_64:.1f}× | {t_np / t_32:.1f}× |")
    lines += ["", "Dense layers are one matrix product either way, so NumPy is close; convolution "
              "pays for im2col copies; the LSTM loops over time steps in Python, PyTorch in C++ "
              "with fused gate kernels.", ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
