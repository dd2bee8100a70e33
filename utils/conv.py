"""Convolution and pooling in NumPy, built in chapter 3.2 (vectorised with im2col).

Images are batches in PyTorch's NCHW layout: ``X`` has shape
``(batch, channels, height, width)``; a convolution's weights ``W`` have shape
``(out_channels, in_channels, kernel_h, kernel_w)``. As in every deep-learning
library, "convolution" means *cross-correlation*: the kernel is not flipped,

    Y[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] * Xpad[n, c, i*stride + u, j*stride + v].

im2col copies every kernel-sized window into one row of a matrix, so the whole
convolution becomes one matrix product, and its backward pass two more
(col2im adds the window gradients back into place)::

    from utils import conv, nn
    net = nn.Sequential(conv.Conv2D(1, 8, 3, rng, padding=1), nn.ReLU(),
                        conv.MaxPool2D(2), conv.Flatten(), nn.Dense(8 * 4 * 4, 10, rng))

The layers follow the protocol of :mod:`utils.nn` (``params``, ``grads``,
``forward``, ``backward``) and match PyTorch in float64 (``tests/test_conv.py``).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from utils.nn import Layer, as_batch

__all__ = ["conv_output_size", "im2col", "col2im", "conv2d", "conv2d_backward",
           "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten"]


def _int(value, what: str, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {what} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name}: {what} must be at least {minimum}, got {value}")
    return int(value)


def _pair(value, what: str, name: str) -> tuple[int, int]:
    """A kernel size given as k or (kh, kw)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name}: {what} must be an int or a pair (h, w), got {value!r}")
        return _int(value[0], what, name, 1), _int(value[1], what, name, 1)
    k = _int(value, what, name, 1)
    return k, k


def conv_output_size(n: int, k: int, padding: int = 0, stride: int = 1) -> int:
    """Output length of a convolution or pooling along one axis: floor((n + 2p - k) / s) + 1.

    ``n`` input size, ``k`` kernel size, ``padding`` zeros added on *each* side,
    ``stride`` step between windows. Raises ``ValueError`` when the kernel does
    not fit in the padded input.
    """
    name = "conv_output_size"
    n = _int(n, "the input size n", name, 1)
    k = _int(k, "the kernel size k", name, 1)
    padding = _int(padding, "padding", name, 0)
    stride = _int(stride, "stride", name, 1)
    if k > n + 2 * padding:
        raise ValueError(f"the kernel (size {k}) is larger than the padded input (size {n} + 2 × {padding} "
                         f"= {n + 2 * padding}): it does not fit; use a smaller kernel or more padding")
    return (n + 2 * padding - k) // stride + 1


def _pad(X: np.ndarray, padding: int, value: float = 0.0) -> np.ndarray:
    if padding == 0:
        return X
    return np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=value)


def im2col(X: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0,
           pad_value: float = 0.0) -> tuple[np.ndarray, int, int]:
    """Windows of the NCHW batch ``X`` as rows: returns ``(cols, Ho, Wo)``.

    ``cols`` has shape ``(N * Ho * Wo, C * kh * kw)``; row ``(n, i, j)`` holds
    the window whose top-left corner is at ``(i * stride, j * stride)`` of the
    padded image, flattened in the order (channel, row, column), the same order
    as ``W.reshape(F, -1)``.
    """
    N, C, H, W = X.shape
    Ho = conv_output_size(H, kh, padding, stride)
    Wo = conv_output_size(W, kw, padding, stride)
    Xp = _pad(X, padding, pad_value)
    windows = np.lib.stride_tricks.sliding_window_view(Xp, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw), a view
    windows = windows[:, :, ::stride, ::stride][:, :, :Ho, :Wo]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * Ho * Wo, C * kh * kw)  # the one copy
    return cols, Ho, Wo


def col2im(cols: np.ndarray, X_shape: tuple, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The adjoint of :func:`im2col`: add every row of ``cols`` back into its window.

    Pixels covered by several windows receive the sum of their gradients, which is
    exactly the chain rule for a value used several times.
    """
    N, C, H, W = X_shape
    Ho = conv_output_size(H, kh, padding, stride)
    Wo = conv_output_size(W, kw, padding, stride)
    d = cols.reshape(N, Ho, Wo, C, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, Ho, Wo)
    dXp = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    for u in range(kh):  # kh * kw strided additions instead of N * Ho * Wo window additions
        for v in range(kw):
            dXp[:, :, u:u + stride * (Ho - 1) + 1:stride, v:v + stride * (Wo - 1) + 1:stride] += d[:, :, u, v]
    return dXp[:, :, padding:padding + H, padding:padding + W]


def _check_conv_args(X, W, b, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    X = as_batch(X, name, "input X")
    W = as_batch(W, name, "weights W")
    if W.ndim != 4:
        raise ValueError(f"{name}: weights must have shape (out_channels, in_channels, kh, kw), got {W.shape}")
    if X.ndim != 4 or X.shape[1] != W.shape[1]:
        raise ValueError(f"{name}: expected input of shape (batch, {W.shape[1]}, height, width) for weights "
                         f"of shape {W.shape}, got shape {X.shape}")
    if b is not None:
        b = np.asarray(b, dtype=np.float64)
        if b.shape != (W.shape[0],):
            raise ValueError(f"{name}: bias must have shape ({W.shape[0]},), one per output channel, got {b.shape}")
    return X, W, b


def _fit(X_shape, kh, kw, padding, stride, name) -> None:
    """A clear error when the kernel is larger than the (padded) image."""
    H, W = X_shape[2], X_shape[3]
    if kh > H + 2 * padding or kw > W + 2 * padding:
        raise ValueError(f"{name}: the {kh}x{kw} kernel does not fit in the {H}x{W} input with padding {padding} "
                         f"(padded {H + 2 * padding}x{W + 2 * padding}); use a smaller kernel or more padding")


def conv2d(X, W, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """2-D convolution (cross-correlation) of an NCHW batch, by im2col and one matrix product.

    Output shape (N, F, Ho, Wo) with Ho = conv_output_size(H, kh, padding, stride).
    Equals ``torch.nn.functional.conv2d(X, W, b, stride, padding)``.
    """
    name = "conv2d"
    X, W, b = _check_conv_args(X, W, b, name)
    stride, padding = _int(stride, "stride", name, 1), _int(padding, "padding", name, 0)
    F, _, kh, kw = W.shape
    _fit(X.shape, kh, kw, padding, stride, name)
    cols, Ho, Wo = im2col(X, kh, kw, stride, padding)
    Y = cols @ W.reshape(F, -1).T
    if b is not None:
        Y += b
    return Y.reshape(X.shape[0], Ho, Wo, F).transpose(0, 3, 1, 2)


def conv2d_backward(dY, X, W, stride: int = 1, padding: int = 0, cols: np.ndarray | None = None):
    """Gradients ``(dX, dW, db)`` of a convolution, given dLoss/dY.

    With ``dYm`` = dY as a (N*Ho*Wo, F) matrix: dW = dYm.T @ cols, db = column
    sums of dYm, and dX = col2im(dYm @ W_matrix). ``cols`` (from the forward
    pass) saves recomputing im2col.
    """
    name = "conv2d_backward"
    X, W, _ = _check_conv_args(X, W, None, name)
    stride, padding = _int(stride, "stride", name, 1), _int(padding, "padding", name, 0)
    F, C, kh, kw = W.shape
    _fit(X.shape, kh, kw, padding, stride, name)
    Ho = conv_output_size(X.shape[2], kh, padding, stride)
    Wo = conv_output_size(X.shape[3], kw, padding, stride)
    dY = as_batch(dY, name, "dY")
    if dY.shape != (X.shape[0], F, Ho, Wo):
        raise ValueError(f"{name}: dY must have the output's shape {(X.shape[0], F, Ho, Wo)}, got {dY.shape}")
    if cols is None:
        cols, _, _ = im2col(X, kh, kw, stride, padding)
    dYm = dY.transpose(0, 2, 3, 1).reshape(-1, F)
    dW = (dYm.T @ cols).reshape(W.shape)
    db = dYm.sum(axis=0)
    dX = col2im(dYm @ W.reshape(F, -1), X.shape, kh, kw, stride, padding)
    return dX, dW, db


def _check_image_batch(layer: Layer, X) -> np.ndarray:
    X = as_batch(X, str(layer))
    if X.ndim != 4:
        raise ValueError(f"{layer}: expected a 4-D input (batch, channels, height, width), got shape {X.shape}")
    return X


class Conv2D(Layer):
    """Convolution layer: ``params["W"]`` (out, in, kh, kw) and ``params["b"]`` (out,).

    He initialisation, N(0, 2 / (in * kh * kw)); biases start at 0. ``stride`` and
    ``padding`` (zeros on each side) are integers, the same along both axes.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, rng: np.random.Generator,
                 stride: int = 1, padding: int = 0):
        super().__init__()
        name = "Conv2D"
        self.in_channels = _int(in_channels, "in_channels", name, 1)
        self.out_channels = _int(out_channels, "out_channels", name, 1)
        self.kh, self.kw = _pair(kernel_size, "kernel_size", name)
        self.stride = _int(stride, "stride", name, 1)
        self.padding = _int(padding, "padding", name, 0)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{self}: rng must be a numpy Generator, got {type(rng).__name__}")
        std = math.sqrt(2.0 / (in_channels * self.kh * self.kw))
        self.params = {"W": rng.normal(0.0, std, size=(out_channels, in_channels, self.kh, self.kw)),
                       "b": np.zeros(out_channels)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, X):
        X = _check_image_batch(self, X)
        if X.shape[1] != self.in_channels:
            raise ValueError(f"{self}: expected input of shape (batch, {self.in_channels}, height, width), "
                             f"got shape {X.shape}")
        _fit(X.shape, self.kh, self.kw, self.padding, self.stride, str(self))
        W = self.params["W"]
        cols, Ho, Wo = im2col(X, self.kh, self.kw, self.stride, self.padding)
        Y = (cols @ W.reshape(self.out_channels, -1).T + self.params["b"])
        Y = Y.reshape(X.shape[0], Ho, Wo, self.out_channels).transpose(0, 3, 1, 2)
        self._X, self._cols = X, cols
        self._out_shape = Y.shape
        return Y

    def backward(self, dY):
        dY = self._check_dY(dY)
        dX, self.grads["W"], self.grads["b"] = conv2d_backward(
            dY, self._X, self.params["W"], self.stride, self.padding, cols=self._cols)
        return dX

    @classmethod
    def from_torch(cls, conv) -> "Conv2D":
        """A Conv2D holding a copy of a ``torch.nn.Conv2d``'s weights (float64)."""
        stride, padding = conv.stride, conv.padding
        if isinstance(padding, str) or len(set(stride)) != 1 or len(set(padding)) != 1 \
                or conv.groups != 1 or set(conv.dilation) != {1}:
            raise ValueError("Conv2D.from_torch supports equal integer stride and padding on both axes, "
                             f"groups=1 and dilation=1; got stride={stride}, padding={padding}, "
                             f"groups={conv.groups}, dilation={conv.dilation}")
        layer = cls(conv.in_channels, conv.out_channels, tuple(conv.kernel_size), np.random.default_rng(0),
                    stride=stride[0], padding=padding[0])
        layer.params["W"] = conv.weight.detach().cpu().double().numpy().copy()
        if conv.bias is not None:
            layer.params["b"] = conv.bias.detach().cpu().double().numpy().copy()
        return layer

    def __repr__(self) -> str:
        extra = (f", stride {self.stride}" if self.stride != 1 else "") + \
                (f", padding {self.padding}" if self.padding else "")
        return f"Conv2D({self.in_channels} -> {self.out_channels}, {self.kh}x{self.kw}{extra})"


class _Pool2D(Layer):
    """Shared code of the pooling layers: every channel is pooled on its own."""

    pad_value = 0.0

    def __init__(self, kernel_size, stride=None, padding: int = 0):
        super().__init__()
        name = type(self).__name__
        self.kh, self.kw = _pair(kernel_size, "kernel_size", name)
        self.stride = self.kh if stride is None else _int(stride, "stride", name, 1)
        if stride is None and self.kh != self.kw:
            raise ValueError(f"{name}: give a stride for a non-square kernel {self.kh}x{self.kw}")
        self.padding = _int(padding, "padding", name, 0)
        if self.padding > min(self.kh, self.kw) // 2:
            raise ValueError(f"{self}: padding {self.padding} must be at most half the kernel size "
                             f"({min(self.kh, self.kw) // 2}), as in PyTorch")

    def _windows(self, X):
        X = _check_image_batch(self, X)
        _fit(X.shape, self.kh, self.kw, self.padding, self.stride, str(self))
        N, C, H, W = X.shape
        cols, Ho, Wo = im2col(X.reshape(N * C, 1, H, W), self.kh, self.kw, self.stride, self.padding,
                              pad_value=self.pad_value)
        self._X_shape, self._Ho, self._Wo = X.shape, Ho, Wo
        return cols  # (N * C * Ho * Wo, kh * kw)

    def _to_image(self, dcols):
        N, C, H, W = self._X_shape
        dX = col2im(dcols, (N * C, 1, H, W), self.kh, self.kw, self.stride, self.padding)
        return dX.reshape(N, C, H, W)

    def __repr__(self) -> str:
        extra = f", padding {self.padding}" if self.padding else ""
        return f"{type(self).__name__}({self.kh}x{self.kw}, stride {self.stride}{extra})"


class MaxPool2D(_Pool2D):
    """Maximum over each window. Backward sends each output gradient to the arg-max input
    (the first one on ties, as PyTorch does). Padding is -inf, so it never wins."""

    pad_value = -np.inf

    def forward(self, X):
        cols = self._windows(X)
        self._argmax = cols.argmax(axis=1)
        Y = cols[np.arange(len(cols)), self._argmax]
        N, C = self._X_shape[:2]
        Y = Y.reshape(N, C, self._Ho, self._Wo)
        self._out_shape = Y.shape
        return Y

    def backward(self, dY):
        dY = self._check_dY(dY)
        dcols = np.zeros((dY.size, self.kh * self.kw))
        dcols[np.arange(dY.size), self._argmax] = dY.reshape(-1)
        return self._to_image(dcols)


class AvgPool2D(_Pool2D):
    """Mean over each window (zero padding counted in the mean, PyTorch's default).
    Backward spreads each output gradient evenly over its window."""

    def forward(self, X):
        cols = self._windows(X)
        N, C = self._X_shape[:2]
        Y = cols.mean(axis=1).reshape(N, C, self._Ho, self._Wo)
        self._out_shape = Y.shape
        return Y

    def backward(self, dY):
        dY = self._check_dY(dY)
        k = self.kh * self.kw
        dcols = np.repeat(dY.reshape(-1, 1) / k, k, axis=1)
        return self._to_image(dcols)


class Flatten(Layer):
    """(batch, d1, d2, ...) -> (batch, d1 * d2 * ...), the bridge from conv to dense layers."""

    def forward(self, X):
        X = as_batch(X, str(self))
        self._in_shape = X.shape
        Y = X.reshape(X.shape[0], -1)
        self._out_shape = Y.shape
        return Y

    def backward(self, dY):
        dY = self._check_dY(dY)
        return dY.reshape(self._in_shape)
