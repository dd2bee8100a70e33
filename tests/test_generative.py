"""Tests of utils.generative: PSNR, inpainting masks, class accuracy/coverage, diversity."""
import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import pdist

from utils import generative as gen


# --- psnr -----------------------------------------------------------------------------

def test_psnr_identical_images_is_infinite():
    x = np.random.default_rng(0).random((3, 1, 8, 8))
    assert gen.psnr(x, x.copy()) == math.inf


@pytest.mark.parametrize("mse, max_value, expected", [(0.01, 1.0, 20.0), (0.001, 1.0, 30.0),
                                                      (0.25, 1.0, 10 * math.log10(4)), (1.0, 255.0, 48.1308)])
def test_psnr_known_values(mse, max_value, expected):
    # a constant offset d gives MSE = d**2 exactly
    a = np.zeros((4, 5))
    b = a + math.sqrt(mse)
    assert gen.psnr(a, b, max_value=max_value) == pytest.approx(expected, abs=1e-4)


def test_psnr_matches_scikit_image_and_takes_tensors():
    from skimage.metrics import peak_signal_noise_ratio

    rng = np.random.default_rng(1)
    a = rng.random((6, 1, 28, 28))
    b = np.clip(a + 0.1 * rng.normal(size=a.shape), 0, 1)
    ref = peak_signal_noise_ratio(a, b, data_range=1.0)
    assert gen.psnr(a, b) == pytest.approx(ref, rel=1e-12)
    assert gen.psnr(torch.tensor(a, dtype=torch.float32, requires_grad=True), torch.tensor(b)) == \
        pytest.approx(ref, abs=1e-4)


def test_psnr_is_symmetric_and_plus_10_db_divides_mse_by_10():
    rng = np.random.default_rng(2)
    a, noise = rng.random(100), rng.normal(size=100)
    assert gen.psnr(a, a + noise) == pytest.approx(gen.psnr(a + noise, a))
    assert gen.psnr(a, a + noise / math.sqrt(10)) == pytest.approx(gen.psnr(a, a + noise) + 10)


@pytest.mark.parametrize("a, b, max_value, err, phrase", [
    (np.zeros((2, 3)), np.zeros((3, 2)), 1.0, ValueError, "same shape"),
    (np.zeros(0), np.zeros(0), 1.0, ValueError, "empty"),
    (np.array([0.0, np.nan]), np.zeros(2), 1.0, ValueError, "NaN"),
    (np.zeros(3), np.ones(3), 0.0, ValueError, "positive"),
    (np.zeros(3), np.ones(3), "1", TypeError, "number"),
    ("abc", np.ones(3), 1.0, TypeError, "array of numbers"),
])
def test_psnr_rejects_bad_inputs(a, b, max_value, err, phrase):
    with pytest.raises(err, match=phrase):
        gen.psnr(a, b, max_value=max_value)


# --- random_masks -------------------------------------------------------------------------

def test_box_masks_shape_side_and_margin():
    rng = np.random.default_rng(0)
    masks = gen.random_masks(200, 28, rng, kind="box", coverage=0.13, margin=4)
    assert masks.shape == (200, 28, 28) and masks.dtype == bool
    side = round(28 * math.sqrt(0.13))  # 10
    assert (masks.sum(axis=(1, 2)) == side * side).all()
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    assert (rows.sum(axis=1) == side).all() and (cols.sum(axis=1) == side).all()  # one solid square
    assert not masks[:, :4].any() and not masks[:, -4:].any()  # the margin is kept free
    assert not masks[:, :, :4].any() and not masks[:, :, -4:].any()
    # positions vary: every allowed top row 4..14 occurs
    tops = rows.argmax(axis=1)
    assert set(tops.tolist()) == set(range(4, 28 - 4 - side + 1))


def test_pixel_masks_coverage_and_reproducibility():
    masks = gen.random_masks(500, 28, np.random.default_rng(3), kind="pixels", coverage=0.3)
    assert masks.shape == (500, 28, 28)
    assert abs(masks.mean() - 0.3) < 0.005
    again = gen.random_masks(500, 28, np.random.default_rng(3), kind="pixels", coverage=0.3)
    assert np.array_equal(masks, again)
    full = gen.random_masks(2, 5, np.random.default_rng(0), kind="box", coverage=1.0)
    assert full.all()


@pytest.mark.parametrize("kwargs, err, phrase", [
    (dict(n=0), ValueError, "positive integer"),
    (dict(size=2.5), ValueError, "positive integer"),
    (dict(rng=0), TypeError, "numpy.random.Generator"),
    (dict(kind="circle"), ValueError, "kind must be one of"),
    (dict(coverage=0.0), ValueError, r"\(0, 1\]"),
    (dict(coverage=1.5), ValueError, r"\(0, 1\]"),
    (dict(margin=-1), ValueError, "non-negative"),
    (dict(coverage=0.5, margin=6), ValueError, "does not fit"),
])
def test_random_masks_rejects_bad_inputs(kwargs, err, phrase):
    args = dict(n=3, size=28, rng=np.random.default_rng(0), kind="box", coverage=0.13, margin=0)
    args.update(kwargs)
    with pytest.raises(err, match=phrase):
        gen.random_masks(**args)


# --- class_accuracy_and_coverage ------------------------------------------------------------

class MeanBrightnessClassifier(torch.nn.Module):
    """Predicts class floor(10 * mean pixel): a transparent stand-in for a real classifier."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        k = (x.mean(dim=(1, 2, 3)) * 10).clamp(0, 9.999).floor().long()
        return torch.nn.functional.one_hot(k, 10).float() + 0 * self.dummy


def images_of_classes(classes):
    return torch.stack([torch.full((1, 4, 4), (k + 0.5) / 10) for k in classes])


def test_accuracy_per_class_and_coverage():
    clf = MeanBrightnessClassifier().train()
    intended = np.repeat(np.arange(10), 4)
    drawn = intended.copy()
    drawn[intended == 3] = [3, 5, 5, 5]  # class 3 is recognised 1 time in 4
    drawn[intended == 7] = [7, 7, 2, 7]  # class 7: 3 times in 4
    report = gen.class_accuracy_and_coverage(clf, images_of_classes(drawn), intended)
    assert report.accuracy == pytest.approx(36 / 40)
    assert report.per_class[3] == pytest.approx(0.25) and report.per_class[7] == pytest.approx(0.75)
    assert report.coverage == 9  # class 3 falls below min_accuracy=0.5
    assert report.predicted_counts.tolist() == np.bincount(drawn, minlength=10).tolist()
    assert clf.training  # the classifier's mode is restored
    strict = gen.class_accuracy_and_coverage(clf, images_of_classes(drawn), intended, min_accuracy=0.8)
    assert strict.coverage == 8


def test_collapsed_generator_has_low_coverage_even_when_confident():
    clf = MeanBrightnessClassifier()
    intended = np.repeat(np.arange(10), 3)
    report = gen.class_accuracy_and_coverage(clf, images_of_classes([1] * 30), intended)
    assert report.coverage == 1 and report.accuracy == pytest.approx(0.1)
    assert report.predicted_counts[1] == 30
    missing = gen.class_accuracy_and_coverage(clf, images_of_classes([0, 0]), [0, 0])
    assert np.isnan(missing.per_class[5]) and missing.coverage == 1


@pytest.mark.parametrize("samples, labels, phrase", [
    (images_of_classes([1, 2]), [1], "one label per sample"),
    (images_of_classes([1, 2]), [1, 10], r"integers in \[0, 10\)"),
    (images_of_classes([1, 2]), [1.5, 2], r"integers in \[0, 10\)"),
    (images_of_classes([1, 2]), [[1, 2]], r"shape \(N,\)"),
    (torch.zeros(2, 4, 4), [1, 2], r"\(N, C, H, W\)"),
])
def test_class_accuracy_rejects_bad_inputs(samples, labels, phrase):
    with pytest.raises(ValueError, match=phrase):
        gen.class_accuracy_and_coverage(MeanBrightnessClassifier(), samples, labels)
    with pytest.raises(TypeError, match="classifier"):
        gen.class_accuracy_and_coverage("not a model", images_of_classes([1]), [1])


# --- diversity ---------------------------------------------------------------------------

def test_diversity_of_identical_images_is_zero():
    x = np.random.default_rng(0).random((1, 1, 28, 28))
    assert gen.diversity(np.repeat(x, 10, axis=0)) == 0.0
    assert gen.diversity(torch.ones(5, 3) * 7.3) == 0.0


def test_diversity_matches_scipy_pdist_and_known_values():
    X = np.random.default_rng(4).normal(size=(40, 1, 6, 6))
    assert gen.diversity(X) == pytest.approx(pdist(X.reshape(40, -1)).mean(), rel=1e-10)
    # two points at distance 5, three points on an equilateral triangle of side 2
    assert gen.diversity(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)
    tri = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, math.sqrt(3)]])
    assert gen.diversity(tri) == pytest.approx(2.0)
    # scaling the images scales the diversity
    assert gen.diversity(3 * X) == pytest.approx(3 * gen.diversity(X))


def test_diversity_in_a_feature_space():
    X = torch.randn(20, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    first_pixel = gen.diversity(X, features=lambda x: x[:, :, 0, 0].reshape(-1, 1))
    assert first_pixel == pytest.approx(pdist(X[:, 0, 0, 0].numpy()[:, None].astype(float)).mean(), rel=1e-6)


def test_diversity_rejects_bad_inputs():
    with pytest.raises(ValueError, match="at least 2"):
        gen.diversity(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="one row per image"):
        gen.diversity(np.zeros((4, 5)), features=lambda x: np.zeros((3, 2)))
    with pytest.raises(TypeError, match="features must be a function"):
        gen.diversity(np.zeros((4, 5)), features="pixels")
    with pytest.raises(ValueError, match="NaN"):
        gen.diversity(np.array([[0.0], [np.inf]]))
    with pytest.raises(ValueError, match="one image per row"):
        gen.diversity(np.zeros(5))


def test_penultimate_features_of_mnist_cnn():
    from utils.vision import MnistCNN

    torch.manual_seed(0)
    net = MnistCNN(channels=(4, 8), hidden=16).train()
    x = torch.rand(7, 1, 28, 28)
    feats = gen.penultimate_features(net, x)
    assert feats.shape == (7, 16) and (feats >= 0).all()  # after the ReLU
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net.classifier[-1](feats), net(x))  # the last layer maps them to the logits
    with pytest.raises(TypeError, match="features"):
        gen.penultimate_features(torch.nn.Linear(3, 2), x)


# --- Fréchet distance -----------------------------------------------------------------

def test_frechet_distance_known_cases():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    assert gen.frechet_distance(X, X) < 1e-8 * np.trace(np.cov(X, rowvar=False))
    shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0, 1.0])
    assert np.isclose(gen.frechet_distance(X, X + shift), shift @ shift, rtol=1e-8)
    # scaled copies: S_b = c^2 S_a, so the trace term is (1 - c)^2 tr(S_a)
    c = 1.7
    assert np.isclose(gen.frechet_distance(X, c * X), np.sum((X.mean(0) * (1 - c)) ** 2)
                      + (1 - c) ** 2 * np.trace(np.cov(X, rowvar=False)), rtol=1e-6)
    # one dimension: (mu_a - mu_b)^2 + (sigma_a - sigma_b)^2
    a, b = rng.normal(1.0, 2.0, size=(400, 1)), rng.normal(-1.0, 0.5, size=(300, 1))
    expected = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert np.isclose(gen.frechet_distance(a, b), expected, rtol=1e-8)
    assert np.isclose(gen.frechet_distance(torch.tensor(a), b), expected, rtol=1e-8)


def test_frechet_distance_rejects_bad_inputs():
    with pytest.raises(ValueError, match="same d"):
        gen.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        gen.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))
