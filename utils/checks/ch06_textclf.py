"""Checkers for section 6.2 (text classification and sentiment analysis)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _reference_macro_f1(C) -> float:
    C = np.asarray(C, dtype=np.float64)
    tp = np.diag(C)
    denominator = C.sum(axis=0) + C.sum(axis=1)  # 2TP + FP + FN
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return float(f1.mean())


def _as_float(value, what: str) -> float:
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.size != 1):
        raise Wrong(f"{what} should be one number (the average), got {type(value).__name__} "
                    f"of length {len(value)}: did you forget to average the per-class F1 scores?")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")


# --- 6.2 Text classification ---------------------------------------------------------

@exercise("6.2.1", "macro-averaged F1 from a confusion matrix")
def _check_macro_f1(macro_f1) -> str:
    rng = np.random.default_rng(621)
    cases = [np.array([[50, 10], [30, 10]]),  # unbalanced: macro-F1 differs from accuracy and from F1 of class 1
             rng.integers(0, 8, size=(3, 3)) + np.diag([40, 5, 20]),
             np.array([[30, 0, 5], [0, 0, 0], [4, 0, 11]])]  # class 1: never present, never predicted
    for C in cases:
        out = _as_float(macro_f1(C.copy()), f"macro_f1 of a {C.shape[0]}x{C.shape[0]} matrix")
        expected = _reference_macro_f1(C)
        if np.isclose(out, expected, atol=1e-9):
            continue
        if np.isnan(out):
            raise Wrong("your answer is NaN: a class with no true and no predicted examples divides 0 by 0; "
                        "give such a class F1 = 0 (for example with np.divide(..., where=denominator > 0))")
        k = C.shape[0]
        Cf = C.astype(float)
        precision = np.divide(np.diag(Cf), Cf.sum(axis=0), out=np.zeros(k), where=Cf.sum(axis=0) > 0)
        recall = np.divide(np.diag(Cf), Cf.sum(axis=1), out=np.zeros(k), where=Cf.sum(axis=1) > 0)
        if np.isclose(out, np.trace(Cf) / Cf.sum()):
            raise Wrong(f"you returned the accuracy ({out:.4f}), which equals the MICRO-averaged F1; the macro "
                        f"average computes F1 per class and takes their plain mean ({expected:.4f} here)")
        if np.isclose(out, np.mean((precision + recall) / 2)):
            raise Wrong("you averaged precision and recall arithmetically; F1 is their HARMONIC mean, "
                        "2PR / (P + R)")
        if k == 2 and np.isclose(out, 2 * precision[1] * recall[1] / (precision[1] + recall[1])):
            raise Wrong("that is the F1 of class 1 only; compute F1 for EVERY class and average them")
        present = Cf.sum(axis=0) + Cf.sum(axis=1) > 0
        if not present.all() and np.isclose(out, expected * k / present.sum()):
            raise Wrong("you averaged only over the classes that occur; the checker asks for F1 = 0 for an "
                        "absent class and the mean over ALL classes (as scikit-learn does with labels=range(k))")
        raise not_close(f"for C = {C.tolist()} the macro-F1", out, expected, rtol=1e-5, atol=1e-9)
    return "unbalanced 2x2, random 3x3, and a 3x3 with a class that never occurs (F1 = 0, no NaN)"


@exercise("6.2.2", "character bigrams of a string")
def _check_char_bigrams(char_bigrams) -> str:
    cases = ["不错", "这本书不错", "好好好", "a 好!", "一", ""]
    for s in cases:
        expected = [s[i:i + 2] for i in range(len(s) - 1)]
        out = char_bigrams(s)
        if isinstance(out, (set, frozenset, dict)):
            raise Wrong("return a list in reading order, not a set: order and repeats matter "
                        f"(char_bigrams('好好好') is ['好好', '好好'])")
        try:
            out = list(out)
        except TypeError:
            raise Wrong(f"char_bigrams should return a list, got {type(out).__name__}")
        if out == expected:
            continue
        if len(s) < 2:
            raise Wrong(f"a string of {len(s)} character(s) has no bigrams: expected [], got {out!r}")
        if out and all(isinstance(b, tuple) for b in out) and ["".join(b) for b in out] == expected:
            raise Wrong("your bigrams are tuples of characters; join each pair into one 2-character string")
        if out == [s[i:i + 2] for i in range(0, len(s), 2)]:
            raise Wrong(f"for {s!r} your bigrams do not overlap: step one character at a time "
                        f"(expected {expected})")
        if out == [s[i:i + 2] for i in range(len(s))]:
            raise Wrong(f"for {s!r} the last item is a single character: a string of n characters has n - 1 "
                        f"bigrams (expected {expected})")
        raise Wrong(f"char_bigrams({s!r}) should be {expected}, got {out!r}")
    return "six strings: Chinese, mixed, repeated characters, one character and the empty string"


def _masked_mean_cases():
    import torch

    g = torch.Generator().manual_seed(623)
    H = torch.randn(4, 7, 3, generator=g, dtype=torch.float64) + 2.0  # padded outputs are NOT zero
    lengths = torch.tensor([7, 1, 4, 2])
    mask = torch.arange(7).unsqueeze(0) < lengths.unsqueeze(1)
    expected = torch.stack([H[b, :lengths[b]].mean(dim=0) for b in range(4)])
    return H, lengths, mask, expected


@exercise("6.2.3", "masked mean pooling")
def _check_masked_mean(masked_mean) -> str:
    import torch

    H, lengths, mask, expected = _masked_mean_cases()
    original = H.clone()
    out = masked_mean(H, lengths.clone())
    if not isinstance(out, torch.Tensor):
        raise Wrong(f"masked_mean should return a torch tensor, got {type(out).__name__}")
    if not torch.equal(H, original):
        raise Wrong("masked_mean changed H in place: compute on a copy (or with out-of-place operations)")
    if tuple(out.shape) != (4, 3):
        if tuple(out.shape) == (4, 7):
            raise Wrong("you averaged over the feature axis; average over time (dim=1) to get (batch, features)")
        raise Wrong(f"for H of shape (4, 7, 3) the result should have shape (4, 3), got {tuple(out.shape)}")
    out = out.detach().to(torch.float64)
    if torch.allclose(out, expected, atol=1e-6):
        return "a batch of 4 with lengths 7, 1, 4, 2 and non-zero padding outputs"
    if torch.allclose(out, H.mean(dim=1), atol=1e-6):
        raise Wrong("you averaged over every position, padding included; use only positions t < lengths[b]")
    m = mask.unsqueeze(-1).to(H.dtype)
    if torch.allclose(out, (H * m).sum(dim=1) / H.shape[1], atol=1e-6):
        raise Wrong("you summed the real positions but divided by the full time length; divide by lengths[b]")
    mask_off = (torch.arange(7).unsqueeze(0) <= lengths.unsqueeze(1)).unsqueeze(-1).to(H.dtype)
    if torch.allclose(out, (H * mask_off).sum(dim=1) / mask_off.sum(dim=1), atol=1e-6):
        raise Wrong("off by one: the real positions are 0 .. lengths[b] - 1, so the mask is t < lengths[b]")
    b = int(next(r for r in range(4) if not torch.allclose(out[r], expected[r], atol=1e-6)))
    yours, right = numbers(out[b].tolist(), expected[b].tolist())
    raise Wrong(f"row {b} (length {int(lengths[b])}) should be the mean of H[{b}, :{int(lengths[b])}] = "
                f"{right}, got {yours} (the check allows {tolerance(1e-5, 1e-6)})")


@exercise("6.2.4", "count leaked test texts")
def _check_leak_count(leak_count) -> str:
    train = ["好评", "差评", "差评", "一般", "还行"]
    test = ["差评", "差评", "很好", "一般", "一般", "一般", "不错"]
    expected = 5  # 差评 twice, 一般 three times
    out = leak_count(list(train), list(test))
    if isinstance(out, bool) or not isinstance(out, (int, np.integer, float, np.floating)):
        raise Wrong(f"leak_count should return a number (a count), got {type(out).__name__} {out!r}")
    if out != int(out):
        raise Wrong(f"leak_count should return a whole number, got {out!r}")
    out_int = int(out)
    if out_int != expected:
        if out_int == 2:
            raise Wrong("you counted distinct leaked texts (a set intersection); count every test ENTRY "
                        "whose text is in the training list, repeats included")
        if out_int == 3:
            raise Wrong("you counted training entries that occur in the test list; count TEST entries "
                        "that occur in the training list")
        if out_int == 7:
            raise Wrong("you counted pairs (a test entry times its training copies); count each test entry once, whatever the number of training copies")
        raise Wrong(f"train = {train}, test = {test}: {expected} test entries are in training, you returned {out_int}")
    if int(leak_count(test, train)) != 3:
        raise Wrong("with the lists swapped the answer should be 3: the function is not symmetric")
    arr_train, arr_test = np.array(train, dtype=object), np.array(test, dtype=object)
    if int(leak_count(arr_train, arr_test)) != expected:
        raise Wrong("leak_count should also work on NumPy object arrays of strings (like the chapter's X)")
    if int(leak_count(["a"], [])) != 0:
        raise Wrong("an empty test list has no leak: expected 0")
    return "repeated test entries, swapped arguments, NumPy arrays and an empty test list"
