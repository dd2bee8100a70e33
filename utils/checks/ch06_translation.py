"""Checkers for section 6.3 (machine translation: sequence to sequence with attention)."""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance

_WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _expected_chinese(d: dt.date, weekday: bool) -> str:
    out = f"{d.year}年{d.month}月{d.day}日"
    return out + _WEEKDAYS_ZH[d.weekday()] if weekday else out


# --- 6.3.1 -------------------------------------------------------------------------

@exercise("6.3.1", "the Chinese date format")
def _check_to_chinese(to_chinese) -> str:
    cases = [dt.date(1998, 3, 7), dt.date(2008, 8, 8), dt.date(1969, 7, 20), dt.date(2000, 2, 29),
             dt.date(2049, 12, 31), dt.date(1950, 1, 1), dt.date(2023, 10, 1), dt.date(1984, 11, 25)]
    for d in cases:
        for weekday in (False, True):
            got = to_chinese(d, weekday)
            want = _expected_chinese(d, weekday)
            if not isinstance(got, str):
                raise Wrong(f"to_chinese({d!r}, {weekday}) should return a string, got {type(got).__name__}")
            if got == want:
                continue
            if got.strip() == want:
                raise Wrong(f"remove the spaces around the result: got {got!r}, expected {want!r}")
            if f"{d.month:02d}月" in got and d.month < 10 or f"{d.day:02d}日" in got and d.day < 10:
                raise Wrong(f"no leading zeros in Chinese dates: {d} is {want!r}, you wrote {got!r}")
            if not weekday and got.startswith(want) and got != want:
                raise Wrong(f"the weekday is added only when weekday=True: to_chinese({d}, False) should be "
                            f"{want!r}, got {got!r}")
            if weekday and got == _expected_chinese(d, False):
                raise Wrong(f"weekday=True should append the weekday: {d} is {want!r}, got {got!r}")
            if weekday and got.startswith(_expected_chinese(d, False)):
                tail = got[len(_expected_chinese(d, False)):]
                if tail == "星期七":
                    raise Wrong("Sunday is 星期日 (or 星期天), not 星期七; the course uses 星期日")
                shifted = {_WEEKDAYS_ZH[(d.weekday() + s) % 7]: s for s in (-1, 1)}
                if tail in shifted:
                    raise Wrong(f"the weekday is off by one day ({d} is a {_WEEKDAYS_EN[d.weekday()]}: "
                                f"{_WEEKDAYS_ZH[d.weekday()]}); date.weekday() is 0 for Monday, "
                                "date.isoweekday() is 1 for Monday")
                raise Wrong(f"{d} is a {_WEEKDAYS_EN[d.weekday()]}, so the weekday is {_WEEKDAYS_ZH[d.weekday()]}; "
                            f"you wrote {tail!r}")
            raise Wrong(f"to_chinese({d!r}, {weekday}) should be {want!r}, got {got!r}")
    return "8 dates, with and without the weekday (computed from the date), no leading zeros"


# --- 6.3.2 -------------------------------------------------------------------------

def _ref_clipped(candidate, reference, n):
    c = Counter(tuple(candidate[i:i + n]) for i in range(len(candidate) - n + 1))
    r = Counter(tuple(reference[i:i + n]) for i in range(len(reference) - n + 1))
    return sum(min(k, r[g]) for g, k in c.items()), sum(c.values())


def _pair(value, what: str) -> tuple[int, int]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Wrong(f"{what} should return a pair (clipped matches, number of candidate n-grams), "
                    f"got {value!r}")
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should return two counts, got {value!r}")
    return a, b


@exercise("6.3.2", "clipped n-gram precision")
def _check_clipped_precision(clipped_precision) -> str:
    cases = [("the the the the the the the", "the cat is on the mat", 1),
             ("1998年3月8日", "1998年3月7日", 1), ("1998年3月8日", "1998年3月7日", 2),
             ("1998年3月8日", "1998年3月7日", 4), ("1999年9月9日", "1990年9月19日", 1),
             ("1999年9月9日", "1990年9月19日", 2), ("12月", "1998年12月1日", 4),
             ("a b a b a b", "a b c a b", 2)]
    for cand_text, ref_text, n in cases:
        words = " " in cand_text  # English sentences are words, dates are characters
        cand, ref = (cand_text.split(), ref_text.split()) if words else (list(cand_text), list(ref_text))
        want = _ref_clipped(cand, ref, n)
        what = f"clipped_precision({cand_text!r} vs {ref_text!r}, n={n})"
        got = _pair(clipped_precision(list(cand), list(ref), n), what)
        if got == want:
            continue
        total = max(len(cand) - n + 1, 0)
        unclipped = sum(1 for i in range(total) if tuple(cand[i:i + n]) in
                        {tuple(ref[j:j + n]) for j in range(len(ref) - n + 1)})
        if got[1] == total - 1 or got[1] == total + 1:
            raise Wrong(f"{what}: a sentence of {len(cand)} tokens has {total} n-grams of length {n} "
                        f"(len - n + 1), you counted {got[1]:g}")
        if got[1] != want[1]:
            raise Wrong(f"{what}: the denominator is the number of n-grams in the CANDIDATE, {want[1]}; "
                        f"got {got[1]:g}")
        if got[0] == unclipped and unclipped != want[0]:
            raise Wrong(f"{what}: {got[0]:g} matches is unclipped; a candidate n-gram counts at most as often "
                        f"as it occurs in the reference (the answer is {want[0]})")
        raise Wrong(f"{what} should be {want}, got {tuple(got)}")
    return "8 cases, including Papineni's 'the the the …' (2 of 7) and a date with one wrong digit"


# --- 6.3.3 -------------------------------------------------------------------------

@exercise("6.3.3", "brevity penalty")
def _check_brevity_penalty(brevity_penalty) -> str:
    for c, r in [(9, 12), (12, 12), (15, 12), (12, 28), (7, 11), (1, 5), (14, 9)]:
        got = brevity_penalty(c, r)
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise Wrong(f"brevity_penalty({c}, {r}) should return a number, got {type(got).__name__}")
        want = 1.0 if c > r else math.exp(1 - r / c)
        if math.isclose(got, want, rel_tol=1e-9):
            continue
        if c > r:
            raise Wrong(f"brevity_penalty({c}, {r}) = {numbers(got, want)[0]} (the check allows {tolerance(1e-9)} "
                        "from 1): a candidate LONGER than the reference is not penalised (BP = 1, never more); "
                        "n-gram precision already punishes extra tokens")
        if math.isclose(got, math.exp(1 - c / r), rel_tol=1e-9):
            raise Wrong(f"brevity_penalty({c}, {r}): the ratio is upside down; BP = exp(1 - r/c) with c the "
                        "candidate length and r the reference length")
        if math.isclose(got, c / r, rel_tol=1e-9):
            raise Wrong(f"brevity_penalty({c}, {r}): the penalty is exponential, exp(1 - r/c), not the ratio c/r")
        raise not_close(f"brevity_penalty({c}, {r})", got, want, rtol=1e-9)
    got = brevity_penalty(0, 5)
    if not (isinstance(got, (int, float, np.floating)) and got == 0):
        raise Wrong(f"an empty candidate (c = 0) should get BP = 0 (exp(1 - r/c) tends to 0), got {got!r}")
    return "short, equal, long and empty candidates, e.g. BP(12, 28) = 0.2636 (Papineni et al.)"


# --- 6.3.4 -------------------------------------------------------------------------

def _ref_context(scores, values, mask):
    s = np.where(mask[None, :], scores, -np.inf)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return w @ values, w


@exercise("6.3.4", "the context vector from attention scores")
def _check_attention_context(attention_context) -> str:
    rng = np.random.default_rng(63)
    tests = []
    for T_q, T_k, d, pads in ((3, 4, 3, 0), (3, 5, 4, 2), (1, 6, 2, 2), (4, 4, 3, 1)):
        scores = rng.normal(size=(T_q, T_k)) * 2
        values = rng.normal(size=(T_k, d))
        mask = np.arange(T_k) < T_k - pads  # the last `pads` positions are padding
        tests.append((scores, values, mask))
    tests.append((np.array([[1000.0, 999.0, 0.0]]), np.eye(3), np.array([True, True, True])))  # large scores
    for scores, values, mask in tests:
        out = attention_context(scores.copy(), values.copy(), mask.copy())
        try:
            context = np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise Wrong("attention_context should return the context vectors as a NumPy array "
                        f"(one row per query), got {type(out).__name__}")
        want, w = _ref_context(scores, values, mask)
        if context.shape != want.shape:
            raise Wrong(f"for scores {scores.shape} and values {values.shape} the context should have shape "
                        f"{want.shape} (queries x value features), got {context.shape}")
        if not np.all(np.isfinite(context)):
            raise Wrong("the context has NaN or inf: subtract the row maximum of the (masked) scores before "
                        "np.exp, so that scores like 1000 do not overflow")
        if np.allclose(context, want, atol=1e-9):
            continue
        with np.errstate(all="ignore"):  # the diagnoses may divide 0 by 0 on purpose
            raise Wrong(_diagnose_context(context, scores, values, mask, want))
    return "masked softmax over each query's scores, then the weighted average of the values (also for scores ~1000)"


def _diagnose_context(context, scores, values, mask, want) -> str:
    """What a wrong context most likely got wrong."""
    no_mask, _ = _ref_context(scores, values, np.ones_like(mask))
    if np.allclose(context, no_mask, atol=1e-9):
        return ("padded positions (mask False) got weight: set their scores to -inf before the softmax "
                "so that their weight is exactly 0")
    e = np.exp(scores - scores.max(axis=0, keepdims=True)) * mask[None, :]
    if np.allclose(context, (e / e.sum(axis=0, keepdims=True)) @ values, atol=1e-9):
        return ("the softmax runs over the wrong axis: each QUERY's weights (a row of scores) must "
                "sum to 1, i.e. normalise along axis=-1")
    if np.allclose(context, np.where(mask[None, :], scores, 0) @ values, atol=1e-9) or \
            np.allclose(context, scores @ values, atol=1e-9):
        return "the scores were used as weights directly; turn them into probabilities with a softmax first"
    q = int(np.argmax(np.abs(context - want).max(axis=1)))  # the query furthest off
    yours, right = numbers(context[q], want[q])
    return (f"wrong context vectors: for query {q} expected {right}, got {yours} "
            f"(the check allows {tolerance(1e-5, 1e-9)})")
