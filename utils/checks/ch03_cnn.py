"""Checkers for section 3.2 (convolutional networks from scratch)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, tolerance


def _array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a NumPy array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {arr.shape}")
    return arr


def _out(n: int, k: int, p: int, s: int) -> int:
    return (n + 2 * p - k) // s + 1


# --- 3.2.1 output shape of a stack of layers -------------------------------------------

# Stacks the learner does not see: (input shape, layers). Rectangular images catch swapped axes.
_STACKS = [
    ((16, 3, 32, 32), [("conv", 16, 5, 2, 2), ("pool", 2, 2), ("conv", 32, 3, 0, 1)]),
    ((4, 1, 28, 20), [("conv", 8, 3, 1, 1), ("pool", 2, 2), ("conv", 12, 5, 0, 2)]),
    ((2, 3, 9, 13), [("pool", 3, 2), ("conv", 5, 2, 1, 3)]),
    ((3, 2, 31, 17), [("conv", 6, 4, 2, 3), ("conv", 7, 3, 1, 1), ("pool", 2, 2)]),
    ((5, 4, 7, 11), [("conv", 9, 7, 0, 1)]),
    ((1, 3, 64, 48), [("conv", 8, 7, 3, 2), ("pool", 3, 2), ("conv", 16, 3, 1, 2), ("pool", 2, 2)]),
]


def _stack_shape(input_shape, layers, *, padding=True, conv_stride=True, pool=True, channels=True,
                 swap=False, ceil=False, one_side=False):
    """The reference, with switches that reproduce common mistakes (each False/True is one mistake)."""
    N, C, H, W = input_shape

    def size(n, k, p, s):
        p = (p if padding else 0)
        top = n + (p if one_side else 2 * p) - k
        return -(-top // s) + 1 if ceil else top // s + 1

    for layer in layers:
        if layer[0] == "conv":
            _, filters, k, p, s = layer
            s = s if conv_stride else 1
            H, W = size(H, k, p, s), size(W, k, p, s)
            C = filters if channels else C
        else:
            _, k, s = layer
            if pool:
                H, W = size(H, k, 0, s), size(W, k, 0, s)
    return (N, C, W, H) if swap else (N, C, H, W)


@exercise("3.2.1", "output shape of a stack of convolutions and poolings")
def _check_output_shape(stack_output_shape) -> str:
    if not callable(stack_output_shape):
        raise Wrong("write a function stack_output_shape(input_shape, layers) that returns the shape; "
                    f"got a {type(stack_output_shape).__name__}")
    mistakes = [
        (dict(padding=False), "forgets the padding: a convolution with padding p adds p rows and columns "
                              "on each side before the kernel slides"),
        (dict(one_side=True), "adds the padding once; it goes on both sides, so n + 2p − k"),
        (dict(conv_stride=False), "ignores the stride of the convolutions: (n + 2p − k) // s + 1"),
        (dict(pool=False), "ignores the pooling layers; pooling with kernel k and stride s shrinks each axis "
                           "like a convolution without padding"),
        (dict(channels=False), "keeps the input's channels: a convolution outputs as many channels as it "
                               "has filters, and pooling keeps the channels"),
        (dict(swap=True), "swaps H and W: NCHW order is (N, C, H, W)"),
        (dict(ceil=True), "rounds up; the kernel must fit inside the padded image, so round down "
                          "(floor division)"),
    ]
    answers = []
    for input_shape, layers in _STACKS:
        got = stack_output_shape(tuple(input_shape), [tuple(layer) for layer in layers])
        where = f"stack_output_shape({input_shape}, {layers})"
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            raise Wrong(f"{where} should return a tuple of 4 integers (N, C, H, W), got {got!r}")
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in got):
            raise Wrong(f"{where}: all four entries should be integers, got {got!r}")
        answers.append(tuple(int(v) for v in got))
    expected = [_stack_shape(*stack) for stack in _STACKS]
    if answers == expected:
        return (f"right on {len(_STACKS)} stacks you did not see, e.g. (16, 3, 32, 32) → conv → pool → conv "
                f"→ {expected[0]}")
    for switches, reason in mistakes:  # a mistake that explains every answer
        if answers == [_stack_shape(*stack, **switches) for stack in _STACKS]:
            raise Wrong(f"your function {reason}")
    if len(set(answers)) == 1:
        raise Wrong(f"your function returns {answers[0]} for every stack; compute the shape from "
                    "input_shape and layers")
    first = next(i for i, (a, e) in enumerate(zip(answers, expected)) if a != e)
    (input_shape, layers), got, want = _STACKS[first], answers[first], expected[first]
    where = f"stack_output_shape({input_shape}, {layers}) = {got}, expected {want}"
    if got[0] != want[0]:
        raise Wrong(f"{where}: the batch size N does not change through convolutions and pooling")
    for switches, reason in mistakes:
        if got == _stack_shape(input_shape, layers, **switches):
            raise Wrong(f"{where}: your function {reason}")
    raise Wrong(f"{where}; apply floor((n + 2p − k) / s) + 1 to H and W, layer by layer")


# --- 3.2.2 strided, padded convolution with loops ------------------------------------------

@exercise("3.2.2", "convolution with stride and padding")
def _check_conv2d_strided(conv2d_strided) -> str:
    import torch

    rng = np.random.default_rng(322)
    cases = [((7, 7), (3, 3), 1, 0), ((9, 8), (3, 3), 2, 1), ((10, 7), (2, 3), 3, 2), ((5, 6), (5, 5), 1, 0),
             ((6, 6), (3, 3), 2, 0)]
    for (H, W), (kh, kw), stride, padding in cases:
        image, kernel = rng.normal(size=(H, W)), rng.normal(size=(kh, kw))
        expected = torch.nn.functional.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None],
                                              stride=stride, padding=padding).numpy()[0, 0]
        out = _array(conv2d_strided(image, kernel, stride=stride, padding=padding),
                     f"the output for a {H}x{W} image, {kh}x{kw} kernel, stride {stride}, padding {padding}")
        where = f"(image {H}x{W}, kernel {kh}x{kw}, stride {stride}, padding {padding})"
        if out.shape != expected.shape:
            no_stride = (H + 2 * padding - kh + 1, W + 2 * padding - kw + 1)
            if stride > 1 and out.shape == no_stride:
                raise Wrong(f"the output shape {out.shape} ignores the stride {where}; expected {expected.shape}: "
                            "move the window by `stride` pixels, floor((n + 2p − k) / s) + 1 positions per axis")
            if out.shape == (H, W):
                raise Wrong(f"the output has the input's size {(H, W)} {where}; it should be {expected.shape}: "
                            "floor((n + 2p − k) / s) + 1 per axis")
            raise Wrong(f"output shape {out.shape} {where}, expected {expected.shape}")
        if np.allclose(out, expected, atol=1e-10):
            continue
        flipped = torch.nn.functional.conv2d(torch.tensor(image)[None, None],
                                             torch.tensor(kernel[::-1, ::-1].copy())[None, None],
                                             stride=stride, padding=padding).numpy()[0, 0]
        if np.allclose(out, flipped, atol=1e-10):
            raise Wrong("you flipped the kernel (the convolution of mathematics); deep learning uses "
                        "cross-correlation: multiply each window by the kernel as it is")
        raise Wrong(f"the values differ from torch.nn.functional.conv2d {where} by up to "
                    f"{np.abs(out - expected).max():.3g} (the check allows {tolerance(1e-5, 1e-10)}); "
                    "each output is np.sum(window * kernel) of the padded image")
    return "equals torch.nn.functional.conv2d for five image/kernel/stride/padding combinations"


# --- 3.2.3 max-pool backward -----------------------------------------------------------

@exercise("3.2.3", "max-pooling backward pass")
def _check_max_pool_backward(max_pool_backward) -> str:
    import torch

    rng = np.random.default_rng(323)
    for shape in ((1, 1, 4, 4), (2, 3, 6, 8)):
        X = rng.normal(size=shape)
        N, C, H, W = shape
        dY = rng.normal(size=(N, C, H // 2, W // 2))
        X_t = torch.tensor(X, requires_grad=True)
        torch.nn.functional.max_pool2d(X_t, 2).backward(torch.tensor(dY))
        expected = X_t.grad.numpy()
        dX = _array(max_pool_backward(X, dY), f"the gradient for X of shape {shape}")
        if dX.shape != shape:
            raise Wrong(f"dX must have the shape of X {shape}, got {dX.shape}")
        if np.allclose(dX, expected, atol=1e-12):
            continue
        spread = np.repeat(np.repeat(dY, 2, axis=2), 2, axis=3)
        if np.allclose(dX, spread / 4):
            raise Wrong("you spread each gradient evenly over its window: that is average pooling's backward. "
                        "Max pooling sends all of it to the position of the maximum")
        if np.allclose(dX, spread):
            raise Wrong("every position in the window gets the full gradient; only the maximum influenced "
                        "the output, so the other three get 0")
        if np.allclose(dX[dX != 0], expected[dX != 0]) and np.count_nonzero(dX) < np.count_nonzero(expected):
            raise Wrong("some windows got no gradient at all: every window passes its dY to its maximum")
        raise Wrong(f"dX differs from torch's max_pool2d gradient for X of shape {shape} by up to "
                    f"{np.abs(dX - expected).max():.3g} (the check allows {tolerance(1e-5, 1e-12)})")
    return "equals PyTorch's gradient of max_pool2d(X, 2) for a single map and for a (2, 3, 6, 8) batch"


# --- 3.2.4 a vertical-edge kernel ------------------------------------------------------

@exercise("3.2.4", "design a vertical-edge kernel")
def _check_vertical_edge_kernel(kernel) -> str:
    from scipy import signal

    K = _array(kernel, "the kernel", (3, 3))
    if not np.all(np.isfinite(K)):
        raise Wrong("the kernel contains NaN or inf")
    flat = np.full((12, 12), 0.6)
    vertical = np.tile([0.0, 0.0, 0.0, 1.0, 1.0, 1.0], (12, 2))  # columns change: vertical edges
    horizontal = vertical.T.copy()
    respond = lambda img: np.abs(signal.correlate2d(img, K, mode="valid")).max()  # noqa: E731
    scale = np.abs(K).max()
    if scale == 0:
        raise Wrong("the kernel is all zeros: it responds to nothing")
    if respond(flat) > 1e-9 * scale:
        raise Wrong(f"on a flat image the response is {respond(flat):.3g}, not 0 (the check allows "
                    f"{1e-9 * scale:.2g}, 1e-9 times your largest weight): make the weights sum to 0 "
                    f"(yours sum to {K.sum():.3g})")
    if respond(horizontal) > 1e-9 * scale:
        raise Wrong(f"the kernel responds to horizontal stripes (up to {respond(horizontal):.3g}; the check "
                    f"allows {1e-9 * scale:.2g}): every row of the kernel must sum to 0 (yours: "
                    f"{K.sum(axis=1).tolist()}), so that a change from one row to the next is not seen")
    if respond(vertical) < 1e-6 * scale:
        raise Wrong("the kernel does not respond to vertical stripes: weigh the left and right columns differently")
    return "0 on flat regions and horizontal stripes, non-zero on vertical stripes"
