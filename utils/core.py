"""Seeding and device selection: the only copies in the course.

Every notebook starts with::

    from utils.core import seed_everything, get_device
    rng = seed_everything(0)
    device = get_device()
"""
from __future__ import annotations

import os
import random

import numpy as np

DEFAULT_SEED = 0


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} ({seed!r})")
    if not 0 <= int(seed) < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


def seed_everything(seed: int = DEFAULT_SEED) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch so that a run is repeatable.

    Returns a fresh ``numpy.random.Generator`` seeded with ``seed``: prefer it
    (``rng.normal(...)``) over the global ``np.random`` functions in new code.
    PyTorch is seeded too, and asked to use deterministic algorithms where it
    has them, so training runs give the same numbers twice on the same machine.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch
    except ImportError:  # the math chapters do not need torch
        torch = None
    if torch is not None:
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def num_threads() -> int:
    """Threads for PyTorch's CPU kernels.

    ``OMP_NUM_THREADS`` wins when set (the test runner sets 1 per worker, so two
    workers on two cores do not fight); otherwise all cores, which on a 2-core
    laptop means 2.
    """
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, os.cpu_count() or 1)


def get_device(prefer: str | None = None):
    """Return the ``torch.device`` to compute on: CUDA when present, else the CPU.

    ``prefer="cpu"`` forces the CPU (useful to compare results). The helper also
    sets the CPU thread count (see :func:`num_threads`) and flushes denormal
    numbers to zero: tiny floats near 1e-38 once made a GAN run 6x slower on CPU.
    """
    import torch

    if prefer not in (None, "cpu", "cuda"):
        raise ValueError(f"prefer must be None, 'cpu' or 'cuda', got {prefer!r}")
    torch.set_flush_denormal(True)
    torch.set_num_threads(num_threads())
    if prefer == "cuda" and not torch.cuda.is_available():
        raise ValueError("prefer='cuda' but this machine has no CUDA GPU; use get_device() instead")
    if prefer != "cpu" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def versions() -> dict[str, str]:
    """Versions of the main packages, printed at the top of every notebook."""
    import importlib.metadata as md
    import platform

    out = {"python": platform.python_version()}
    for name in ("numpy", "torch", "matplotlib", "scikit-learn", "ipywidgets"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def print_versions() -> None:
    """Print one line with the versions that matter for reproducing a run."""
    print(" | ".join(f"{k} {v}" for k, v in versions().items()))
