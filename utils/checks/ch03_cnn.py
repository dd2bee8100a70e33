"""Checkers for section 3.2 (convolutional networks from scratch)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise


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


# --- 3.2.1 output shape of a small stack ----------------------------------------------

@exercise("3.2.1", "output shape of a conv-pool-conv stack")
def _check_output_shape(shape) -> str:
    if not isinstance(shape, (tuple, list)) or len(shape) != 4:
        raise Wrong(f"give the shape as a tuple of 4 integers (N, C, H, W), got {shape!r}")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in shape):
        raise Wrong(f"all four entries should be integers, got {shape!r}")
    shape = tuple(int(v) for v in shape)
    h1 = _out(32, 5, 2, 2)  # 16
    h2 = _out(h1, 2, 0, 2)  # 8
    h3 = _out(h2, 3, 0, 1)  # 6
    expected = (16, 32, h3, h3)
    if shape == expected:
        return f"(16, 3, 32, 32) → conv → (16, 16, {h1}, {h1}) → pool → (16, 16, {h2}, {h2}) → conv → {expected}"
    no_padding = _out(_out(_out(32, 5, 0, 2), 2, 0, 2), 3, 0, 1)
    no_stride = _out(_out(_out(32, 5, 2, 1), 2, 0, 2), 3, 0, 1)
    same_size = h2
    if shape[0] != 16:
        raise Wrong("the batch size N does not change through convolutions and pooling: it stays 16")
    if shape[1] == 16:
        raise Wrong("the output has as many channels as the last convolution has filters: 32")
    if shape[1] != 32 and shape[3] == 32:
        raise Wrong("NCHW order: channels come second, (N, C, H, W)")
    if shape[1] != 32:
        raise Wrong(f"the last convolution has 32 filters, so C = 32; you have C = {shape[1]}")
    if shape[2] != shape[3]:
        raise Wrong("the image is square and every layer treats both axes alike: H must equal W")
    if shape[2] == no_padding:
        raise Wrong(f"H = {no_padding} forgets the padding of 2 in the first convolution: "
                    "(32 + 2·2 − 5) // 2 + 1 = 16")
    if shape[2] == no_stride:
        raise Wrong(f"H = {no_stride} forgets the stride of 2 in the first convolution")
    if shape[2] == same_size:
        raise Wrong(f"H = {same_size}: the last 3x3 convolution has no padding, so it shrinks the maps by 2")
    raise Wrong(f"H = W = {shape[2]} is not right; apply floor((n + 2p − k) / s) + 1 three times, layer by layer")


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
                    f"{np.abs(out - expected).max():.3g}; each output is np.sum(window * kernel) of the padded image")
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
                    f"{np.abs(dX - expected).max():.3g}")
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
        raise Wrong(f"on a flat image the response is {respond(flat):.3g}, not 0: make the weights sum to 0 "
                    f"(yours sum to {K.sum():.3g})")
    if respond(horizontal) > 1e-9 * scale:
        raise Wrong(f"the kernel responds to horizontal stripes: every row of the kernel must sum to 0 "
                    f"(yours: {np.round(K.sum(axis=1), 3).tolist()}), so that a change from one row to the "
                    "next is not seen")
    if respond(vertical) < 1e-6 * scale:
        raise Wrong("the kernel does not respond to vertical stripes: weigh the left and right columns differently")
    return "0 on flat regions and horizontal stripes, non-zero on vertical stripes"
