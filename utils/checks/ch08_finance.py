"""Checkers for section 8.2 (finance: KS statistic, expected cost, strategy returns, seasonal naive, lexicon tone)."""
from __future__ import annotations

import numpy as np

from utils import finance as _fin
from utils.checks import Wrong, exercise, tolerance, number, shaped_array


def _number(value, what: str) -> float:
    return number(value, what)


_array = shaped_array  # one helper for chapter 8's checkers, in utils.checks


# --- 8.2.1 KS statistic ----------------------------------------------------------------------

def _ks_per_index(y, s):
    """The tempting but wrong version: a gap after every sorted example, ties split."""
    order = np.argsort(s, kind="stable")
    y = np.asarray(y)[order]
    return float(np.max(np.abs(np.cumsum(y) / y.sum() - np.cumsum(1 - y) / (1 - y).sum())))


@exercise("8.2.1", "Kolmogorov-Smirnov statistic of a credit score")
def _check_ks(ks_statistic) -> str:
    rng = np.random.default_rng(821)
    cases = [(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.8, 0.9]), 1.0),  # perfect separation
             (np.array([1, 0, 1, 0]), np.array([0.5, 0.5, 0.5, 0.5]), 0.0),  # one tied score: no gap
             (np.array([0, 1, 0, 1, 0]), np.array([0.1, 0.3, 0.3, 0.7, 0.9]), None)]
    for _ in range(6):
        n = int(rng.integers(20, 80))
        y = rng.integers(0, 2, size=n)
        y[:2] = [0, 1]
        s = np.round(rng.normal(size=n) + 0.8 * y, 1)  # rounding makes ties
        cases.append((y, s, None))
    for y, s, known in cases:
        expected = _fin.ks_statistic(y, s)
        if known is not None:
            assert abs(expected - known) < 1e-12
        got = _number(ks_statistic(y.copy(), s.copy()), "ks_statistic(...)")
        if abs(got - expected) <= 1e-9:
            continue
        if abs(got - _ks_per_index(y, s)) <= 1e-9:
            raise Wrong(f"for scores with ties you return {got:.4f}, expected {expected:.4f} "
                        f"(the check allows {tolerance(atol=1e-9)}): "
                        "a cut-off cannot split equal scores, so take the gap only after the last of each tied group")
        if abs(got - 100 * expected) <= 1e-7:
            raise Wrong(f"you return {got:.4f}: the statistic is a fraction between 0 and 1, not a percentage")
        if expected > 0 and abs(got) <= 1e-9:
            raise Wrong(f"you return 0, expected {expected:.4f}: is the gap signed? Take the absolute gap "
                        "|share of bad - share of good| (which share is larger depends on the score's direction)")
        raise Wrong(f"ks_statistic should be {expected:.6f} for {len(y)} loans, got {got:.6f} "
                    f"(the check allows {tolerance(atol=1e-9)}); "
                    "compare the two cumulative shares at every distinct score and take the largest absolute gap")
    flipped = _number(ks_statistic(cases[0][0], -cases[0][1]), "ks_statistic(...)")
    if abs(flipped - 1.0) > 1e-9:
        raise Wrong(f"a score that ranks bad loans *below* good ones separates them just as well: KS of the negated "
                    f"score should be 1.0, got {flipped:.4f} (take the absolute gap)")
    return f"{len(cases) + 1} score sets: perfect separation, all-tied, negated scores and random scores with ties"


# --- 8.2.2 expected cost -----------------------------------------------------------------------

@exercise("8.2.2", "expected cost of a credit cut-off")
def _check_cost(expected_cost) -> str:
    rng = np.random.default_rng(822)
    y = rng.integers(0, 2, size=50)
    p = np.round(rng.uniform(size=50), 2)
    p[:3] = 0.4  # scores exactly at a cut-off: refused (p >= cutoff)
    cases = [(0.4, 5.0, 1.0), (0.2, 5.0, 1.0), (0.7, 2.0, 3.0), (0.0, 5.0, 1.0), (1.01, 5.0, 1.0)]
    for cutoff, cb, cg in cases:
        expected = _fin.expected_cost(y, p, cutoff, cb, cg)
        got = _number(expected_cost(y.copy(), p.copy(), cutoff, cb, cg), "expected_cost(...)")
        if abs(got - expected) <= 1e-9:
            continue
        swapped = _fin.expected_cost(y, p, cutoff, cg, cb)
        if abs(got - swapped) <= 1e-9 and cb != cg:
            raise Wrong(f"cut-off {cutoff}, cost_bad {cb}, cost_good {cg}: got {got:.4f}, expected {expected:.4f}: "
                        "the costs are swapped (cost_bad is paid for an APPROVED bad loan, cost_good for a REFUSED "
                        "good applicant)")
        if abs(got - expected * len(y)) <= 1e-7:
            raise Wrong(f"you return the total cost {got:.2f}; the exercise asks for the average per applicant "
                        f"({expected:.4f})")
        strict = float((cb * np.sum((y == 1) & (p <= cutoff)) + cg * np.sum((y == 0) & (p > cutoff))) / len(y))
        if abs(got - strict) <= 1e-9:
            raise Wrong(f"at cut-off {cutoff} an applicant with p_bad exactly {cutoff} must be refused (p >= cutoff); "
                        f"got {got:.4f}, expected {expected:.4f}")
        raise Wrong(f"expected_cost at cut-off {cutoff} (cost_bad {cb}, cost_good {cg}) should be {expected:.6f}, "
                    f"got {got:.6f} (the check allows {tolerance(atol=1e-9)})")
    return f"{len(cases)} cut-offs on 50 applicants, including scores tied with the cut-off and refuse-all/approve-all"


# --- 8.2.3 strategy returns ----------------------------------------------------------------------

@exercise("8.2.3", "daily strategy returns net of transaction costs")
def _check_strategy(strategy_returns) -> str:
    rng = np.random.default_rng(823)
    r = np.round(rng.normal(0, 0.01, size=12), 4)
    cases = [np.array([1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0], float),
             np.array([1, -1, -1, 0, 1, -1, 0, 0, 1, 1, 1, -1], float),
             np.ones(12), np.zeros(12)]
    for pos in cases:
        for cost in (0.0005, 0.0):
            expected = _fin.strategy_returns(pos, r, cost)
            got = _array(strategy_returns(pos.copy(), r.copy(), cost), expected.shape, "strategy_returns(...)")
            if np.allclose(got, expected, atol=1e-12, rtol=0):
                continue
            if np.allclose(got, pos * r, atol=1e-12):
                raise Wrong(f"no cost is subtracted (cost {cost}): pay cost x |change of position| on each trade")
            if np.allclose(got, pos * r - cost * np.abs(pos), atol=1e-12):
                raise Wrong("you charge the cost every day the position is held; it is paid only when the position "
                            "changes, on the amount traded |pos[t] - pos[t-1]|")
            late = pos * r - cost * np.abs(np.diff(pos, prepend=pos[0]))
            if np.allclose(got, late, atol=1e-12):
                raise Wrong("the first day's position is bought from cash, so it pays the cost too "
                            f"(expected first value {expected[0]:.6f}, got {got[0]:.6f})")
            if np.allclose(got, pos * r - cost * (np.diff(np.r_[0.0, pos]) != 0), atol=1e-12):
                raise Wrong("a switch from short (-1) to long (+1) trades 2 units, not 1: use |pos[t] - pos[t-1]|")
            if np.allclose(got[1:], (pos[:-1] * r[1:] - cost * np.abs(np.diff(np.r_[0.0, pos]))[:-1]), atol=1e-12):
                raise Wrong("positions[t] is already the position held over day t's return; do not shift it")
            bad = int(np.flatnonzero(~np.isclose(got, expected, atol=1e-12, rtol=0))[0])
            raise Wrong(f"for positions {pos.astype(int).tolist()} and cost {cost}: day {bad} should be "
                        f"{expected[bad]:.6f}, got {got[bad]:.6f} (the check allows {tolerance(atol=1e-12)})")
    return f"{len(cases)} position paths (long/cash, long/short, always long, always cash), with and without costs"


# --- 8.2.4 seasonal naive ------------------------------------------------------------------------

@exercise("8.2.4", "seasonal-naive forecast")
def _check_snaive(seasonal_naive) -> str:
    y = np.array([3.0, 5.0, 7.0, 4.0, 6.0, 8.0, 5.0])  # period 3: the last season is 6, 8, 5 (steps 4, 5, 6)
    cases = [(3, 3), (3, 2), (3, 7), (1, 4), (7, 3), (2, 5)]
    for period, horizon in cases:
        expected = _fin.seasonal_naive(y, period, horizon)
        got = _array(seasonal_naive(y.copy(), period, horizon), (horizon,), f"seasonal_naive(y, {period}, {horizon})")
        if np.allclose(got, expected, atol=1e-12):
            continue
        if np.allclose(got, np.full(horizon, y[-1])):
            raise Wrong(f"period {period}: you repeat the last value {y[-1]}: that is the naive forecast; "
                        f"seasonal naive takes the value one period earlier, {expected.tolist()}")
        if np.allclose(got, np.resize(y[-period - 1:-1], horizon)):
            raise Wrong(f"period {period}: off by one, got {got.tolist()}, expected {expected.tolist()} "
                        "(the last season is y[-period:])")
        if np.allclose(got, np.resize(y[:period], horizon)):
            raise Wrong(f"period {period}: you used the FIRST season {y[:period].tolist()}; "
                        f"use the most recent one, y[-period:] = {y[-period:].tolist()}")
        raise Wrong(f"seasonal_naive(y, {period}, {horizon}) should be {expected.tolist()}, got {got.tolist()}")
    return f"{len(cases)} (period, horizon) pairs, including horizons shorter and longer than a period"


# --- 8.2.5 lexicon tone ------------------------------------------------------------------------

@exercise("8.2.5", "lexicon tone of a list of texts")
def _check_tone(lexicon_tone) -> str:
    positive, negative = {"gain", "strong", "improved"}, {"loss", "decline", "weak"}
    docs = ["net loss vs loss a year ago",          # repeated negative word: -1
            "strong gain despite weak demand",     # 2 positive, 1 negative: 1/3
            "shr cts vs cts",                      # no lexicon word: NaN
            "glossy report on a gainful year",     # substrings only: NaN
            "improved gain gain after loss",       # 3 positive, 1 negative: 0.5
            "decline"]                             # one word: -1
    expected = _fin.lexicon_tone(docs, positive, negative)
    assert np.isnan(expected[2]) and np.isnan(expected[3]) and abs(expected[1] - 1 / 3) < 1e-12
    got = _array(lexicon_tone(list(docs), set(positive), set(negative)), expected.shape, "lexicon_tone(...)")
    if np.allclose(got, expected, atol=1e-12, equal_nan=True):
        return (f"{len(docs)} texts: repeated words, no lexicon word, lexicon words only inside longer words, "
                "mixed tone")
    none = np.isnan(expected)
    if np.allclose(got[~none], expected[~none], atol=1e-12) and np.allclose(got[none], 0.0):
        raise Wrong("a text without any lexicon word gets tone 0; it should be NaN: no evidence is not "
                    "neutral evidence (and a 0 would be counted as a label)")
    sets = [(len({w for w in d.split() if w in positive}), len({w for w in d.split() if w in negative}))
            for d in docs]
    with np.errstate(invalid="ignore"):
        distinct = np.array([(p - n) / (p + n) if p + n else np.nan for p, n in sets])
    if np.allclose(got, distinct, atol=1e-12, equal_nan=True):
        raise Wrong(f"for {docs[4]!r} you return {got[4]:.4f}, expected {expected[4]:.4f}: count every "
                    "occurrence of a word, not each distinct word once")
    if not np.isnan(got[3]) and np.allclose(got[[0, 1, 4, 5]], expected[[0, 1, 4, 5]], atol=1e-12):
        raise Wrong(f"for {docs[3]!r} you return {got[3]:.4f}: split the text on whitespace and match whole "
                    "tokens ('gain' inside 'gainful' is not a hit); the tone should be NaN")
    lengths = np.array([len(d.split()) for d in docs])
    if np.allclose(got[[0, 1, 4]], (expected * np.array(
            [sum(w in positive or w in negative for w in d.split()) for d in docs]) / lengths)[[0, 1, 4]], atol=1e-12):
        raise Wrong("you divide by the number of words; the tone divides by P + N, the lexicon words only, "
                    f"so it lies in [-1, 1] (expected {expected[1]:.4f} for {docs[1]!r}, got {got[1]:.4f})")
    bad = int(np.flatnonzero(~np.isclose(got, expected, atol=1e-12, equal_nan=True))[0])
    raise Wrong(f"for {docs[bad]!r} the tone should be {expected[bad]:.6f}, got {got[bad]:.6f} "
                f"(the check allows {tolerance(atol=1e-12)}; NaN when the text has no lexicon word)")
