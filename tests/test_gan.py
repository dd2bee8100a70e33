"""utils.gan: the mixture data and the mode-coverage metric, checked by counting; bad inputs give clear errors."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from utils import gan


# --- mixture_centers and mixture_of_gaussians ----------------------------------

def test_ring_centres_are_evenly_spaced_on_the_circle():
    c = gan.mixture_centers(8, "ring", scale=2.0)
    assert c.shape == (8, 2)
    assert np.allclose(np.linalg.norm(c, axis=1), 2.0)
    assert np.allclose(c[0], [2.0, 0.0])
    gaps = np.linalg.norm(c - np.roll(c, 1, axis=0), axis=1)
    assert np.allclose(gaps, 2 * 2.0 * math.sin(math.pi / 8))


def test_grid_centres_span_the_square():
    c = gan.mixture_centers(25, "grid", scale=2.0)
    assert c.shape == (25, 2)
    assert set(np.round(c[:, 0], 9)) == {-2.0, -1.0, 0.0, 1.0, 2.0}
    assert len({tuple(row) for row in np.round(c, 9)}) == 25
    assert np.allclose(gan.mixture_centers(1, "grid"), [[0.0, 0.0]])


def test_mixture_samples_have_the_right_modes_and_spread():
    rng = np.random.default_rng(0)
    mix = gan.mixture_of_gaussians(40_000, modes=8, std=0.1, rng=rng)
    assert mix.X.shape == (40_000, 2) and mix.labels.shape == (40_000,) and mix.centers.shape == (8, 2)
    counts = np.bincount(mix.labels, minlength=8) / len(mix.labels)
    assert np.allclose(counts, 1 / 8, atol=0.01)
    residual = mix.X - mix.centers[mix.labels]
    assert np.allclose(residual.std(axis=0), 0.1, rtol=0.02)
    assert np.allclose(residual.mean(axis=0), 0.0, atol=0.003)


def test_mixture_is_reproducible_and_uses_the_given_rng():
    a = gan.mixture_of_gaussians(100, rng=np.random.default_rng(5))
    b = gan.mixture_of_gaussians(100, rng=np.random.default_rng(5))
    c = gan.mixture_of_gaussians(100, rng=np.random.default_rng(6))
    assert np.array_equal(a.X, b.X) and not np.array_equal(a.X, c.X)


def test_mixture_grid_layout():
    mix = gan.mixture_of_gaussians(500, modes=9, std=0.05, rng=np.random.default_rng(1), layout="grid")
    assert mix.centers.shape == (9, 2)
    assert np.abs(mix.X - mix.centers[mix.labels]).max() < 0.05 * 6


@pytest.mark.parametrize("kwargs, error, phrase", [
    (dict(n=0), ValueError, "n must be at least 1"),
    (dict(n=2.5), TypeError, "n must be an integer"),
    (dict(n=True), TypeError, "n must be an integer"),
    (dict(modes=0), ValueError, "modes must be at least 1"),
    (dict(std=0.0), ValueError, "std must be a positive"),
    (dict(std=float("nan")), ValueError, "std must be a positive"),
    (dict(std="0.1"), TypeError, "std must be a number"),
    (dict(rng=None), TypeError, "rng must be a numpy.random.Generator"),
    (dict(rng=0), TypeError, "rng must be a numpy.random.Generator"),
    (dict(layout="spiral"), ValueError, "layout must be one of"),
    (dict(modes=8, layout="grid"), ValueError, "square number of modes"),
    (dict(scale=-1.0), ValueError, "scale must be a positive"),
])
def test_mixture_rejects_bad_input(kwargs, error, phrase):
    args = dict(n=10, modes=8, std=0.1, rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(error, match=phrase):
        gan.mixture_of_gaussians(**args)


# --- mode_coverage ------------------------------------------------------------

def brute_force_coverage(samples, centers, radius):
    per_mode = np.zeros(len(centers))
    off = 0
    for x in samples:
        distances = [np.sqrt(((x - c) ** 2).sum()) for c in centers]
        k = int(np.argmin(distances))
        if distances[k] <= radius:
            per_mode[k] += 1
        else:
            off += 1
    return per_mode / len(samples), off / len(samples)


points = arrays(np.float64, st.tuples(st.integers(1, 40), st.just(2)), elements=st.floats(-3, 3))
centres = arrays(np.float64, st.tuples(st.integers(1, 6), st.just(2)), elements=st.floats(-3, 3))


@settings(max_examples=80, deadline=None)
@given(points, centres, st.floats(0.05, 3.0))
def test_mode_coverage_matches_brute_force(samples, centers, radius):
    cov = gan.mode_coverage(samples, centers, radius)
    per_mode, off = brute_force_coverage(samples, centers, radius)
    assert np.allclose(cov.per_mode, per_mode) and math.isclose(cov.off_mode, off, abs_tol=1e-12)
    assert math.isclose(cov.per_mode.sum() + cov.off_mode, 1.0)
    assert 0 <= cov.covered(0.0) <= len(centers)


def test_real_data_covers_every_mode_and_a_collapsed_sample_one():
    rng = np.random.default_rng(2)
    mix = gan.mixture_of_gaussians(20_000, modes=8, std=0.1, rng=rng)
    cov = gan.mode_coverage(mix.X, mix.centers, radius=0.3)
    assert cov.covered(0.05) == 8
    assert abs(cov.off_mode - math.exp(-4.5)) < 0.004  # P(|x - mu| > 3 sigma) for a 2-D Gaussian
    collapsed = gan.mode_coverage(mix.X[mix.labels == 5], mix.centers, radius=0.3)
    assert collapsed.covered(0.05) == 1 and collapsed.per_mode[5] > 0.98


def test_mode_coverage_uses_the_nearest_centre_when_radii_overlap():
    centers = np.array([[0.0, 0.0], [1.0, 0.0]])
    cov = gan.mode_coverage(np.array([[0.45, 0.0], [0.6, 0.0], [3.0, 0.0]]), centers, radius=0.8)
    assert np.allclose(cov.per_mode, [1 / 3, 1 / 3]) and math.isclose(cov.off_mode, 1 / 3)


def test_mode_coverage_accepts_torch_tensors_with_grad():
    samples = torch.zeros(4, 2, requires_grad=True)
    cov = gan.mode_coverage(samples, torch.tensor([[0.0, 0.0], [2.0, 2.0]]), radius=0.1)
    assert np.allclose(cov.per_mode, [1.0, 0.0]) and cov.off_mode == 0.0


@pytest.mark.parametrize("samples, centers, radius, error, phrase", [
    (np.zeros((5, 3)), np.zeros((2, 2)), 0.3, ValueError, r"samples must have shape \(n, 2\)"),
    (np.zeros(4), np.zeros((2, 2)), 0.3, ValueError, r"samples must have shape \(n, 2\)"),
    (np.zeros((0, 2)), np.zeros((2, 2)), 0.3, ValueError, "samples is empty"),
    (np.zeros((5, 2)), np.zeros((0, 2)), 0.3, ValueError, "centers is empty"),
    (np.full((5, 2), np.nan), np.zeros((2, 2)), 0.3, ValueError, "NaN or infinity"),
    (np.zeros((5, 2)), np.zeros((2, 2)), 0.0, ValueError, "radius must be a positive"),
    (np.zeros((5, 2)), np.zeros((2, 2)), -1, ValueError, "radius must be a positive"),
    (np.zeros((5, 2)), np.zeros((2, 2)), "0.3", TypeError, "radius must be a number"),
    ("samples", np.zeros((2, 2)), 0.3, TypeError, "samples must be an array"),
    (None, np.zeros((2, 2)), 0.3, TypeError, "samples must be an array"),
    ([[1, "a"]], np.zeros((2, 2)), 0.3, TypeError, "samples must be an array"),
])
def test_mode_coverage_rejects_bad_input(samples, centers, radius, error, phrase):
    with pytest.raises(error, match=phrase):
        gan.mode_coverage(samples, centers, radius)


@pytest.mark.parametrize("bad, error", [(-0.1, ValueError), (1.5, ValueError), ("a", TypeError)])
def test_covered_rejects_bad_share(bad, error):
    cov = gan.mode_coverage(np.zeros((3, 2)), np.zeros((1, 2)), 0.1)
    with pytest.raises(error, match="min_share"):
        cov.covered(bad)
