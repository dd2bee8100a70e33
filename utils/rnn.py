"""Recurrent layers in NumPy, built in chapter 3.3: :class:`RNN` (tanh), :class:`LSTM`, :class:`GRU`.

They follow the course's layer protocol (see ``utils/nn.py``): ``params`` and
``grads`` are dicts of float64 arrays, ``forward(X)`` caches what
``backward(dY)`` needs, and ``backward`` returns ``dX`` and fills ``grads``.

- Input ``X`` has shape ``(batch, time, features)`` (PyTorch's ``batch_first=True``);
  ``forward`` returns every hidden state, shape ``(batch, time, hidden)``.
- The initial state is optional: ``forward(X, state=h0)`` with ``h0`` of shape
  ``(batch, hidden)`` (for the LSTM a pair ``(h0, c0)``); zeros by default.
  After ``forward``, ``layer.state`` holds the final state in the same form, so
  ``layer.forward(x_next, state=layer.state)`` continues a sequence (sampling).
- ``backward(dY)`` is backpropagation through time: ``dY`` is dL/dh_t for every
  step. It returns dL/dX, overwrites ``grads``, and stores dL/d(initial state) in
  ``layer.dstate``.
- ``parameters()`` yields ``(layer, name)`` pairs, so ``utils.nn.Adam`` trains these
  layers together with ``utils.nn.Dense``.
- Parameter names, shapes and gate order are exactly PyTorch's (``weight_ih``,
  ``weight_hh``, ``bias_ih``, ``bias_hh``; LSTM gates i, f, g, o; GRU gates r, z, n
  with ``b_hn`` inside ``r * (...)``), so ``LSTM.from_torch(torch.nn.LSTM(...))``
  copies the weights and the two give the same numbers.

:func:`clip_grad_norm` rescales gradients by their global norm, like
``torch.nn.utils.clip_grad_norm_``.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-z)), written as (1 + tanh(z/2)) / 2: no overflow for any z."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _check_size(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


def _as_float_array(X, what: str) -> np.ndarray:
    """``X`` as float64, or a TypeError naming ``what`` when it is not numbers."""
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{what} must be a NumPy array of numbers, got {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except (TypeError, ValueError) as err:  # ragged nested lists
        raise TypeError(f"{what} must be a NumPy array of numbers, got {type(X).__name__}") from err
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{what} must be a NumPy array of numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


class _Recurrent:
    """Shared code of the three layers: parameters, input checks, weight copying."""

    kind = "Recurrent"
    num_gates = 1  # blocks of `hidden_size` rows stacked in weight_ih / weight_hh
    _torch_class = ""

    def __init__(self, input_size: int, hidden_size: int, rng: np.random.Generator):
        self.input_size = _check_size(input_size, f"{self.kind}: input_size")
        self.hidden_size = _check_size(hidden_size, f"{self.kind}: hidden_size")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{self.kind}: rng must be a numpy Generator (e.g. seed_everything(0)), "
                            f"got {type(rng).__name__}")
        G, H, D = self.num_gates, self.hidden_size, self.input_size
        bound = 1.0 / np.sqrt(H)  # PyTorch's default: uniform(-1/sqrt(H), 1/sqrt(H)) for every tensor
        shapes = {"weight_ih": (G * H, D), "weight_hh": (G * H, H), "bias_ih": (G * H,), "bias_hh": (G * H,)}
        self.params = {k: rng.uniform(-bound, bound, size=s) for k, s in shapes.items()}
        self.grads = {k: np.zeros(s) for k, s in shapes.items()}
        self.state = None  # final state of the last forward pass
        self.dstate = None  # dL/d(initial state) from the last backward pass
        self._cache = None

    @property
    def name(self) -> str:
        return f"{self.kind}({self.input_size} -> {self.hidden_size})"

    def __repr__(self) -> str:
        return self.name

    def __call__(self, X, state=None) -> np.ndarray:
        return self.forward(X, state)

    def parameters(self):
        """``(layer, name)`` pairs of the trainable arrays, as ``utils.nn``'s optimisers expect."""
        for name in self.params:
            yield self, name

    # --- checks -------------------------------------------------------------
    def _check_input(self, X) -> np.ndarray:
        X = _as_float_array(X, f"{self.name}: the input")
        D = self.input_size
        if X.ndim != 3:
            hint = " (one sequence? add a batch axis: X[None])" if X.ndim == 2 else ""
            raise ValueError(f"{self.name}: expected input of shape (batch, time, {D}), "
                             f"got shape {X.shape}{hint}")
        if X.shape[2] != D:
            raise ValueError(f"{self.name}: expected input with {D} features, got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{self.name}: the batch is empty (input shape {X.shape})")
        if X.shape[1] == 0:
            raise ValueError(f"{self.name}: the sequences have no time steps (input shape {X.shape})")
        return X

    def _check_hidden(self, h, batch: int, what: str) -> np.ndarray:
        if h is None:
            return np.zeros((batch, self.hidden_size))
        h = _as_float_array(h, f"{self.name}: {what}")
        if h.shape != (batch, self.hidden_size):
            hint = " (PyTorch's (1, batch, hidden)? drop the first axis)" if h.ndim == 3 else ""
            raise ValueError(f"{self.name}: {what} must have shape (batch, hidden) = "
                             f"{(batch, self.hidden_size)}, got shape {h.shape}{hint}")
        return h

    def _check_state(self, state, batch: int):
        return self._check_hidden(state, batch, "the initial state h0")

    def _check_dY(self, dY) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{self.name}: call forward() before backward()")
        dY = _as_float_array(dY, f"{self.name}: dY")
        expected = self._cache["H"].shape
        if dY.shape != expected:
            raise ValueError(f"{self.name}: dY must have the shape of the output {expected}, got shape {dY.shape}")
        return dY

    def _prev_states(self, h0: np.ndarray, H: np.ndarray) -> np.ndarray:
        """h_{t-1} for every t: (batch, time, hidden)."""
        return np.concatenate([h0[:, None, :], H[:, :-1]], axis=1)

    # --- weights from PyTorch ------------------------------------------------
    @classmethod
    def from_torch(cls, module):
        """A layer with the (float64) weights of ``module``, a one-layer ``torch.nn.RNN/LSTM/GRU``."""
        import torch

        expected = getattr(torch.nn, cls._torch_class)
        if not isinstance(module, expected):
            raise TypeError(f"{cls.kind}.from_torch expects a torch.nn.{cls._torch_class}, "
                            f"got {type(module).__name__}")
        problems = []
        if module.num_layers != 1:
            problems.append(f"num_layers={module.num_layers} (stack several layers instead)")
        if module.bidirectional:
            problems.append("bidirectional=True")
        if not module.bias:
            problems.append("bias=False")
        if getattr(module, "nonlinearity", "tanh") != "tanh":
            problems.append(f"nonlinearity={module.nonlinearity!r}")
        if getattr(module, "proj_size", 0):
            problems.append(f"proj_size={module.proj_size}")
        if problems:
            raise ValueError(f"{cls.kind}.from_torch supports one layer, one direction, with biases and "
                             f"tanh; the module has {', '.join(problems)}")
        layer = cls(module.input_size, module.hidden_size, rng=np.random.default_rng(0))
        for k in layer.params:
            layer.params[k] = getattr(module, f"{k}_l0").detach().cpu().numpy().astype(np.float64).copy()
        return layer


class RNN(_Recurrent):
    """Elman RNN with tanh, like ``torch.nn.RNN(input_size, hidden_size, batch_first=True)``.

    h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh)
    """

    kind = "RNN"
    num_gates = 1
    _torch_class = "RNN"

    def forward(self, X, state=None) -> np.ndarray:
        X = self._check_input(X)
        B, T, _ = X.shape
        h0 = self._check_state(state, B)
        p = self.params
        A_in = X @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])  # every input term in one product
        H = np.empty((B, T, self.hidden_size))
        h = h0
        for t in range(T):
            h = np.tanh(A_in[:, t] + h @ p["weight_hh"].T)
            H[:, t] = h
        self._cache = {"X": X, "h0": h0, "H": H}
        self.state = h.copy()
        return H

    def backward(self, dY) -> np.ndarray:
        dY = self._check_dY(dY)
        X, h0, H = self._cache["X"], self._cache["h0"], self._cache["H"]
        W_hh = self.params["weight_hh"]
        dA = np.empty_like(H)  # dL/d(pre-activation) at every step
        dh_next = np.zeros_like(h0)  # dL/dh_t arriving from step t+1
        for t in reversed(range(H.shape[1])):
            da = (dY[:, t] + dh_next) * (1.0 - H[:, t] ** 2)
            dA[:, t] = da
            dh_next = da @ W_hh
        self._fill_grads(dA, dA, X, self._prev_states(h0, H))
        self.dstate = dh_next
        return dA @ self.params["weight_ih"]

    def _fill_grads(self, dA_in, dA_h, X, H_prev) -> None:
        """Sum the per-step parameter gradients over batch and time in one product each."""
        G = dA_in.shape[-1]
        self.grads["weight_ih"] = dA_in.reshape(-1, G).T @ X.reshape(-1, X.shape[-1])
        self.grads["weight_hh"] = dA_h.reshape(-1, G).T @ H_prev.reshape(-1, H_prev.shape[-1])
        self.grads["bias_ih"] = dA_in.sum(axis=(0, 1))
        self.grads["bias_hh"] = dA_h.sum(axis=(0, 1))


class LSTM(RNN):
    """Long short-term memory, like ``torch.nn.LSTM(input_size, hidden_size, batch_first=True)``.

    Gates stacked in the order i, f, g, o (rows of ``weight_ih``/``weight_hh``)::

        i, f, o = σ(·), g = tanh(·)  of  x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh
        c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)

    ``state`` is the pair ``(h0, c0)``; ``layer.state`` is ``(h_T, c_T)``.
    """

    kind = "LSTM"
    num_gates = 4
    _torch_class = "LSTM"

    def _check_state(self, state, batch: int):
        if state is None:
            return np.zeros((batch, self.hidden_size)), np.zeros((batch, self.hidden_size))
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"{self.name}: the initial state must be a pair (h0, c0), got {type(state).__name__}")
        return (self._check_hidden(state[0], batch, "the initial state h0"),
                self._check_hidden(state[1], batch, "the initial cell c0"))

    def forward(self, X, state=None) -> np.ndarray:
        X = self._check_input(X)
        B, T, _ = X.shape
        Hd = self.hidden_size
        h0, c0 = self._check_state(state, B)
        p = self.params
        A_in = X @ p["weight_ih"].T + (p["bias_ih"] + p["bias_hh"])
        H, C, gates = np.empty((B, T, Hd)), np.empty((B, T, Hd)), np.empty((B, T, 4 * Hd))
        h, c = h0, c0
        for t in range(T):
            a = A_in[:, t] + h @ p["weight_hh"].T
            g_act = np.empty_like(a)
            g_act[:, :2 * Hd] = sigmoid(a[:, :2 * Hd])  # i, f
            g_act[:, 2 * Hd:3 * Hd] = np.tanh(a[:, 2 * Hd:3 * Hd])  # g
            g_act[:, 3 * Hd:] = sigmoid(a[:, 3 * Hd:])  # o
            i, f, g, o = np.split(g_act, 4, axis=1)
            c = f * c + i * g
            h = o * np.tanh(c)
            H[:, t], C[:, t], gates[:, t] = h, c, g_act
        self._cache = {"X": X, "h0": h0, "c0": c0, "H": H, "C": C, "gates": gates}
        self.state = (h.copy(), c.copy())
        return H

    def backward(self, dY) -> np.ndarray:
        dY = self._check_dY(dY)
        cache = self._cache
        X, h0, c0, H, C, gates = (cache[k] for k in ("X", "h0", "c0", "H", "C", "gates"))
        W_hh = self.params["weight_hh"]
        T = H.shape[1]
        dA = np.empty_like(gates)
        dh_next, dc_next = np.zeros_like(h0), np.zeros_like(c0)
        for t in reversed(range(T)):
            i, f, g, o = np.split(gates[:, t], 4, axis=1)
            c_prev = C[:, t - 1] if t > 0 else c0
            tanh_c = np.tanh(C[:, t])
            dh = dY[:, t] + dh_next
            dc = dc_next + dh * o * (1.0 - tanh_c**2)
            da = np.concatenate([dc * g * i * (1.0 - i),  # through i
                                 dc * c_prev * f * (1.0 - f),  # through f
                                 dc * i * (1.0 - g**2),  # through g
                                 dh * tanh_c * o * (1.0 - o)], axis=1)  # through o
            dA[:, t] = da
            dh_next = da @ W_hh
            dc_next = dc * f
        self._fill_grads(dA, dA, X, self._prev_states(h0, H))
        self.dstate = (dh_next, dc_next)
        return dA @ self.params["weight_ih"]


class GRU(RNN):
    """Gated recurrent unit, like ``torch.nn.GRU(input_size, hidden_size, batch_first=True)``.

    Gates stacked in the order r, z, n; note where ``b_hn`` sits (PyTorch's and
    cuDNN's form, not the original paper's ``W_hn (r ⊙ h)``)::

        r = σ(W_ir x + b_ir + W_hr h + b_hr),   z = σ(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
    """

    kind = "GRU"
    num_gates = 3
    _torch_class = "GRU"

    def forward(self, X, state=None) -> np.ndarray:
        X = self._check_input(X)
        B, T, _ = X.shape
        Hd = self.hidden_size
        h0 = self._check_state(state, B)
        p = self.params
        A_in = X @ p["weight_ih"].T + p["bias_ih"]  # input side; b_hh stays with the hidden side
        H = np.empty((B, T, Hd))
        gates = np.empty((B, T, 3 * Hd))  # r, z, n after their nonlinearity
        HN = np.empty((B, T, Hd))  # W_hn h_{t-1} + b_hn, needed by the backward pass
        h = h0
        for t in range(T):
            a_h = h @ p["weight_hh"].T + p["bias_hh"]
            rz = sigmoid(A_in[:, t, :2 * Hd] + a_h[:, :2 * Hd])
            r, z = rz[:, :Hd], rz[:, Hd:]
            n = np.tanh(A_in[:, t, 2 * Hd:] + r * a_h[:, 2 * Hd:])
            h = (1.0 - z) * n + z * h
            H[:, t], HN[:, t] = h, a_h[:, 2 * Hd:]
            gates[:, t, :2 * Hd], gates[:, t, 2 * Hd:] = rz, n
        self._cache = {"X": X, "h0": h0, "H": H, "gates": gates, "HN": HN}
        self.state = h.copy()
        return H

    def backward(self, dY) -> np.ndarray:
        dY = self._check_dY(dY)
        X, h0, H, gates, HN = (self._cache[k] for k in ("X", "h0", "H", "gates", "HN"))
        W_hh = self.params["weight_hh"]
        T = H.shape[1]
        dA_in = np.empty_like(gates)  # dL/d(input-side pre-activations) r, z, n
        dA_h = np.empty_like(gates)  # dL/d(hidden-side pre-activations) r, z, and W_hn h + b_hn
        dh_next = np.zeros_like(h0)
        for t in reversed(range(T)):
            r, z, n = np.split(gates[:, t], 3, axis=1)
            h_prev = H[:, t - 1] if t > 0 else h0
            dh = dY[:, t] + dh_next
            dn_pre = dh * (1.0 - z) * (1.0 - n**2)
            dr_pre = dn_pre * HN[:, t] * r * (1.0 - r)
            dz_pre = dh * (h_prev - n) * z * (1.0 - z)
            dA_in[:, t] = np.concatenate([dr_pre, dz_pre, dn_pre], axis=1)
            dA_h[:, t] = np.concatenate([dr_pre, dz_pre, dn_pre * r], axis=1)
            dh_next = dh * z + dA_h[:, t] @ W_hh
        self._fill_grads(dA_in, dA_h, X, self._prev_states(h0, H))
        self.dstate = dh_next
        return dA_in @ self.params["weight_ih"]


def _grad_arrays(grads) -> list[np.ndarray]:
    """The arrays in ``grads``: a dict of arrays, an array, or a list of either."""
    if isinstance(grads, np.ndarray):
        return [grads]
    if isinstance(grads, dict):
        items = list(grads.values())
    elif isinstance(grads, Iterable) and not isinstance(grads, (str, bytes)):
        items = list(grads)
    else:
        raise TypeError(f"clip_grad_norm: grads must be a dict of arrays (layer.grads) or a list of them, "
                        f"got {type(grads).__name__}")
    arrays = []
    for item in items:
        if isinstance(item, (dict, list, tuple)):
            arrays.extend(_grad_arrays(item))
        elif isinstance(item, np.ndarray) and item.dtype.kind == "f":
            arrays.append(item)
        else:
            raise TypeError(f"clip_grad_norm: every gradient must be a float NumPy array (clipped in place), "
                            f"got {type(item).__name__}")
    return arrays


def clip_grad_norm(grads, max_norm: float, error_if_nonfinite: bool = False) -> float:
    """Scale every gradient in place so that their global L2 norm is at most ``max_norm``.

    ``grads``: a layer's ``grads`` dict, or a list of them (all layers of a
    model share one norm). As ``torch.nn.utils.clip_grad_norm_``: the norm is
    taken over all arrays together, and when it exceeds ``max_norm`` every array
    is multiplied by ``max_norm / (norm + 1e-6)``, so the direction of the update
    is kept. Returns the norm *before* clipping (worth logging: spikes in it are
    the exploding gradients that clipping tames).
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float, np.integer, np.floating)):
        raise TypeError(f"clip_grad_norm: max_norm must be a number, got {type(max_norm).__name__}")
    if not (np.isfinite(max_norm) and max_norm > 0):
        raise ValueError(f"clip_grad_norm: max_norm must be a positive finite number, got {max_norm}")
    arrays = _grad_arrays(grads)
    if not arrays:
        return 0.0
    total = float(np.sqrt(sum(float(np.sum(a * a)) for a in arrays)))
    if not np.isfinite(total) and error_if_nonfinite:
        raise FloatingPointError(f"clip_grad_norm: the gradient norm is {total}; a NaN or inf entered "
                                 "the gradients (lower the learning rate, or clip earlier)")
    coef = float(max_norm) / (total + 1e-6)  # inf norm: 0; NaN norm: NaN (as in PyTorch)
    if not coef >= 1.0:
        for a in arrays:
            a *= coef
    return total
