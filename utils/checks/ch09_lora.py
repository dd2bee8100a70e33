"""Checkers for section 9.2 (pretraining, transfer, LoRA, deduplication)."""
from __future__ import annotations

import numbers

import numpy as np
import torch

from utils.checks import Wrong, exercise


def _number(value, what: str) -> float:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    x = float(value)
    if not np.isfinite(x):
        raise Wrong(f"{what} is {x}")
    return x


@exercise("9.2.1", "trainable parameters of one LoRA layer")
def _check_lora_param_count(lora_param_count) -> str:
    cases = [(64, 192, 4), (64, 64, 1), (256, 64, 16), (4096, 4096, 8), (4096, 11008, 64), (10, 3, 2)]
    for d_in, d_out, r in cases:
        got = _number(lora_param_count(d_in, d_out, r), f"lora_param_count({d_in}, {d_out}, {r})")
        expected = r * (d_in + d_out)
        if got == expected:
            continue
        if got == r * d_in * d_out:
            raise Wrong(f"lora_param_count({d_in}, {d_out}, {r}) = {got:.0f} = r * d_in * d_out: A is (r, d_in) "
                        f"and B is (d_out, r), two thin matrices whose sizes add up")
        if got == expected + d_in * d_out or got == expected + d_in * d_out + d_out:
            raise Wrong(f"lora_param_count({d_in}, {d_out}, {r}) = {got:.0f} includes the frozen weight W "
                        f"(d_in * d_out = {d_in * d_out}); count only the trainable A and B")
        if got in (r * d_in, r * d_out, d_in + d_out):
            raise Wrong(f"lora_param_count({d_in}, {d_out}, {r}) = {got:.0f} counts one matrix or forgets r: "
                        f"A has r * d_in = {r * d_in} and B has d_out * r = {r * d_out} numbers")
        raise Wrong(f"lora_param_count({d_in}, {d_out}, {r}) should be {expected}, got {got:.0f}")
    return f"{len(cases)} layer shapes and ranks, exactly (r (d_in + d_out))"


@exercise("9.2.2", "merge a LoRA update into the weight")
def _check_merge_weight(merge_weight) -> str:
    g = torch.Generator().manual_seed(92)
    cases = [(5, 3, 2, 4.0), (7, 4, 1, 1.0), (6, 6, 3, 8.0), (3, 8, 2, 0.5)]
    for d_in, d_out, r, alpha in cases:
        W = torch.randn(d_out, d_in, generator=g, dtype=torch.float64)
        A = torch.randn(r, d_in, generator=g, dtype=torch.float64)
        B = torch.randn(d_out, r, generator=g, dtype=torch.float64)
        W_before = W.clone()
        what = f"merge_weight(W {d_out}x{d_in}, A {r}x{d_in}, B {d_out}x{r}, alpha={alpha:g}, r={r})"
        try:
            got = merge_weight(W, A, B, alpha, r)
        except RuntimeError as err:
            if "mat" in str(err) or "shape" in str(err) or "size" in str(err):
                raise Wrong(f"{what} raised a shape error ({err}); the update is B @ A, of shape (d_out, d_in)")
            raise
        if not torch.equal(W, W_before):
            raise Wrong(f"{what} modified W in place; return a new tensor (W + ...), so the pretrained "
                        "weight stays available for other adapters")
        got = torch.as_tensor(got, dtype=torch.float64)
        expected = W + (alpha / r) * (B @ A)
        if got.shape != expected.shape:
            raise Wrong(f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)} (like W)")
        err = (got - expected).abs().max().item()
        if err <= 1e-10:
            continue
        for wrong, reason in (((alpha / r) * (B @ A), "returned only the update: add it to W"),
                              (W + B @ A, "forgot the scale alpha / r"),
                              (W + (r / alpha) * (B @ A), "used r / alpha; the scale is alpha / r"),
                              (W + alpha * (B @ A), "scaled by alpha; the scale is alpha / r"),
                              (W - (alpha / r) * (B @ A), "subtracted the update (that is unmerge)")):
            if torch.allclose(got, wrong, rtol=0, atol=1e-10):
                raise Wrong(f"{what}: you {reason}")
        raise Wrong(f"{what} differs from W + (alpha / r) B A by up to {err:.3e} (tolerance 1e-10)")
    return f"{len(cases)} random cases in float64, within 1e-10, W left unchanged"


_DEDUP_CASES = [
    (["a long passage here", "short", "a long passage here", "short", "another long one!"], 10,
     ["a long passage here", "short", "short", "another long one!"]),
    (["xxxxxxxxxx", "yyyyyyyyyy", "xxxxxxxxxx", "xxxxxxxxxx", "yyyyyyyyyy", "zz"], 10,
     ["xxxxxxxxxx", "yyyyyyyyyy", "zz"]),
    (["b" * 12, "a" * 12, "b" * 12], 12, ["b" * 12, "a" * 12]),
    (["Exit.", "Exit.", "Exit."], 6, ["Exit.", "Exit.", "Exit."]),
    ([], 5, []),
    (["one", "one"], 1, ["one"]),
    (["Good night, sweet prince", "Good night, sweet prince "], 5,
     ["Good night, sweet prince", "Good night, sweet prince "]),
]


def _first_kept(passages, min_chars):
    seen, out = set(), []
    for p in passages:
        if len(p) >= min_chars:
            if p in seen:
                continue
            seen.add(p)
        out.append(p)
    return out


def _mistakes(passages, min_chars):
    """What common wrong versions return, with the reason each is wrong."""
    long_counts = {p: passages.count(p) for p in passages}
    last = [p for i, p in enumerate(passages) if len(p) < min_chars or p not in passages[i + 1:]]
    return [
        ([p for p in passages if len(p) < min_chars or long_counts[p] == 1],
         "you removed every copy of a repeated passage, including the first; keep one"),
        (last, "you kept the last occurrence of each passage; keep the first, where it first appeared"),
        (list(dict.fromkeys(passages)), f"you also removed repeated short passages (under {min_chars} "
                                        "characters); those are kept"),
        ([p.strip() for p in _first_kept([q.strip() for q in passages], min_chars)],
         "you stripped or normalised the passages; compare them exactly as given"),
    ]


@exercise("9.2.3", "deduplicate passages")
def _check_deduplicate(deduplicate_passages) -> str:
    for passages, min_chars, expected in _DEDUP_CASES:
        got = deduplicate_passages(list(passages), min_chars)
        if not isinstance(got, (list, tuple)):
            raise Wrong(f"deduplicate_passages should return a list, got {type(got).__name__}")
        got = list(got)
        if got == expected:
            continue
        what = f"deduplicate_passages({passages!r}, {min_chars}) = {got!r}"
        for wrong, reason in _mistakes(passages, min_chars):
            if got == wrong:
                raise Wrong(f"{what}: {reason}")
        if sorted(got) == sorted(expected):
            raise Wrong(f"{what} has the right passages in the wrong order; keep the corpus order "
                        "(first occurrences), not a set's or a sorted order")
        raise Wrong(f"{what}; expected {expected!r}")
    return f"{len(_DEDUP_CASES)} lists: order, first occurrence, short passages kept, near-copies are not copies"


@exercise("9.2.4", "memory of fine-tuning with Adam")
def _check_finetune_bytes(finetune_bytes) -> str:
    cases = [(107_776, 0, 4.0), (107_776, 8_192, 4.0), (7e9, 16.8e6, 2.0), (7e9, 16.8e6, 0.5), (1000, 1000, 4.0)]
    for n_frozen, n_trainable, fb in cases:
        what = f"finetune_bytes({n_frozen:g}, {n_trainable:g}, frozen_bytes={fb:g})"
        got = _number(finetune_bytes(n_frozen, n_trainable, frozen_bytes=fb), what)
        expected = fb * n_frozen + 16 * n_trainable
        if np.isclose(got, expected, rtol=1e-9):
            continue
        if n_trainable and np.isclose(got, fb * n_frozen + 12 * n_trainable, rtol=1e-9):
            raise Wrong(f"{what} = {got:.6g}: a trainable parameter needs its weight (4), its gradient (4) and "
                        "Adam's m and v (4 + 4): 16 bytes; you counted 12")
        if n_trainable and np.isclose(got, fb * n_frozen + 8 * n_trainable, rtol=1e-9):
            raise Wrong(f"{what} = {got:.6g}: you counted Adam's two moments only; the trainable weights and their "
                        "gradients take 4 + 4 bytes more each (16 bytes per trainable parameter)")
        if np.isclose(got, 16 * (n_frozen + n_trainable), rtol=1e-9) or \
                np.isclose(got, 4 * n_frozen + 16 * n_trainable, rtol=1e-9):
            raise Wrong(f"{what} = {got:.6g}: a frozen parameter costs frozen_bytes = {fb:g} bytes (no gradient, "
                        "no Adam state)")
        if np.isclose(got, 16 * n_trainable, rtol=1e-9):
            raise Wrong(f"{what} = {got:.6g} leaves out the frozen weights: they must be in memory too "
                        f"({fb:g} bytes each)")
        raise Wrong(f"{what} should be {expected:.6g} bytes, got {got:.6g} (relative tolerance 1e-9)")
    return f"{len(cases)} cases, from the section's model to a 7B model in 4 bits"
