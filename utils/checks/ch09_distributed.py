"""Checkers for section 9.3 (distributed training: ring traffic, buckets, pipeline bubble, ZeRO)."""
from __future__ import annotations

import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, number


def _number(value, what: str) -> float:
    return number(value, what)


# --- 9.3.1 ring traffic ----------------------------------------------------------------------

@exercise("9.3.1", "bytes each rank sends in a ring all-reduce")
def _check_ring_bytes(ring_bytes_sent) -> str:
    cases = [(4000, 2), (6000, 3), (8000, 4), (1_600_000, 8), (1_024_000, 1024), (500, 1)]
    for n, w in cases:
        got = _number(ring_bytes_sent(n, w), f"ring_bytes_sent({n}, {w})")
        expected = 2 * (w - 1) * n / w
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9):
            continue
        what = f"ring_bytes_sent({n}, {w})"
        if w == 1:
            raise Wrong(f"{what} should be 0: a single rank already holds the sum and sends nothing; you returned {got:g}")
        if math.isclose(got, (w - 1) * n / w):
            hint = ("that is the reduce-scatter alone; the all-gather sends the complete chunks around "
                    "the ring once more")
        elif math.isclose(got, (w - 1) * n):
            hint = "(W - 1) n is what rank 0 sends in the naive all-reduce (gather to rank 0, then send back)"
        elif math.isclose(got, 2 * n):
            hint = "each step moves one chunk of n / W bytes, not the whole tensor, and there are 2 (W - 1) steps"
        elif math.isclose(got, 2 * (w - 1) * n):
            hint = "each of the 2 (W - 1) steps sends one chunk of n / W bytes, not the whole tensor"
        else:
            hint = "count the steps of reduce-scatter and all-gather and the size of one chunk"
        raise not_close(what, got, expected, rtol=1e-9, hint=hint)
    return (f"{len(cases)} cases from 1 to 1024 ranks: 2 (W - 1) / W times the tensor, "
            "exact to a relative 1e-9")


# --- 9.3.2 buckets -------------------------------------------------------------------------

def _bucketed(total, bucket, alpha, beta):
    return math.ceil(total / bucket) * alpha + total * beta


@exercise("9.3.2", "time to all-reduce gradients in buckets")
def _check_bucketed_time(bucketed_time) -> str:
    cases = [(1e6, 1e6, 1e-4, 1e-9), (1e6, 1e3, 1e-4, 1e-9), (1e6, 3e5, 2e-5, 5e-10),
             (497_759_232, 25e6, 1e-5, 1e-11), (1e6, 4e6, 1e-4, 1e-9), (10, 3, 1.0, 0.5)]
    for total, bucket, alpha, beta in cases:
        what = f"bucketed_time({total:g}, {bucket:g}, {alpha:g}, {beta:g})"
        got = _number(bucketed_time(total, bucket, alpha, beta), what)
        expected = _bucketed(total, bucket, alpha, beta)
        if math.isclose(got, expected, rel_tol=1e-9):
            continue
        if math.isclose(got, (total // bucket) * alpha + total * beta, rel_tol=1e-9) or \
                math.isclose(got, max(1, total // bucket) * alpha + total * beta, rel_tol=1e-9):
            hint = "the last, partly filled bucket is a message too: round the number of buckets up (math.ceil)"
        elif math.isclose(got, total / bucket * alpha + total * beta, rel_tol=1e-9):
            hint = "the number of messages is a whole number: round total / bucket up (math.ceil)"
        elif math.isclose(got, total * beta, rel_tol=1e-9):
            hint = "every bucket also pays the latency alpha once"
        elif math.isclose(got, alpha + total * beta, rel_tol=1e-9):
            hint = "that is one message: each bucket is a separate all-reduce and pays alpha"
        elif math.isclose(got, math.ceil(total / bucket) * (alpha + bucket * beta), rel_tol=1e-9):
            hint = "the last bucket is only partly filled: the bytes sent are total_bytes, not buckets x bucket_bytes"
        else:
            hint = "ceil(total / bucket) messages, each paying alpha, and total_bytes x beta for the bytes"
        raise not_close(what, got, expected, rtol=1e-9, hint=hint)
    return f"{len(cases)} cases, from one bucket to a thousand and a partly filled last bucket, to a relative 1e-9"


# --- 9.3.3 pipeline bubble ------------------------------------------------------------------

@exercise("9.3.3", "the pipeline bubble")
def _check_bubble(bubble_fraction) -> str:
    cases = [(1, 1), (1, 8), (2, 1), (4, 4), (4, 16), (8, 32), (3, 7)]
    for p, m in cases:
        what = f"bubble_fraction({p}, {m})"
        got = _number(bubble_fraction(p, m), what)
        expected = (p - 1) / (m + p - 1)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        if p > 1 and math.isclose(got, (p - 1) / m, rel_tol=1e-9):
            hint = ("(p - 1) / m is idle time divided by busy time; the exercise asks for the idle share of "
                    "the whole span of m + p - 1 time units")
        elif p > 1 and math.isclose(got, (p - 1) / (m + p), rel_tol=1e-9):
            hint = "the span is m + p - 1 units: the last micro-batch enters stage p at time m + p - 2"
        elif math.isclose(got, 1 - expected, rel_tol=1e-9):
            hint = "that is the busy share; the bubble is the idle share"
        else:
            hint = "each stage is busy m units out of a span of m + p - 1 units"
        raise not_close(what, got, expected, rtol=1e-9, hint=hint)
    return f"{len(cases)} pipelines from 1 to 8 stages: (p - 1) / (m + p - 1), to a relative 1e-9"


# --- 9.3.4 smallest ZeRO stage --------------------------------------------------------------

def _needed(n, gpus, stage) -> float:
    from utils.distributed import memory_per_gpu

    return sum(memory_per_gpu(n, gpus, zero_stage=stage).values())


def _smallest(n, gpus, gpu_bytes):
    for stage in range(4):
        if _needed(n, gpus, stage) <= gpu_bytes:
            return stage
    return None


@exercise("9.3.4", "the smallest ZeRO stage that fits")
def _check_smallest_stage(smallest_zero_stage) -> str:
    cases = [(1e9, 8, 80e9), (7.5e9, 64, 80e9), (7.5e9, 64, 24e9), (7.5e9, 64, 10e9), (7.5e9, 64, 1e9),
             (70e9, 64, 80e9), (175e9, 1024, 80e9), (175e9, 8, 80e9), (7.5e9, 1, 120e9)]
    for n, gpus, mem in cases:
        what = f"smallest_zero_stage({n:g}, {gpus}, {mem:g})"
        got = smallest_zero_stage(n, gpus, mem)
        expected = _smallest(n, gpus, mem)
        if got == expected and (got is None) == (expected is None) and not isinstance(got, bool):
            continue
        if isinstance(got, bool) or (got is not None and not isinstance(got, (int, np.integer))):
            raise Wrong(f"{what} should be a stage number (0 to 3) or None, got {type(got).__name__} {got!r}")
        if got is not None and got not in range(4):
            raise Wrong(f"{what} returned {got}: ZeRO has stages 0 (none) to 3 only; return None when nothing fits")
        need = {s: _needed(n, gpus, s) / 1e9 for s in range(4)}
        if expected is None:
            raise Wrong(f"{what} should be None: even ZeRO-3 needs {need[3]:g} GB per GPU, more than "
                        f"{mem / 1e9:g} GB; you returned {got!r}")
        if got is None:
            raise Wrong(f"{what} should be {expected}: stage {expected} needs {need[expected]:g} GB per GPU, "
                        f"at most the {mem / 1e9:g} GB available (a state that fills the GPU exactly fits); "
                        "you returned None")
        if got > expected:
            raise Wrong(f"{what} should be {expected}, you returned {got}: stage {expected} already fits "
                        f"({need[expected]:g} GB of {mem / 1e9:g} GB); return the *smallest* stage, trying 0, 1, 2, 3 in order")
        raise Wrong(f"{what} should be {expected}, you returned {got}: stage {got} needs {need[got]:g} GB per GPU, "
                    f"more than {mem / 1e9:g} GB (sum weights, gradients and optimizer states from D.memory_per_gpu)")
    return f"{len(cases)} models and clusters, including one that fits exactly at the limit and ones that never fit"
