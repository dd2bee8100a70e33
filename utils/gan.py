"""Toy data and a mode-coverage metric for generative adversarial networks (chapter 3.4).

- :func:`mixture_centers`: the centres of a ring or a square grid of 2-D modes.
- :func:`mixture_of_gaussians`: samples from an equal-weight mixture of round
  Gaussians on those centres, the standard toy problem on which a GAN's mode
  collapse can be *seen*.
- :func:`mode_coverage`: which share of generated samples lands near each mode,
  and which share lands near none ("off-mode"): the two numbers that say whether
  a generator covers the data or collapses onto a few modes.

    mix = mixture_of_gaussians(2000, modes=8, std=0.05, rng=rng)
    cov = mode_coverage(samples, mix.centers, radius=3 * 0.05)
    cov.per_mode, cov.off_mode, cov.covered(min_share=0.05)

Everything is NumPy float64; a chapter converts to torch tensors itself.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

LAYOUTS = ("ring", "grid")


class Mixture(NamedTuple):
    """Samples of a Gaussian mixture: ``X`` (n, 2), the mode of each row ``labels`` (n,), ``centers`` (modes, 2)."""

    X: np.ndarray
    labels: np.ndarray
    centers: np.ndarray


class ModeCoverage(NamedTuple):
    """Result of :func:`mode_coverage`.

    ``per_mode[k]`` is the share of all samples within ``radius`` of mode ``k``
    (and nearer to it than to any other mode); ``off_mode`` is the share near no
    mode. The shares add up to 1.
    """

    per_mode: np.ndarray
    off_mode: float

    def covered(self, min_share: float = 0.05) -> int:
        """Number of modes that receive at least ``min_share`` of the samples."""
        _check_share(min_share, "min_share")
        return int(np.sum(self.per_mode >= min_share))


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def _check_positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def _check_share(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} is a share of the samples and must lie in [0, 1], got {value}")
    return float(value)


def _points(value, name: str) -> np.ndarray:
    """``value`` as a finite float64 array of shape (n, 2), n >= 1, accepting torch tensors."""
    if hasattr(value, "detach"):  # a torch tensor (possibly on a GPU, possibly requiring grad)
        value = value.detach().cpu().numpy()
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of 2-D points, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of 2-D points, got {type(value).__name__}") from err
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"{name} must have shape (n, 2): one row per 2-D point; got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: need at least one point")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity: did the training diverge?")
    return arr


def mixture_centers(modes: int = 8, layout: str = "ring", scale: float = 2.0) -> np.ndarray:
    """Centres of the modes, shape (modes, 2).

    ``layout="ring"``: ``modes`` points evenly spaced on a circle of radius
    ``scale``, the first at angle 0. ``layout="grid"``: a square grid (``modes``
    must be a perfect square, e.g. 25) spanning [-scale, scale] in both axes.
    """
    modes = _check_positive_int(modes, "modes")
    scale = _check_positive_float(scale, "scale")
    if layout == "ring":
        angles = 2 * np.pi * np.arange(modes) / modes
        return scale * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if layout == "grid":
        side = math.isqrt(modes)
        if side * side != modes:
            raise ValueError(f"a grid layout needs a square number of modes (4, 9, 16, 25, ...), got {modes}")
        ticks = np.linspace(-scale, scale, side) if side > 1 else np.zeros(1)
        xx, yy = np.meshgrid(ticks, ticks)
        return np.stack([xx.ravel(), yy.ravel()], axis=1)
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def mixture_of_gaussians(n: int, modes: int = 8, std: float = 0.05, rng: np.random.Generator | None = None,
                         layout: str = "ring", scale: float = 2.0) -> Mixture:
    """``n`` samples from an equal-weight mixture of round 2-D Gaussians.

    Each sample picks one of ``modes`` centres (see :func:`mixture_centers`)
    uniformly at random, then adds normal noise with standard deviation ``std``
    in each coordinate. ``rng`` (a ``numpy.random.Generator``, e.g. from
    ``seed_everything``) is required so that the data is reproducible.
    """
    n = _check_positive_int(n, "n")
    std = _check_positive_float(std, "std")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (e.g. rng = seed_everything(0)), "
                        f"got {type(rng).__name__}")
    centers = mixture_centers(modes, layout, scale)
    labels = rng.integers(0, len(centers), size=n)
    X = centers[labels] + std * rng.normal(size=(n, 2))
    return Mixture(X, labels, centers)


def mode_coverage(samples, centers, radius: float) -> ModeCoverage:
    """Share of ``samples`` near each of ``centers``, and the share near none.

    A sample counts for mode ``k`` when ``k`` is its nearest centre *and* it lies
    within ``radius`` of it (a sensible radius is 3 standard deviations of a
    mode: 99% of real samples fall inside); otherwise it is off-mode. A generator
    that covers the data gives every mode about ``1 / modes`` and a small
    off-mode share; a collapsed one puts everything on a few modes.
    ``samples`` and ``centers`` are arrays (or torch tensors) of shape (n, 2).
    """
    X = _points(samples, "samples")
    C = _points(centers, "centers")
    radius = _check_positive_float(radius, "radius")
    distances = np.linalg.norm(X[:, None, :] - C[None, :, :], axis=2)  # (n, modes)
    nearest = distances.argmin(axis=1)
    near = distances[np.arange(len(X)), nearest] <= radius
    per_mode = np.bincount(nearest[near], minlength=len(C)) / len(X)
    return ModeCoverage(per_mode, float(1.0 - near.mean()))
