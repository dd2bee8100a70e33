"""Each checker of section 3.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests
from scipy import signal

from utils.checks.ch03_cnn import _stack_shape


def stack_output_shape(input_shape, layers, **mistake):
    return _stack_shape(input_shape, layers, **mistake)


def wrong_shape(**mistake):
    return lambda input_shape, layers: stack_output_shape(input_shape, layers, **mistake)


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

REFERENCE = {"3.2.1": stack_output_shape, "3.2.2": conv2d_strided, "3.2.3": max_pool_backward, "3.2.4": SOBEL_X}

WRONG = [
    ("3.2.1", wrong_shape(padding=False), "forgets the padding"),
    ("3.2.1", wrong_shape(one_side=True), "both sides"),
    ("3.2.1", wrong_shape(conv_stride=False), "ignores the stride"),
    ("3.2.1", wrong_shape(pool=False), "ignores the pooling"),
    ("3.2.1", wrong_shape(channels=False), "as many channels as it has filters"),
    ("3.2.1", wrong_shape(swap=True), "swaps H and W"),
    ("3.2.1", wrong_shape(ceil=True), "round down"),
    ("3.2.1", lambda shape, layers: (1, *stack_output_shape(shape, layers)[1:]), "batch size"),
    ("3.2.1", lambda shape, layers: stack_output_shape(shape, layers)[:3], "tuple of 4"),
    ("3.2.1", lambda shape, layers: tuple(float(v) for v in stack_output_shape(shape, layers)), "integers"),
    ("3.2.1", lambda shape, layers: (16, 32, 6, 6), "for every stack"),
    ("3.2.1", lambda shape, layers: stack_output_shape(shape, layers, padding=len(layers) != 2), "expected"),
    ("3.2.1", (16, 32, 6, 6), "write a function"),
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


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
