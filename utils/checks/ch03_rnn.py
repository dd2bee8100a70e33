"""Checkers for section 3.3 (recurrent neural networks: RNN, LSTM, GRU)."""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _as_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be numbers (a NumPy array), got {type(value).__name__}")
    if shape is not None and arr.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {arr.shape}")
    return arr


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- 3.3.1 parameter counts ----------------------------------------------------------

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _torch_count(kind: str, input_size: int, hidden_size: int) -> int:
    import torch

    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](input_size, hidden_size)
    return sum(p.numel() for p in module.parameters())


class _BuiltTorchModule(Exception):
    """Raised when the learner's num_params builds a PyTorch recurrent module."""


@contextmanager
def _refuse_torch_rnn_modules():
    """While active, constructing torch.nn.RNN/LSTM/GRU (or their cells) raises _BuiltTorchModule."""
    import torch

    bases = (torch.nn.modules.rnn.RNNBase, torch.nn.modules.rnn.RNNCellBase)
    originals = {cls: cls.__init__ for cls in bases}

    def refuse(self, *args, **kwargs):
        raise _BuiltTorchModule

    for cls in bases:
        cls.__init__ = refuse
    try:
        yield
    finally:
        for cls, init in originals.items():
            cls.__init__ = init


@exercise("3.3.1", "parameters of RNN, LSTM and GRU layers")
def _check_num_params(num_params) -> str:
    for kind, gates in _GATES.items():
        for input_size, hidden_size in ((10, 20), (1, 1), (65, 64), (300, 128), (7, 33)):
            expected = _torch_count(kind, input_size, hidden_size)
            try:
                with _refuse_torch_rnn_modules():
                    got = num_params(kind, input_size, hidden_size)
            except _BuiltTorchModule:
                raise Wrong("num_params built a PyTorch recurrent module to count its parameters; "
                            "the exercise asks for the formula, written without torch") from None
            if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
                raise Wrong(f"num_params should return an integer, got {type(got).__name__} ({got!r})")
            if got == expected:
                continue
            D, H = input_size, hidden_size
            where = f"num_params({kind!r}, {D}, {H}) = {got}, expected {expected}"
            if got == expected - gates * H:
                raise Wrong(f"{where}: PyTorch has two bias vectors per layer, b_ih and b_hh; "
                            "you counted one")
            if got == expected - 2 * gates * H:
                raise Wrong(f"{where}: you forgot the biases (two vectors of {gates} x hidden each)")
            for other, other_gates in _GATES.items():
                if other != kind and got * gates == expected * other_gates:
                    raise Wrong(f"{where}: that is the count for {other_gates} gate block(s); "
                                f"a {kind.upper()} has {gates} (weights stacked as {gates} x hidden rows)")
            if D != H and got == expected - gates * H * H + gates * H * D:
                raise Wrong(f"{where}: the recurrent matrix W_hh is hidden x hidden, not hidden x input")
            raise Wrong(f"{where}. Count weight_ih (gates·H x D), weight_hh (gates·H x H) and the "
                        "two biases (gates·H each)")
    return "matches PyTorch's count for RNN, LSTM and GRU at five sizes, computed without building a module"


# --- 3.3.2 one GRU step ------------------------------------------------------------------

def _gru_reference(x, h, p, variant: str = "torch"):
    H = h.shape[1]
    a_x = x @ p["weight_ih"].T + p["bias_ih"]
    a_h = h @ p["weight_hh"].T + p["bias_hh"]
    r = _sigmoid(a_x[:, :H] + a_h[:, :H])
    z = _sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    if variant == "swapped_rz":
        r, z = z, r
    if variant == "paper":
        W_hn, b_hn = p["weight_hh"][2 * H:], p["bias_hh"][2 * H:]
        n = np.tanh(a_x[:, 2 * H:] + (r * h) @ W_hn.T + b_hn)
    elif variant == "b_hn_outside":
        n = np.tanh(a_x[:, 2 * H:] + r * (h @ p["weight_hh"][2 * H:].T) + p["bias_hh"][2 * H:])
    else:
        n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    if variant == "swapped_update":
        return z * n + (1.0 - z) * h
    return (1.0 - z) * n + z * h


@exercise("3.3.2", "one GRU step in PyTorch's form")
def _check_gru_cell(gru_cell) -> str:
    import torch

    rng = np.random.default_rng(32)
    for batch, D, H in ((3, 4, 5), (1, 2, 3), (4, 6, 2)):
        torch.manual_seed(D * 10 + H)
        cell = torch.nn.GRUCell(D, H).double()
        with torch.no_grad():
            for param in cell.parameters():
                param.mul_(3.0)  # bigger weights, so every mistake shows
        p = {k: getattr(cell, k).detach().numpy().copy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        x, h = rng.normal(size=(batch, D)), rng.normal(size=(batch, H))
        untouched = {k: v.copy() for k, v in p.items()}
        got = _as_array(gru_cell(x.copy(), h.copy(), p), f"gru_cell for batch {batch}, input {D}, hidden {H}",
                        (batch, H))
        if any(not np.array_equal(p[k], untouched[k]) for k in p):
            raise Wrong("gru_cell changed the weights in p: compute with them, do not modify them")
        expected = cell(torch.tensor(x), torch.tensor(h)).detach().numpy()
        if np.allclose(got, expected, atol=1e-8):
            continue
        for variant, message in (
                ("paper", "you reset the state before the product, W_hn (r ⊙ h); PyTorch applies r after it: "
                          "r ⊙ (W_hn h + b_hn)"),
                ("b_hn_outside", "b_hn must be inside the reset gate: r ⊙ (W_hn h + b_hn), not r ⊙ (W_hn h) + b_hn"),
                ("swapped_update", "the update gate is the other way round: h_new = (1 − z) ⊙ n + z ⊙ h "
                                   "(z ≈ 1 keeps the old state)"),
                ("swapped_rz", "the gate order is r, z, n: the first block of rows is the reset gate")):
            if np.allclose(got, _gru_reference(x, h, p, variant), atol=1e-8):
                raise Wrong(message)
        raise Wrong(f"for batch {batch}, input {D}, hidden {H} the largest difference from torch.nn.GRUCell "
                    f"is {np.abs(got - expected).max():.3g} (the check allows {tolerance(1e-5, 1e-8)}); "
                    "check the gate order r, z, n and both biases")
    return "equals torch.nn.GRUCell on three shapes (float64)"


# --- 3.3.3 clipping by the global norm -----------------------------------------------------

@exercise("3.3.3", "clip gradients by their global norm")
def _check_clip(clip_by_global_norm) -> str:
    rng = np.random.default_rng(33)
    cases = [(10.0, 1.0), (0.1, 1.0), (3.0, 2.5)]
    for scale, max_norm in cases:
        grads = {"W": scale * rng.normal(size=(3, 4)), "b": scale * rng.normal(size=4),
                 "U": scale * rng.normal(size=(2, 2))}
        original = {k: v.copy() for k, v in grads.items()}
        out = clip_by_global_norm(grads, max_norm)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise Wrong("clip_by_global_norm should return a pair (clipped dict, norm before clipping)")
        clipped, norm = out
        if not isinstance(clipped, dict) or set(clipped) != set(grads):
            raise Wrong("the first element should be a dict with the same keys as the input")
        if any(not np.array_equal(grads[k], original[k]) for k in grads):
            raise Wrong("the input dict was changed: return new arrays and leave the input as it was")
        total = float(np.sqrt(sum((g**2).sum() for g in original.values())))
        coef = min(1.0, max_norm / total)
        got_norm = float(norm)
        if np.isclose(got_norm, min(total, max_norm)) and total > max_norm and not np.isclose(total, max_norm):
            raise Wrong(f"return the norm *before* clipping ({total:.4g}), not after ({max_norm:.4g}): "
                        "it is the number worth logging")
        if not np.isclose(got_norm, total, rtol=1e-9):
            raise not_close("the global norm", got_norm, total, rtol=1e-9, atol=1e-8,
                            named="sqrt of the sum of all squared entries of all arrays")
        arrays = {k: _as_array(clipped[k], f"clipped[{k!r}]", original[k].shape) for k in original}
        expected = {k: v * coef for k, v in original.items()}
        if all(np.allclose(arrays[k], expected[k], rtol=1e-9, atol=1e-12) for k in original):
            continue
        per_array = {k: v * min(1.0, max_norm / np.linalg.norm(v)) for k, v in original.items()}
        if all(np.allclose(arrays[k], per_array[k], rtol=1e-9) for k in original):
            raise Wrong("you clipped each array by its own norm: that changes the direction of the step; "
                        "use one norm over all arrays together")
        always = {k: v * max_norm / total for k, v in original.items()}
        if total < max_norm and all(np.allclose(arrays[k], always[k], rtol=1e-9) for k in original):
            raise Wrong(f"the gradients (norm {total:.3g}) were below max_norm = {max_norm} and must stay "
                        "unchanged; you scaled them up")
        entry = {k: np.clip(v, -max_norm, max_norm) for k, v in original.items()}
        if all(np.allclose(arrays[k], entry[k]) for k in original):
            raise Wrong("np.clip limits each entry (clipping by value); clip by the global norm instead")
        worst = max(float(np.abs(arrays[k] - expected[k]).max()) for k in original)
        raise Wrong(f"with norm {total:.4g} and max_norm {max_norm} every array should be multiplied by "
                    f"{coef:.6g}; yours differ from that by up to {worst:.3g} (the check allows "
                    f"{tolerance(1e-9, 1e-12)})")
    return "clips large gradients to max_norm with one global norm, keeps small ones, returns the norm before"


# --- 3.3.4 forget-gate bias ----------------------------------------------------------------

@exercise("3.3.4", "forget-gate bias that keeps half the gradient over 100 steps")
def _check_forget_bias(b) -> str:
    if isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating)):
        raise Wrong(f"the answer is a number (the bias b_f), got {type(b).__name__}")
    f = 0.5 ** (1 / 100)
    expected = float(np.log(f / (1 - f)))
    b = float(b)
    if np.isclose(b, expected, atol=1e-3):
        return f"σ({expected:.3f}) = {f:.5f}, and {f:.5f}^100 = 0.5"
    if np.isclose(b, f, atol=1e-3):
        raise Wrong(f"{b:.4g} is the forget gate value f with f^100 = 0.5; the question asks for the bias "
                    "b_f with σ(b_f) = f: invert the sigmoid, b = log(f / (1 − f))")
    if np.isclose(b, -expected, atol=1e-3):
        raise Wrong("sign error: the gate must be close to 1, so the bias is positive")
    if np.isclose(b, np.log(f), atol=1e-3):
        raise Wrong("log(f) is not the inverse of the sigmoid: use the logit, log(f / (1 − f))")
    f99 = 0.5 ** (1 / 99)
    if np.isclose(b, np.log(f99 / (1 - f99)), atol=1e-3):
        raise Wrong("off by one: 100 steps multiply the gradient by f 100 times, so f^100 = 0.5")
    kept = _sigmoid(b) ** 100
    raise Wrong(f"with b_f = {numbers(b, expected)[0]} the forget gate is σ(b_f) = {numbers(_sigmoid(b), f)[0]} "
                f"and keeps {numbers(kept, 0.5)[0]} of the gradient after 100 steps, not 0.5 (the check "
                f"allows b_f {tolerance(1e-5, 1e-3)} from the answer)")
