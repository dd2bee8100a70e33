"""Checkers for section 3.5 (attention and the Transformer from scratch)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, tolerance


def _as_array(value, what: str) -> np.ndarray:
    if value is None or isinstance(value, (str, bytes)):
        raise Wrong(f"{what} should be a NumPy array, got {type(value).__name__}")
    try:
        return np.asarray(value)
    except Exception:  # noqa: BLE001  (anything that is not array-like)
        raise Wrong(f"{what} should be a NumPy array, got {type(value).__name__}")


# --- 3.5.1 -----------------------------------------------------------------------

@exercise("3.5.1", "causal mask")
def _check_causal_mask(causal_mask) -> str:
    for T in (5, 2, 9, 1):  # T = 1 last: its mask cannot show the typical mistakes
        M = _as_array(causal_mask(T), f"causal_mask({T})")
        if M.shape != (T, T):
            raise Wrong(f"causal_mask({T}) should have shape ({T}, {T}) (query positions x key positions), "
                        f"got {M.shape}")
        expected = np.tril(np.ones((T, T), dtype=bool))
        if M.dtype != bool:
            if np.issubdtype(M.dtype, np.floating) and np.isneginf(M).any():
                raise Wrong("you returned an additive mask (0 and -inf); the exercise asks for a boolean "
                            "mask, True where attending is allowed")
            if np.array_equal(M, expected.astype(M.dtype)):
                raise Wrong(f"the pattern is right but the dtype is {M.dtype}: make it boolean (dtype=bool), "
                            "because a 0/1 number mask would be added to the scores, not used to select")
            raise Wrong(f"causal_mask should return a boolean array, got dtype {M.dtype}")
        if np.array_equal(M, expected):
            continue
        if T > 1 and np.array_equal(M, ~expected):
            raise Wrong("the mask is inverted: True must mean 'may attend' (PyTorch's "
                        "scaled_dot_product_attention convention); you marked the blocked positions")
        if T > 1 and np.array_equal(M, expected.T):
            raise Wrong("queries can see the future: row t is query t, column s is key s, and t may "
                        "attend to s only when s <= t (True on and below the diagonal, np.tril)")
        if np.array_equal(M, np.tril(expected, k=-1)):
            raise Wrong("the diagonal is False: a position may attend to itself (s <= t, not s < t); "
                        "otherwise position 0 would have no key at all")
        raise Wrong(f"causal_mask({T}) should be True exactly where key s <= query t; yours differs in "
                    f"{int((M != expected).sum())} of {T * T} entries")
    return "boolean, True on and below the diagonal, for T = 5, 2, 9 and 1"


# --- 3.5.2 -----------------------------------------------------------------------

@exercise("3.5.2", "split into heads")
def _check_split_heads(split_heads) -> str:
    rng = np.random.default_rng(352)
    for B, T, E, H in ((2, 5, 12, 3), (1, 4, 8, 2), (3, 1, 6, 6), (2, 3, 4, 1)):
        X = rng.normal(size=(B, T, E))
        d = E // H
        out = _as_array(split_heads(X.copy(), H), f"split_heads(X of shape {X.shape}, {H})")
        expected = X.reshape(B, T, H, d).transpose(0, 2, 1, 3)
        if out.shape == (B, T, H, d) and np.allclose(out, X.reshape(B, T, H, d)):
            raise Wrong(f"you reshaped to (batch, T, heads, d) = {out.shape} but did not move the head axis "
                        "forward: transpose to (batch, heads, T, d)")
        if out.shape != expected.shape:
            raise Wrong(f"for X of shape {X.shape} and {H} heads the result should have shape "
                        f"{expected.shape} (batch, heads, T, E/heads), got {out.shape}")
        if np.allclose(out, expected):
            continue
        if np.allclose(out, X.reshape(B, H, T, d)):
            raise Wrong("a single reshape to (batch, heads, T, d) runs but scrambles the data: it cuts the "
                        "flat memory into heads, mixing positions. Reshape to (batch, T, heads, d) first, "
                        "then transpose the T and heads axes")
        if np.allclose(out, X.reshape(B, T, d, H).transpose(0, 3, 1, 2)):
            raise Wrong("the heads are interleaved: your head h holds features h, h+H, h+2H, ...; in "
                        "PyTorch's layout head h owns the contiguous block h*d ... (h+1)*d - 1")
        raise Wrong(f"for X of shape {X.shape} and {H} heads, out[b, h, t] should equal "
                    "X[b, t, h*d:(h+1)*d]; yours does not")
    try:
        result = split_heads(rng.normal(size=(2, 5, 10)), 3)
    except ValueError:
        pass
    else:
        raise Wrong("E = 10 is not divisible by 3 heads: raise a ValueError that says so, instead of "
                    f"returning an array of shape {np.shape(result)}")
    return "four shapes match PyTorch's head layout, and E not divisible by the heads raises ValueError"


# --- 3.5.3 -----------------------------------------------------------------------

@exercise("3.5.3", "a shift of the positional encoding is a linear map")
def _check_shift_matrix(shift_matrix) -> str:
    from utils.attention import sinusoidal_positional_encoding

    for d in (4, 8, 16):
        pe = sinusoidal_positional_encoding(40, d)
        for k in (0, 1, 3, -2, 7):
            M = _as_array(shift_matrix(k, d), f"shift_matrix({k}, {d})")
            if M.shape != (d, d):
                raise Wrong(f"shift_matrix({k}, {d}) should have shape ({d}, {d}), got {M.shape}")
            try:
                M = M.astype(np.float64)
            except (TypeError, ValueError):
                raise Wrong(f"shift_matrix({k}, {d}) should hold numbers, got dtype {M.dtype}")
            ps = np.arange(max(0, -k), min(40, 40 - k))
            shifted = pe[ps] @ M.T  # rows: M @ PE[p]
            if np.allclose(shifted, pe[ps + k], atol=1e-9):
                continue
            if k != 0 and np.allclose(pe[ps] @ M, pe[ps + k], atol=1e-9):
                raise Wrong(f"shift_matrix({k}, {d}) shifts by {-k}: the rotation turns the wrong way. Since "
                            "sin(a+b) = sin a cos b + cos a sin b, the (sin, cos) block is "
                            "[[cos ωk, sin ωk], [−sin ωk, cos ωk]]")
            worst = float(np.max(np.abs(shifted - pe[ps + k])))
            raise Wrong(f"for d = {d}, k = {k}: M @ PE[p] differs from PE[p + k] by up to {worst:.3g} (the "
                        f"check allows {tolerance(1e-5, 1e-9)}); use ω_i = 10000^(−2i/d) for pair i "
                        "(dimensions 2i and 2i+1)")
    return "M_k @ PE[p] == PE[p + k] for d = 4, 8, 16, offsets k = 0, 1, 3, −2, 7 and every valid p"


# --- 3.5.4 -----------------------------------------------------------------------

def _layer_count(E: int, ff: int, biases: bool = True, norms: bool = True) -> int:
    attn = 4 * E * E + (4 * E if biases else 0)
    ffn = 2 * E * ff + ((ff + E) if biases else 0)
    return attn + ffn + (4 * E if norms else 0)


@exercise("3.5.4", "parameters of one encoder layer of Transformer-base")
def _check_base_layer_parameters(n) -> str:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        if isinstance(n, (float, np.floating)) and float(n).is_integer():
            raise Wrong(f"give the count as an integer (int({n:.0f})), not a float")
        raise Wrong(f"the answer is a count of parameters, an integer; got {type(n).__name__}")
    E, ff, H = 512, 2048, 8
    expected = _layer_count(E, ff)
    if n == expected:
        return f"{expected:,} parameters: 4E²+4E in attention, 2E·d_ff+d_ff+E in the FFN, 4E in the LayerNorms"
    diagnoses = {
        _layer_count(E, ff, biases=False): "you left out the biases (4E in the projections, d_ff + E in the FFN)",
        _layer_count(E, ff, norms=False): "you left out the two LayerNorms (a γ and a β of size E each)",
        _layer_count(E, ff, biases=False, norms=False): "you left out the biases and the LayerNorm parameters",
        _layer_count(E, ff) + H * (4 * E * E + 4 * E) - (4 * E * E + 4 * E):
            "the heads split the E x E projections into slices; they do not multiply the count by 8",
        6 * expected: "that is the whole 6-layer encoder; the question asks for one layer",
        _layer_count(E, ff) + 4 * E * E + 4 * E + 2 * E: "that is a decoder layer (it has a second, cross-attention); "
                                                          "the question asks for an encoder layer",
    }
    message = diagnoses.get(int(n))
    if message:
        raise Wrong(message)
    raise Wrong(f"{int(n):,} is not right; count W_Q, W_K, W_V, W_O (E x E each) with their biases, the two "
                "FFN matrices (E x d_ff and d_ff x E) with their biases, and two LayerNorms (γ and β)")
