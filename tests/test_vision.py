"""Tests of utils.vision: the MNIST-5k split, MnistCNN, augment and the cached classifier."""
import numpy as np
import pytest
import torch

from utils import vision


def shifted(img: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Move a 2-D image by whole pixels (dx right, dy down), filling with zeros."""
    h, w = img.shape
    out = torch.zeros_like(img)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


# --- mnist_split -------------------------------------------------------------------

def test_mnist_split_shapes_types_and_stratification():
    X_train, y_train, X_test, y_test = vision.mnist_split()
    assert X_train.shape == (4000, 1, 28, 28) and X_test.shape == (1000, 1, 28, 28)
    assert X_train.dtype == torch.float32 and y_train.dtype == torch.int64
    assert 0 <= X_train.min() and X_train.max() <= 1
    # sorted data set, stratified split: 100 test images of every digit
    assert torch.bincount(y_test, minlength=10).tolist() == [100] * 10
    # the test labels are shuffled, not in class order
    assert (y_test[1:] != y_test[:-1]).float().mean() > 0.5


def test_mnist_split_is_repeatable_and_returns_copies():
    a = vision.mnist_split()
    a[0][0] += 5.0  # editing the result must not change the next call
    b = vision.mnist_split()
    assert b[0].max() <= 1
    assert torch.equal(a[1], b[1]) and torch.equal(a[3], b[3])
    c = vision.mnist_split(seed=1)
    assert not torch.equal(b[3], c[3])


# --- MnistCNN ------------------------------------------------------------------------

def test_mnist_cnn_shapes_and_modules():
    net = vision.MnistCNN()
    out = net(torch.zeros(3, 1, 28, 28))
    assert out.shape == (3, 10)
    kinds = {type(m).__name__ for m in net.modules()}
    assert {"Conv2d", "BatchNorm2d", "Dropout", "Linear"} <= kinds
    assert vision.MnistCNN(channels=(4, 8), hidden=16, num_classes=3)(torch.zeros(2, 1, 28, 28)).shape == (2, 3)


@pytest.mark.parametrize("kwargs", [dict(channels=(8,)), dict(channels=(8, 0)), dict(hidden=0),
                                    dict(dropout=1.0), dict(dropout=-0.1), dict(num_classes=1)])
def test_mnist_cnn_rejects_bad_config(kwargs):
    with pytest.raises(ValueError):
        vision.MnistCNN(**kwargs)


@pytest.mark.parametrize("shape", [(2, 28, 28), (2, 3, 28, 28), (2, 1, 32, 32)])
def test_mnist_cnn_rejects_bad_input_shape(shape):
    with pytest.raises(ValueError, match="1, 28, 28"):
        vision.MnistCNN()(torch.zeros(shape))


# --- augment -------------------------------------------------------------------------

def test_augment_keeps_shape_dtype_and_range():
    X = torch.rand(6, 1, 28, 28)
    Y = vision.augment(X, 0)
    assert Y.shape == X.shape and Y.dtype == X.dtype
    assert Y.min() >= 0 and Y.max() <= 1 + 1e-6
    assert not torch.allclose(X, Y)


def test_augment_is_deterministic_for_a_seed():
    X = torch.rand(4, 1, 28, 28)
    assert torch.equal(vision.augment(X, 7), vision.augment(X, 7))
    assert torch.equal(vision.augment(X, np.random.default_rng(3)), vision.augment(X, np.random.default_rng(3)))
    assert torch.equal(vision.augment(X, torch.Generator().manual_seed(5)),
                       vision.augment(X, torch.Generator().manual_seed(5)))
    assert not torch.equal(vision.augment(X, 7), vision.augment(X, 8))


def test_augment_integer_shift_is_exact_without_rotation():
    X = torch.rand(8, 1, 28, 28)
    Y = vision.augment(X, 11, max_shift=3, max_degrees=0)
    # replay the generator: angles first (unused), then the shifts
    g = torch.Generator().manual_seed(11)
    torch.rand(8, generator=g, dtype=torch.float64)
    shifts = torch.randint(-3, 4, (8, 2), generator=g)
    assert shifts.abs().sum() > 0
    for i, (dx, dy) in enumerate(shifts.tolist()):
        torch.testing.assert_close(Y[i, 0], shifted(X[i, 0], dx, dy), atol=1e-5, rtol=0)


def test_augment_identity_and_rotation_keeps_centre():
    X = torch.rand(3, 2, 28, 28)
    torch.testing.assert_close(vision.augment(X, 0, max_shift=0, max_degrees=0), X, atol=1e-5, rtol=0)
    # a centred disk is unchanged by rotation alone (up to interpolation at its rim)
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    disk = (((yy - 13.5) ** 2 + (xx - 13.5) ** 2) < 36).float()[None, None]
    rotated = vision.augment(disk, 1, max_shift=0, max_degrees=45)
    assert (rotated - disk).abs().sum() < 0.1 * disk.sum()


@pytest.mark.parametrize("bad, error", [
    (np.zeros((2, 1, 28, 28)), TypeError),
    (torch.zeros(1, 28, 28), ValueError),
    (torch.zeros(0, 1, 28, 28), ValueError),
    (torch.zeros(2, 1, 28, 28, dtype=torch.int64), TypeError),
])
def test_augment_rejects_bad_images(bad, error):
    with pytest.raises(error):
        vision.augment(bad, 0)


@pytest.mark.parametrize("kwargs", [dict(max_shift=-1), dict(max_shift=1.5), dict(max_degrees=-5),
                                    dict(max_degrees=200)])
def test_augment_rejects_bad_ranges(kwargs):
    with pytest.raises(ValueError):
        vision.augment(torch.zeros(1, 1, 28, 28), 0, **kwargs)


def test_augment_rejects_bad_generator():
    with pytest.raises(TypeError, match="Generator"):
        vision.augment(torch.zeros(1, 1, 28, 28), "seed")


# --- mnist_classifier ----------------------------------------------------------------

TINY = {
    "model": {"channels": [4, 8], "hidden": 16, "dropout": 0.1},
    "epochs": 1, "batch_size": 128, "lr": 3e-3, "weight_decay": 0.0, "seed": 0,
    "split": {"test_size": 0.2, "seed": 0}, "min_accuracy": 0.5,
}


def test_cache_name_depends_on_config(monkeypatch, tmp_path):
    default = vision.cache_path(tmp_path)
    assert default.parent == tmp_path and default.suffix == ".pt"
    monkeypatch.setattr(vision, "JUDGE_CONFIG", TINY)
    assert vision.cache_path(tmp_path) != default
    monkeypatch.setenv(vision.CACHE_ENV, str(tmp_path / "env"))
    assert vision.cache_path().parent == tmp_path / "env"


def test_classifier_is_trained_once_then_loaded(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(vision, "JUDGE_CONFIG", TINY)
    monkeypatch.setenv(vision.CACHE_ENV, str(tmp_path))
    net = vision.mnist_classifier(device="cpu")
    path = vision.cache_path()
    assert path.exists() and "trained" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    stamp = path.stat().st_mtime_ns

    def no_training(config):
        raise AssertionError("the cached model should have been loaded, not retrained")

    monkeypatch.setattr(vision, "_train_judge", no_training)
    again = vision.mnist_classifier(device="cpu")
    assert "loaded" in capsys.readouterr().out
    assert path.stat().st_mtime_ns == stamp
    X = vision.mnist_split()[2][:50]
    torch.testing.assert_close(net(X), again(X))


def test_classifier_leaves_the_callers_random_state_alone(monkeypatch, tmp_path):
    monkeypatch.setattr(vision, "JUDGE_CONFIG", TINY)
    for _ in range(2):  # first trained, then loaded: neither may consume the caller's draws
        torch.manual_seed(123)
        np.random.seed(5)
        vision.mnist_classifier(device="cpu", cache_dir=tmp_path, verbose=False)
        after = torch.rand(3)
        torch.manual_seed(123)
        assert torch.equal(after, torch.rand(3))
        assert np.random.rand() == np.random.RandomState(5).rand()


def test_classifier_refuses_a_weak_model(monkeypatch, tmp_path):
    weak = dict(TINY, min_accuracy=1.01)
    monkeypatch.setattr(vision, "JUDGE_CONFIG", weak)
    with pytest.raises(RuntimeError, match="held-out accuracy"):
        vision.mnist_classifier(device="cpu", cache_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_classifier_reports_a_corrupt_cache(monkeypatch, tmp_path):
    monkeypatch.setattr(vision, "JUDGE_CONFIG", TINY)
    path = vision.cache_path(tmp_path)
    path.write_bytes(b"not a model")
    with pytest.raises(RuntimeError, match="delete the file"):
        vision.mnist_classifier(device="cpu", cache_dir=tmp_path)


def test_classifier_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="device"):
        vision.mnist_classifier(device=3, cache_dir=tmp_path)
    with pytest.raises(TypeError, match="cache_dir"):
        vision.mnist_classifier(device="cpu", cache_dir=42)
