"""Each checker of section 8.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests

from utils import finance as fin


def ks_statistic(y_bad, score):
    y, s = np.asarray(y_bad), np.asarray(score, dtype=float)
    cuts = np.unique(s)
    bad = np.array([np.mean(s[y == 1] <= c) for c in cuts])
    good = np.array([np.mean(s[y == 0] <= c) for c in cuts])
    return float(np.max(np.abs(bad - good)))


def expected_cost(y_bad, p_bad, cutoff, cost_bad, cost_good):
    y, refuse = np.asarray(y_bad), np.asarray(p_bad) >= cutoff
    return float(np.mean(np.where(y == 1, cost_bad * ~refuse, cost_good * refuse)))


def strategy_returns(positions, returns, cost):
    pos = np.asarray(positions, dtype=float)
    return pos * np.asarray(returns) - cost * np.abs(np.diff(pos, prepend=0.0))


def seasonal_naive(y, period, horizon):
    return np.resize(np.asarray(y, dtype=float)[-period:], horizon)


REFERENCE = {"8.2.1": ks_statistic, "8.2.2": expected_cost, "8.2.3": strategy_returns, "8.2.4": seasonal_naive}


def ks_per_index(y_bad, score):  # ignores ties
    y = np.asarray(y_bad)[np.argsort(score, kind="stable")]
    return float(np.max(np.abs(np.cumsum(y) / y.sum() - np.cumsum(1 - y) / (1 - y).sum())))


def ks_signed(y_bad, score):  # forgets the absolute value
    y, s = np.asarray(y_bad), np.asarray(score, dtype=float)
    return float(max(np.mean(s[y == 0] <= c) - np.mean(s[y == 1] <= c) for c in np.unique(s)))


def ks_percent(y_bad, score):
    return 100 * ks_statistic(y_bad, score)


def cost_swapped(y_bad, p_bad, cutoff, cost_bad, cost_good):
    return expected_cost(y_bad, p_bad, cutoff, cost_good, cost_bad)


def cost_total(y_bad, p_bad, cutoff, cost_bad, cost_good):
    return expected_cost(y_bad, p_bad, cutoff, cost_bad, cost_good) * len(y_bad)


def cost_strict(y_bad, p_bad, cutoff, cost_bad, cost_good):
    y, refuse = np.asarray(y_bad), np.asarray(p_bad) > cutoff
    return float(np.mean(np.where(y == 1, cost_bad * ~refuse, cost_good * refuse)))


def no_cost(positions, returns, cost):
    return np.asarray(positions, dtype=float) * np.asarray(returns)


def daily_cost(positions, returns, cost):
    pos = np.asarray(positions, dtype=float)
    return pos * np.asarray(returns) - cost * np.abs(pos)


def free_entry(positions, returns, cost):
    pos = np.asarray(positions, dtype=float)
    return pos * np.asarray(returns) - cost * np.abs(np.diff(pos, prepend=pos[0]))


def one_unit_per_switch(positions, returns, cost):
    pos = np.asarray(positions, dtype=float)
    return pos * np.asarray(returns) - cost * (np.diff(pos, prepend=0.0) != 0)


def naive(y, period, horizon):
    return np.full(horizon, float(np.asarray(y)[-1]))


def off_by_one(y, period, horizon):
    return np.resize(np.asarray(y, dtype=float)[-period - 1:-1], horizon)


def first_season(y, period, horizon):
    return np.resize(np.asarray(y, dtype=float)[:period], horizon)


WRONG = [
    ("8.2.1", ks_per_index, "tied group"),
    ("8.2.1", ks_signed, "absolute gap"),
    ("8.2.1", ks_percent, "not a percentage"),
    ("8.2.2", cost_swapped, "swapped"),
    ("8.2.2", cost_total, "average per applicant"),
    ("8.2.2", cost_strict, "must be refused"),
    ("8.2.3", no_cost, "no cost is subtracted"),
    ("8.2.3", daily_cost, "every day"),
    ("8.2.3", free_entry, "bought from cash"),
    ("8.2.3", one_unit_per_switch, "trades 2 units"),
    ("8.2.4", naive, "naive forecast"),
    ("8.2.4", off_by_one, "off by one"),
    ("8.2.4", first_season, "FIRST season"),
]



def lexicon_tone(docs, positive, negative):
    out = []
    for d in docs:
        p = sum(w in positive for w in d.split())
        n = sum(w in negative for w in d.split())
        out.append((p - n) / (p + n) if p + n else np.nan)
    return np.array(out)


def tone_zero(docs, positive, negative):
    return np.nan_to_num(lexicon_tone(docs, positive, negative))


def tone_distinct(docs, positive, negative):
    return lexicon_tone([" ".join(set(d.split())) for d in docs], positive, negative)


def tone_substring(docs, positive, negative):
    out = []
    for d in docs:
        p, n = sum(d.count(w) for w in positive), sum(d.count(w) for w in negative)
        out.append((p - n) / (p + n) if p + n else np.nan)
    return np.array(out)


def tone_per_word(docs, positive, negative):
    out = []
    for d in docs:
        p, n = sum(w in positive for w in d.split()), sum(w in negative for w in d.split())
        out.append((p - n) / len(d.split()) if p + n else np.nan)
    return np.array(out)


REFERENCE["8.2.5"] = lexicon_tone
WRONG += [
    ("8.2.5", tone_zero, "should be NaN"),
    ("8.2.5", tone_distinct, "every occurrence"),
    ("8.2.5", tone_substring, "whole tokens"),
    ("8.2.5", tone_per_word, "number of words"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
