"""Neural-network layers, losses and optimisers in NumPy, built in chapter 3.1.

Every layer follows one small protocol, so that layers compose and later
chapters (CNN, RNN, attention) reuse them::

    layer.params   # dict name -> float64 array (trainable; may be empty)
    layer.grads    # same keys and shapes, filled (overwritten) by backward()
    Y  = layer.forward(X)    # also layer(X); caches what backward needs
    dX = layer.backward(dY)  # dY = dLoss/dY, returns dLoss/dX and fills layer.grads

Batches are row-major: ``X`` has shape ``(batch, features)`` for a dense layer
(``(batch, channels, height, width)`` for images). Gradients are *overwritten*
by each ``backward()``, never accumulated, so there is no ``zero_grad``.

    from utils import nn
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Dense(64, 32, rng), nn.ReLU(), nn.Dense(32, 10, rng))
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = nn.Adam(net, lr=1e-3)
    loss = loss_fn(net(X), y)
    net.backward(loss_fn.backward())
    optimizer.step()

Each piece is checked against PyTorch in float64 (forward and backward to
1e-6) in chapter 3.1 and in ``tests/test_nn.py``.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable, Iterator

import numpy as np

__all__ = [
    "Layer", "Sigmoid", "Tanh", "ReLU", "GELU", "Dense", "SoftmaxCrossEntropy", "SigmoidBCE",
    "Sequential", "SGD", "Momentum", "Adam", "numerical_gradient", "relative_error", "gradient_errors",
    "gradient_check", "as_batch",
]


# --- input validation ----------------------------------------------------------

def as_batch(X, name: str, what: str = "input") -> np.ndarray:
    """``X`` as a float64 array with a non-empty batch axis, or a clear error naming ``name``.

    Non-numeric input gives ``TypeError``; a 0-d array, an empty batch, or NaN/inf
    values give ``ValueError``.
    """
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name}: {what} must be a numeric array, got {type(X).__name__}")
    arr = np.asarray(X)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name}: {what} must be a numeric array, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name}: {what} must be real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim == 0:
        raise ValueError(f"{name}: {what} must have a batch axis, got a scalar; "
                         "wrap a single example as X[None]")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: {what} is an empty batch (shape {arr.shape}); "
                         "check the data split and the batch size")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name}: {what} contains NaN or inf "
                         f"({int(np.isnan(arr).sum())} NaN, {int(np.isinf(arr).sum())} inf); "
                         "check the data, or lower the learning rate if training diverged")
    return arr


def _check_rng(rng, name: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name}: rng must be a numpy Generator (rng = np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def _check_positive_int(value, what: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {what} must be an integer, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name}: {what} must be at least 1, got {value}")
    return int(value)


# --- the protocol ---------------------------------------------------------------

class Layer:
    """Base class: a layer with ``params``/``grads`` dicts, ``forward`` and ``backward``."""

    def __init__(self):
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self._out_shape: tuple | None = None  # the shape of the last forward output

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X):  # pragma: no cover - overridden
        raise NotImplementedError

    def backward(self, dY):  # pragma: no cover - overridden
        raise NotImplementedError

    def parameters(self) -> Iterator[tuple["Layer", str]]:
        """``(layer, name)`` pairs of the trainable arrays: ``layer.params[name]``."""
        for name in self.params:
            yield self, name

    def _check_dY(self, dY) -> np.ndarray:
        """dY must have the shape of the last output: catches a backward without a forward."""
        if self._out_shape is None:
            raise RuntimeError(f"{self}: backward() called before forward(); run forward first")
        dY = as_batch(dY, str(self), "the upstream gradient dY")
        if dY.shape != self._out_shape:
            raise ValueError(f"{self}: backward expected dY of shape {self._out_shape} "
                             f"(the shape of the last output), got {dY.shape}")
        return dY

    def __repr__(self) -> str:
        return type(self).__name__ + "()"


class Activation(Layer):
    """An element-wise function ``f`` with derivative ``f'``: ``dX = dY * f'(X)``.

    ``df`` receives both the input ``x`` and the output ``y = f(x)``: sigmoid and
    tanh write their derivatives with ``y`` and so need no second ``exp``.
    """

    def forward(self, X):
        X = as_batch(X, str(self))
        Y = self.f(X)
        self._X, self._Y = X, Y
        self._out_shape = Y.shape
        return Y

    def backward(self, dY):
        dY = self._check_dY(dY)
        return dY * self.df(self._X, self._Y)

    def f(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def df(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class Sigmoid(Activation):
    """sigma(x) = 1 / (1 + exp(-x)); sigma'(x) = sigma(x) (1 - sigma(x)) <= 1/4."""

    def f(self, x):
        # exp(-|x|) never overflows; both branches give the same value
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def df(self, x, y):
        return y * (1.0 - y)


class Tanh(Activation):
    """tanh(x); tanh'(x) = 1 - tanh(x)^2 <= 1."""

    def f(self, x):
        return np.tanh(x)

    def df(self, x, y):
        return 1.0 - y**2


class ReLU(Activation):
    """max(0, x); the derivative is 1 for x > 0 and 0 otherwise (0 at x = 0, as in PyTorch)."""

    def f(self, x):
        return np.maximum(x, 0.0)

    def df(self, x, y):
        return (x > 0).astype(np.float64)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class GELU(Activation):
    """Gaussian error linear unit, GELU(x) = x * Phi(x) (Phi: the standard normal CDF).

    ``approximate="none"`` (the default, as in ``torch.nn.GELU``) uses the exact
    erf form, Phi(x) = (1 + erf(x / sqrt 2)) / 2. ``approximate="tanh"`` uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the form of the original
    GPT-2 code, which agrees with the exact one to about 5e-4.
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' (exact erf) or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def f(self, x):
        if self.approximate == "tanh":
            return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3)))
        from scipy.special import erf  # scipy comes with scikit-learn

        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))

    def df(self, x, y=None):
        if self.approximate == "tanh":
            t = np.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x**3))
            return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * x**2)
        from scipy.special import erf

        cdf = 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
        pdf = np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)
        return cdf + x * pdf

    def __repr__(self) -> str:
        return f"GELU(approximate={self.approximate!r})"


class Dense(Layer):
    """Fully connected layer ``Y = X @ W + b`` with ``W`` of shape (in_features, out_features).

    Backward (row-major batches ``X``: (batch, in), ``dY``: (batch, out))::

        dW = X.T @ dY        (in, out)
        db = dY.sum(axis=0)  (out,)
        dX = dY @ W.T        (batch, in)

    ``init="he"`` (default) draws W from N(0, 2/in), suited to ReLU;
    ``init="xavier"`` from N(0, 2/(in+out)), suited to tanh and sigmoid. Biases start at 0. PyTorch's ``nn.Linear`` stores the transpose,
    ``weight`` of shape (out, in): :meth:`from_torch` copies it over.
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, init: str = "he"):
        super().__init__()
        name = f"Dense({in_features} -> {out_features})"
        self.in_features = _check_positive_int(in_features, "in_features", name)
        self.out_features = _check_positive_int(out_features, "out_features", name)
        _check_rng(rng, name)
        if init == "he":
            std = math.sqrt(2.0 / in_features)
        elif init == "xavier":
            std = math.sqrt(2.0 / (in_features + out_features))
        else:
            raise ValueError(f"{name}: init must be 'he' or 'xavier', got {init!r}")
        self.params = {"W": rng.normal(0.0, std, size=(in_features, out_features)),
                       "b": np.zeros(out_features)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def forward(self, X):
        X = as_batch(X, str(self))
        if X.ndim != 2 or X.shape[1] != self.in_features:
            raise ValueError(f"{self}: expected input with {self.in_features} features, "
                             f"shape (batch, {self.in_features}), got shape {X.shape}")
        self._X = X
        Y = X @ self.params["W"] + self.params["b"]
        self._out_shape = Y.shape
        return Y

    def backward(self, dY):
        dY = self._check_dY(dY)
        self.grads["W"] = self._X.T @ dY
        self.grads["b"] = dY.sum(axis=0)
        return dY @ self.params["W"].T

    @classmethod
    def from_torch(cls, linear) -> "Dense":
        """A Dense layer holding a copy of a ``torch.nn.Linear``'s weights (as float64).

        A Linear without bias (``bias=False``) gives ``b = 0``, which stays trainable here.
        """
        layer = cls(linear.in_features, linear.out_features, np.random.default_rng(0))
        layer.params["W"] = linear.weight.detach().cpu().double().numpy().T.copy()
        if linear.bias is not None:
            layer.params["b"] = linear.bias.detach().cpu().double().numpy().copy()
        return layer

    def __repr__(self) -> str:
        return f"Dense({self.in_features} -> {self.out_features})"


# --- losses -------------------------------------------------------------------------

class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) for one-of-many classification.

    ``forward(logits, y)``: logits (batch, classes); ``y`` integer labels (batch,)
    or target probabilities (batch, classes). Returns the mean loss in nats,
    computed with the log-sum-exp trick (no overflow). ``backward()`` returns
    dLoss/dlogits = (softmax(logits) - one_hot(y)) / batch. Same as
    ``torch.nn.functional.cross_entropy``.
    """

    def __init__(self):
        self._cache = None

    def __call__(self, logits, y):
        return self.forward(logits, y)

    def forward(self, logits, y) -> float:
        Z = as_batch(logits, str(self), "logits")
        if Z.ndim != 2:
            raise ValueError(f"{self}: logits must have shape (batch, classes), got {Z.shape}")
        n, k = Z.shape
        y_arr = np.asarray(y)
        if y_arr.ndim == 1:
            if y_arr.shape[0] != n:
                raise ValueError(f"{self}: logits have shape {Z.shape} but labels y have shape "
                                 f"{y_arr.shape}; need one label per row")
            if not np.issubdtype(y_arr.dtype, np.integer):
                raise TypeError(f"{self}: labels y must be integers (class indices), got dtype {y_arr.dtype}; "
                                "use y.astype(int), or pass target probabilities of shape (batch, classes)")
            if y_arr.min() < 0 or y_arr.max() >= k:
                raise ValueError(f"{self}: labels must be in [0, {k}) for {k} classes, "
                                 f"got values from {y_arr.min()} to {y_arr.max()}")
            T = np.zeros_like(Z)
            T[np.arange(n), y_arr] = 1.0
        else:
            T = as_batch(y_arr, str(self), "target probabilities")
            if T.shape != Z.shape:
                raise ValueError(f"{self}: logits have shape {Z.shape} but targets have shape {T.shape}")
            if (T < 0).any() or not np.allclose(T.sum(axis=1), 1.0):
                raise ValueError(f"{self}: target rows must be probability distributions (>= 0, summing to 1)")
        shifted = Z - Z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self._cache = (np.exp(log_p), T)
        return float(-(T * log_p).sum() / n)

    def backward(self) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{self}: backward() called before forward(logits, y)")
        P, T = self._cache
        return (P - T) / len(P)

    @property
    def probs(self) -> np.ndarray:
        """Softmax probabilities from the last forward pass."""
        if self._cache is None:
            raise RuntimeError(f"{self}: no forward pass yet")
        return self._cache[0]

    def __repr__(self) -> str:
        return "SoftmaxCrossEntropy()"


class SigmoidBCE:
    """Mean binary cross-entropy of sigmoid(logits) for multi-label outputs.

    ``forward(logits, Y)``: logits and targets of the same shape (batch, labels),
    targets in [0, 1] (each label independently on or off). Returns the mean over
    all entries, computed stably as max(z, 0) - z y + log(1 + exp(-|z|)).
    ``backward()`` returns (sigmoid(z) - y) / number of entries. Same as
    ``torch.nn.functional.binary_cross_entropy_with_logits``.
    """

    def __init__(self):
        self._cache = None

    def __call__(self, logits, Y):
        return self.forward(logits, Y)

    def forward(self, logits, Y) -> float:
        Z = as_batch(logits, str(self), "logits")
        T = as_batch(Y, str(self), "targets")
        if T.shape != Z.shape:
            raise ValueError(f"{self}: logits have shape {Z.shape} but targets have shape {T.shape}; "
                             "they must match (one 0/1 target per output)")
        if (T < 0).any() or (T > 1).any():
            raise ValueError(f"{self}: targets must be in [0, 1], got values from {T.min()} to {T.max()}")
        losses = np.maximum(Z, 0) - Z * T + np.log1p(np.exp(-np.abs(Z)))
        self._cache = (Sigmoid().f(Z), T)
        return float(losses.mean())

    def backward(self) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{self}: backward() called before forward(logits, Y)")
        P, T = self._cache
        return (P - T) / P.size

    def __repr__(self) -> str:
        return "SigmoidBCE()"


# --- containers -------------------------------------------------------------------

class Sequential(Layer):
    """Layers applied in order; ``backward`` goes through them in reverse."""

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one layer")
        for i, layer in enumerate(layers):
            if not (hasattr(layer, "forward") and hasattr(layer, "backward")):
                raise TypeError(f"Sequential: item {i} ({type(layer).__name__}) is not a layer "
                                "with forward() and backward()")
        self.layers = list(layers)

    def forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    def backward(self, dY):
        for layer in reversed(self.layers):
            dY = layer.backward(dY)
        return dY

    def parameters(self) -> Iterator[tuple[Layer, str]]:
        for layer in self.layers:
            yield from layer.parameters()

    def num_parameters(self) -> int:
        return sum(layer.params[name].size for layer, name in self.parameters())

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        return "Sequential(" + ", ".join(map(repr, self.layers)) + ")"


# --- optimisers -------------------------------------------------------------------

class Optimizer:
    """Updates ``layer.params[name]`` in place from ``layer.grads[name]`` for every pair."""

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        if hasattr(params, "parameters"):
            params = params.parameters()
        self.pairs: list[tuple[Layer, str]] = list(params)
        if not self.pairs:
            raise ValueError(f"{type(self).__name__}: no parameters to optimise")
        for pair in self.pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2 and pair[1] in getattr(pair[0], "params", {})):
                raise TypeError(f"{type(self).__name__}: expected a Sequential/Layer or (layer, name) pairs, "
                                f"got {pair!r}")
        for value, what in ((lr, "lr"), (weight_decay, "weight_decay")):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{type(self).__name__}: {what} must be a finite number >= 0, got {value!r}")
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.t = 0  # number of steps taken

    def _grad(self, layer, name) -> np.ndarray:
        g = layer.grads[name]
        if g.shape != layer.params[name].shape:
            raise ValueError(f"{type(self).__name__}: gradient of {layer}.{name} has shape {g.shape}, "
                             f"the parameter {layer.params[name].shape}")
        return g + self.weight_decay * layer.params[name] if self.weight_decay else g

    def step(self) -> None:
        self.t += 1
        for i, (layer, name) in enumerate(self.pairs):
            layer.params[name] -= self._update(i, self._grad(layer, name))

    def _update(self, i: int, g: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError


class SGD(Optimizer):
    """Plain stochastic gradient descent: theta <- theta - lr * g (as ``torch.optim.SGD``)."""

    def __init__(self, params, lr: float = 0.01, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)

    def _update(self, i, g):
        return self.lr * g


class Momentum(Optimizer):
    """SGD with momentum, PyTorch's convention: v <- mu v + g; theta <- theta - lr v.

    Same as ``torch.optim.SGD(params, lr, momentum=mu)`` (dampening 0, the first
    step sets v = g).
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if not 0 <= momentum < 1:
            raise ValueError(f"Momentum: momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.velocity: list[np.ndarray | None] = [None] * len(self.pairs)

    def _update(self, i, g):
        v = self.velocity[i]
        self.velocity[i] = g.copy() if v is None else self.momentum * v + g
        return self.lr * self.velocity[i]


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction, as ``torch.optim.Adam``::

        m <- b1 m + (1 - b1) g            v <- b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^t)            v_hat = v / (1 - b2^t)
        theta <- theta - lr * m_hat / (sqrt(v_hat) + eps)

    m and v start at 0, so early on they are too small by the factors (1 - b1^t)
    and (1 - b2^t); the corrections undo that. Without them the first steps
    would be about 3 (up to 6.5) times larger than ``lr``.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"Adam: eps must be > 0, got {eps}")
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        self.m = [np.zeros_like(layer.params[name]) for layer, name in self.pairs]
        self.v = [np.zeros_like(layer.params[name]) for layer, name in self.pairs]

    def _update(self, i, g):
        self.m[i] = self.b1 * self.m[i] + (1 - self.b1) * g
        self.v[i] = self.b2 * self.v[i] + (1 - self.b2) * g * g
        m_hat = self.m[i] / (1 - self.b1**self.t)
        v_hat = self.v[i] / (1 - self.b2**self.t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# --- gradient checking -------------------------------------------------------------

def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f`` at the float64 array ``x``.

    Each entry of ``x`` is nudged by +-eps **in place** (and restored), so ``f``
    may read ``x`` through a closure (e.g. a layer's own weight array):
    (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). Costs 2 evaluations of f per entry.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("numerical_gradient: x must be a float64 NumPy array (it is changed in place "
                        f"and restored), got {type(x).__name__} {getattr(x, 'dtype', '')}")
    if not eps > 0:
        raise ValueError(f"numerical_gradient: eps must be > 0, got {eps}")
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        f_plus = float(f(x))
        x[i] = old - eps
        f_minus = float(f(x))
        x[i] = old
        grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / max(‖a‖ + ‖b‖, 1e-30): about 1e-9 for a correct gradient, > 1e-2 for a wrong one."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-30))


def gradient_errors(net, X, y=None, loss=None, eps: float = 1e-6, seed: int = 0) -> dict[str, float]:
    """Relative error between backprop and central differences for every gradient of ``net``.

    With a ``loss`` (e.g. :class:`SoftmaxCrossEntropy`) the scalar is
    ``loss(net(X), y)``; without one it is ``sum(R * net(X))`` for a fixed random
    ``R`` (so every output gets a different weight). Returns a dict
    ``{"X": err, "<layer index>.<name>": err, ...}``.
    """
    X = np.array(as_batch(X, "gradient_check", "X"), dtype=np.float64)  # a private copy we may nudge
    Y = net.forward(X)
    R = np.random.default_rng(seed).normal(size=np.shape(Y))

    def scalar(_=None) -> float:
        out = net.forward(X)
        return loss.forward(out, y) if loss is not None else float(np.sum(R * out))

    scalar()
    dY = loss.backward() if loss is not None else R
    analytic = {"X": net.backward(dY)}
    layers = net.layers if isinstance(net, Sequential) else [net]
    for i, layer in enumerate(layers):
        for name in layer.params:
            analytic[f"{i}.{name}"] = np.array(layer.grads[name], copy=True)
    errors = {"X": relative_error(analytic["X"], numerical_gradient(scalar, X, eps))}
    for i, layer in enumerate(layers):
        for name in layer.params:
            numeric = numerical_gradient(scalar, layer.params[name], eps)
            errors[f"{i}.{name}"] = relative_error(analytic[f"{i}.{name}"], numeric)
    scalar()  # leave the caches in the unperturbed state
    return errors


def gradient_check(net, X, y=None, loss=None, eps: float = 1e-6, seed: int = 0) -> float:
    """The largest relative error over all gradients (see :func:`gradient_errors`).

    A correct backward pass gives about 1e-8 or less in float64; a bug gives
    1e-2 or more. Use small inputs: it costs two forward passes per number.
    """
    return max(gradient_errors(net, X, y=y, loss=loss, eps=eps, seed=seed).values())
