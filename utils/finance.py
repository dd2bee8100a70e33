"""Finance helpers for section 8.2: credit scoring, honest backtests, call-volume forecasts.

    from utils import finance as fin
    fin.ks_statistic(y_bad, p_bad)                    # Kolmogorov-Smirnov separation of a score
    fin.cost_cutoff(y_bad, p_bad, cost_bad=5, cost_good=1)   # the cut-off of least expected cost
    fin.reasons(contributions, names, k=3)            # why an applicant was refused
    fin.walk_forward(X, y, groups, make_model, first_group)  # refit on the past, predict the next block
    fin.strategy_returns(positions, returns, cost)     # daily returns net of transaction costs
    fin.block_bootstrap_ci(x, block=20)                # a confidence interval that respects autocorrelation
    fin.seasonal_naive(y, period, horizon)             # the forecast every forecast must beat
    fin.lexicon_tone(docs, positive, negative)         # (pos - neg) / (pos + neg) per text, NaN if no hit
    fin.earnings_direction(text)                       # -1 loss, +1 profit, 0 unknown (from "shr ...")

Conventions: ``y_bad`` is 1 for a defaulted (bad) loan, 0 for a good one; scores and
probabilities are of being bad. Returns are simple daily returns (0.01 = +1 %).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def _binary(y, who: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"{who} must be a non-empty 1-D array of 0/1 labels, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{who} must hold only 0 and 1 (1 = bad loan), got values {np.unique(y)[:5]}")
    return y.astype(np.int64)


def _scores(s, n: int, who: str) -> np.ndarray:
    s = np.asarray(s, dtype=np.float64)
    if s.shape != (n,):
        raise ValueError(f"{who} must have one score per label, shape ({n},), got {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"{who} must be finite")
    return s


# --- credit scoring ------------------------------------------------------------------------

def ks_statistic(y_bad, score) -> float:
    """Kolmogorov-Smirnov statistic of a credit score: the largest gap, over all cut-offs, between
    the share of bad loans and the share of good loans whose score lies at or below the cut-off.

    Equals ``scipy.stats.ks_2samp(score[bad], score[good]).statistic`` and max |TPR - FPR| of the ROC.
    """
    y = _binary(y_bad, "y_bad")
    s = _scores(score, len(y), "score")
    if y.min() == y.max():
        raise ValueError("ks_statistic needs both bad (1) and good (0) loans")
    order = np.argsort(s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each distinct score
    cdf_bad = np.cumsum(y)[last] / y.sum()
    cdf_good = np.cumsum(1 - y)[last] / (1 - y).sum()
    return float(np.max(np.abs(cdf_bad - cdf_good)))


def expected_cost(y_bad, p_bad, cutoff: float, cost_bad: float, cost_good: float) -> float:
    """Average cost per applicant when everyone with ``p_bad >= cutoff`` is refused.

    ``cost_bad``: the loss when a bad loan is approved; ``cost_good``: the profit lost when a good
    applicant is refused.
    """
    y = _binary(y_bad, "y_bad")
    p = _scores(p_bad, len(y), "p_bad")
    refuse = p >= cutoff
    return float((cost_bad * np.sum(y & ~refuse) + cost_good * np.sum((1 - y) & refuse)) / len(y))


def bayes_cutoff(cost_bad: float, cost_good: float) -> float:
    """The cut-off on a *calibrated* P(bad) that minimises expected cost: refuse when
    p * cost_bad > (1 - p) * cost_good, i.e. p > cost_good / (cost_good + cost_bad)."""
    if cost_bad <= 0 or cost_good <= 0:
        raise ValueError(f"costs must be positive, got cost_bad={cost_bad}, cost_good={cost_good}")
    return cost_good / (cost_good + cost_bad)


def cost_cutoff(y_bad, p_bad, cost_bad: float, cost_good: float) -> tuple[float, float]:
    """The cut-off (among the observed scores, plus 'refuse nobody') of least expected cost on
    these labels, and that cost. Choose it on validation data, never on the test set."""
    y = _binary(y_bad, "y_bad")
    p = _scores(p_bad, len(y), "p_bad")
    candidates = np.unique(p)
    # refusing p >= c: the bad loans approved are those with p < c, the good ones refused p >= c
    order = np.sort(p)
    bad_below = np.r_[0, np.cumsum(y[np.argsort(p, kind="stable")])]  # bad loans among the k lowest scores
    k = np.r_[np.searchsorted(order, candidates, side="left"), len(p)]  # applicants below each cut-off
    good_at_or_above = (len(y) - y.sum()) - (k - bad_below[k])
    costs = (cost_bad * bad_below[k] + cost_good * good_at_or_above) / len(y)
    candidates = np.r_[candidates, np.inf]
    best = int(np.argmin(costs))
    return float(candidates[best]), float(costs[best])


def score_points(log_odds_good, base_score: float = 600.0, base_odds: float = 50.0, pdo: float = 20.0):
    """Scorecard points: ``base_score`` at odds good:bad of ``base_odds``, and ``pdo`` more points
    each time the odds double (the industry's usual scaling)."""
    factor = pdo / np.log(2.0)
    return base_score + factor * (np.asarray(log_odds_good, dtype=np.float64) - np.log(base_odds))


def reasons(contributions, names: Sequence[str], k: int = 3) -> list[list[str]]:
    """For each row of ``contributions`` (applicants x features, in log-odds of being *bad*), the
    names of the ``k`` features that pushed most towards refusal (largest positive
    contributions, ties by feature order); features with no positive push are not reasons."""
    C = np.asarray(contributions, dtype=np.float64)
    if C.ndim == 1:
        C = C[None, :]
    names = list(names)
    if C.ndim != 2 or C.shape[1] != len(names):
        raise ValueError(f"contributions must be (applicants, {len(names)} features), got shape {C.shape}")
    out = []
    for row in C:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([names[j] for j in order if row[j] > 0])
    return out


# --- markets: walk-forward backtests ---------------------------------------------------------

def walk_forward(X, y, groups, make_model: Callable, first_group, proba: bool = True) -> np.ndarray:
    """Out-of-sample predictions by walk-forward validation.

    For each group ``g >= first_group`` (e.g. a calendar year, in increasing order), a fresh
    ``make_model()`` is fitted on every row whose group is *before* g and predicts the rows of
    g. Rows before ``first_group`` get NaN. With ``proba`` the prediction is
    ``predict_proba(...)[:, 1]``, else ``predict``.
    """
    X, y, groups = np.asarray(X), np.asarray(y), np.asarray(groups)
    if not (len(X) == len(y) == len(groups)):
        raise ValueError(f"X, y and groups must have the same length, got {len(X)}, {len(y)}, {len(groups)}")
    if np.any(np.diff(groups) < 0):
        raise ValueError("rows must be in time order: groups must not decrease")
    out = np.full(len(y), np.nan)
    for g in np.unique(groups[groups >= first_group]):
        train, test = groups < g, groups == g
        if train.sum() == 0:
            raise ValueError(f"no training rows before group {g}")
        model = make_model().fit(X[train], y[train])
        out[test] = model.predict_proba(X[test])[:, 1] if proba else model.predict(X[test])
    return out


def strategy_returns(positions, returns, cost: float) -> np.ndarray:
    """Daily returns of holding ``positions[t]`` (1 long, 0 cash, -1 short) over day t's return,
    minus ``cost`` (a fraction, e.g. 0.0005 = 5 basis points) per unit traded.

    The position on the first day is bought from cash, so it pays a cost too.
    """
    pos = np.asarray(positions, dtype=np.float64)
    r = np.asarray(returns, dtype=np.float64)
    if pos.shape != r.shape or pos.ndim != 1:
        raise ValueError(f"positions and returns must be 1-D of the same length, got {pos.shape} and {r.shape}")
    if cost < 0:
        raise ValueError(f"cost must be >= 0, got {cost}")
    traded = np.abs(np.diff(np.r_[0.0, pos]))
    return pos * r - cost * traded


def annualised(daily_returns, days: int = 252) -> dict[str, float]:
    """Compound annual growth rate, annualised volatility and Sharpe ratio (no risk-free rate)."""
    r = np.asarray(daily_returns, dtype=np.float64)
    growth = np.prod(1.0 + r) ** (days / len(r)) - 1.0
    vol = r.std(ddof=1) * np.sqrt(days)
    return {"cagr": float(growth), "vol": float(vol), "sharpe": float(r.mean() * days / vol) if vol > 0 else 0.0}


def block_bootstrap_ci(x, stat: Callable = np.mean, block: int = 20, n_boot: int = 2000,
                       level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile confidence interval of ``stat(x)`` by the circular moving-block bootstrap.

    Daily returns are not independent (volatility clusters), so whole blocks of ``block``
    consecutive days are resampled; ``block=1`` is the ordinary bootstrap.
    """
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if x.ndim != 1 or n < 2:
        raise ValueError(f"x must be a 1-D array of at least 2 values, got shape {x.shape}")
    if not 1 <= block <= n:
        raise ValueError(f"block must be between 1 and len(x) = {n}, got {block}")
    rng = np.random.default_rng(seed)
    n_blocks = -(-n // block)
    starts = rng.integers(0, n, size=(n_boot, n_blocks))
    index = (starts[:, :, None] + np.arange(block)).reshape(n_boot, -1)[:, :n] % n
    samples = x[index]
    stats = np.apply_along_axis(stat, 1, samples) if stat is not np.mean else samples.mean(axis=1)
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


# --- forecasting -------------------------------------------------------------------------------

def seasonal_naive(y, period: int, horizon: int) -> np.ndarray:
    """Forecast the next ``horizon`` values as the value one ``period`` earlier (last week's
    same slot for a weekly season), repeating the last observed season."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1 or len(y) < period or period < 1:
        raise ValueError(f"need a 1-D history of at least one period ({period}), got shape {y.shape}")
    last = y[-period:]
    return np.resize(last, horizon) if horizon > 0 else np.empty(0)


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    a, b = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"y_true and y_pred must have the same non-empty shape, got {a.shape} and {b.shape}")
    return float(np.mean(np.abs(a - b)))


def erlang_c_agents(calls, aht_s: float, interval_s: float = 1800.0, target: float = 0.8,
                    answer_s: float = 20.0, max_agents: int = 10_000) -> np.ndarray:
    """Agents needed so that a share ``target`` of calls is answered within ``answer_s`` seconds
    (the Erlang C queue: Poisson arrivals, exponential handling times of mean ``aht_s``).

    ``calls``: calls expected in each interval of ``interval_s`` seconds (any shape).
    The waiting probability is computed with the Erlang B recursion, which is stable for
    hundreds of agents (the factorials of the textbook formula overflow).
    """
    calls = np.asarray(calls, dtype=np.float64)
    if np.any(calls < 0) or not np.all(np.isfinite(calls)):
        raise ValueError("calls must be finite and non-negative")
    if aht_s <= 0 or interval_s <= 0 or not 0 < target < 1:
        raise ValueError("aht_s and interval_s must be positive and target in (0, 1)")
    out = np.zeros(calls.shape, dtype=np.int64)
    for index, n_calls in np.ndenumerate(calls):
        load = n_calls * aht_s / interval_s  # offered traffic in Erlangs
        if load == 0:
            continue
        b, n = 1.0, 0  # Erlang B with 0 agents
        while n < max_agents:
            n += 1
            b = load * b / (n + load * b)
            if n <= load:
                continue  # the queue grows without bound
            c = n * b / (n - load * (1 - b))  # Erlang C: P(a call waits)
            if 1 - c * np.exp(-(n - load) * answer_s / aht_s) >= target:
                break
        out[index] = n
    return out


def lexicon_counts(docs, words) -> np.ndarray:
    """Per text, how many of its whitespace-separated tokens are in ``words`` (every occurrence
    counts, so "loss ... loss" is 2). Texts are matched as given: lower-case both sides first."""
    if isinstance(docs, str):
        raise TypeError("docs must be a list of texts, not one string (wrap it: [text])")
    words = words if isinstance(words, (set, frozenset)) else set(words)
    return np.array([sum(token in words for token in str(doc).split()) for doc in docs], dtype=np.int64)


def lexicon_tone(docs, positive, negative) -> np.ndarray:
    """Lexicon tone of each text, (P - N) / (P + N) with P and N its counts of positive and
    negative tokens: +1 all positive, -1 all negative; NaN where the text has no lexicon word
    (no evidence is not neutral evidence)."""
    pos, neg = lexicon_counts(docs, positive), lexicon_counts(docs, negative)
    total = pos + neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (pos - neg) / np.maximum(total, 1), np.nan)


_AMOUNT_WORDS = frozenset("cts dlrs dlr cents one two three four five six seven eight nine".split())


def earnings_direction(text: str) -> int:
    """What a Reuters earnings story reports, from its first "shr" (per-share result) line:
    -1 for "shr loss", +1 for "shr profit" or "shr <amount>" (a plain amount is a profit),
    0 when the story has no such line. Digits are already removed from R8's text."""
    tokens = str(text).split()
    if "shr" not in tokens:
        return 0
    i = tokens.index("shr")
    following = tokens[i + 1] if i + 1 < len(tokens) else ""
    if following == "loss":
        return -1
    return 1 if following == "profit" or following in _AMOUNT_WORDS else 0
