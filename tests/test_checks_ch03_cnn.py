"""Each checker of section 3.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
from scipy import signal

from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate


def stub(*args, **kwargs):
    raise NotImplementedError


def conv2d_strided(image, kernel, stride=1, padding=0, flip=False, same=False, ignore_stride=False):
    if flip:
        kernel = kernel[::-1, ::-1]
    padded = np.pad(image, padding)
    kh, kw = kernel.shape
    step = 1 if ignore_stride else stride
    Ho, Wo = (padded.shape[0] - kh) // step + 1, (padded.shape[1] - kw) // step + 1
    out = np.zeros(image.shape if same else (Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[i, j] = np.sum(padded[i * step:i * step + kh, j * step:j * step + kw] * kernel)
    return out


def max_pool_backward(X, dY, mode="max"):
    N, C, H, W = X.shape
    windows = X.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H // 2, W // 2, 4)
    if mode == "max":
        weights = windows == windows.max(axis=-1, keepdims=True)
    elif mode == "avg":
        weights = np.full(windows.shape, 0.25)
    else:
        weights = np.ones(windows.shape)
    d = weights * dY[..., None]
    return d.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(N, C, H, W)


SOBEL_X = np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])

REFERENCE = {"3.2.1": (16, 32, 6, 6), "3.2.2": conv2d_strided, "3.2.3": max_pool_backward, "3.2.4": SOBEL_X}

WRONG = [
    ("3.2.1", (16, 32, 5, 5), "padding"),
    ("3.2.1", (16, 32, 14, 14), "stride"),
    ("3.2.1", (16, 32, 8, 8), "no padding, so it shrinks"),
    ("3.2.1", (16, 16, 6, 6), "32"),
    ("3.2.1", (16, 6, 6, 32), "NCHW"),
    ("3.2.1", (1, 32, 6, 6), "batch size"),
    ("3.2.1", [16, 32, 6], "tuple of 4"),
    ("3.2.1", (16, 32, 7, 7), "floor"),
    ("3.2.2", lambda im, k, stride=1, padding=0: conv2d_strided(im, k, stride, padding, flip=True), "flipped"),
    ("3.2.2", lambda im, k, stride=1, padding=0: conv2d_strided(im, k, stride, padding, same=True), "input's size"),
    ("3.2.2", lambda im, k, stride=1, padding=0: conv2d_strided(im, k, stride, padding, ignore_stride=True),
     "ignores the stride"),
    ("3.2.2", lambda im, k, stride=1, padding=0: signal.correlate2d(im, k, "valid"), "output shape"),
    ("3.2.3", lambda X, dY: max_pool_backward(X, dY, "avg"), "average pooling"),
    ("3.2.3", lambda X, dY: max_pool_backward(X, dY, "all"), "full gradient"),
    ("3.2.3", lambda X, dY: dY, "shape of X"),
    ("3.2.4", SOBEL_X.T, "horizontal stripes"),
    ("3.2.4", SOBEL_X + 1, "flat image"),
    ("3.2.4", np.zeros((3, 3)), "all zeros"),
    ("3.2.4", np.eye(2), "shape (3, 3)"),
]


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_reference_answer_passes(id):
    result = evaluate(id, REFERENCE[id])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("id, answer, phrase", WRONG)
def test_wrong_answer_is_rejected_with_a_reason(id, answer, phrase):
    result = evaluate(id, answer)
    assert result.status == FAILED
    assert phrase in result.message, result.message


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_stub_is_not_attempted(id):
    answer = ... if id in ("3.2.1", "3.2.4") else stub
    assert evaluate(id, answer).status == NOT_ATTEMPTED
