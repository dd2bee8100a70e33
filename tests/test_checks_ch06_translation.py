"""Each checker of section 6.3 accepts the reference answer and rejects plausible mistakes."""
import math
from collections import Counter

import numpy as np
import pytest
from checker_contract import contract_tests

from utils.checks import FAILED, NOT_ATTEMPTED, evaluate

WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")



# --- reference answers -------------------------------------------------------------

def to_chinese(d, weekday):
    out = f"{d.year}年{d.month}月{d.day}日"
    return out + WEEKDAYS_ZH[d.weekday()] if weekday else out


def clipped_precision(candidate, reference, n):
    grams = lambda s: Counter(tuple(s[i:i + n]) for i in range(len(s) - n + 1))  # noqa: E731
    cand, ref = grams(candidate), grams(reference)
    return sum(min(c, ref[g]) for g, c in cand.items()), sum(cand.values())


def brevity_penalty(c, r):
    if c > r:
        return 1.0
    return math.exp(1 - r / c) if c > 0 else 0.0


def attention_context(scores, values, mask):
    s = np.where(mask[None, :], scores, -np.inf)
    w = np.exp(s - s.max(axis=1, keepdims=True))
    return (w / w.sum(axis=1, keepdims=True)) @ values


REFERENCE = {"6.3.1": to_chinese, "6.3.2": clipped_precision, "6.3.3": brevity_penalty,
             "6.3.4": attention_context}


# --- plausible mistakes ------------------------------------------------------------

def zero_padded(d, weekday):
    out = f"{d.year}年{d.month:02d}月{d.day:02d}日"
    return out + WEEKDAYS_ZH[d.weekday()] if weekday else out


def isoweekday_index(d, weekday):
    out = f"{d.year}年{d.month}月{d.day}日"
    return out + WEEKDAYS_ZH[d.isoweekday() % 7] if weekday else out


def sunday_seven(d, weekday):
    names = WEEKDAYS_ZH[:6] + ("星期七",)
    out = f"{d.year}年{d.month}月{d.day}日"
    return out + names[d.weekday()] if weekday else out


def always_weekday(d, weekday):
    return to_chinese(d, True)


def never_weekday(d, weekday):
    return to_chinese(d, False)


def unclipped(candidate, reference, n):
    grams = lambda s: [tuple(s[i:i + n]) for i in range(len(s) - n + 1)]  # noqa: E731
    ref = set(grams(reference))
    cand = grams(candidate)
    return sum(g in ref for g in cand), len(cand)


def off_by_one_count(candidate, reference, n):
    m, t = clipped_precision(candidate, reference, n)
    return m, len(candidate) - n


def ratio_only(candidate, reference, n):
    m, t = clipped_precision(candidate, reference, n)
    return m / t


def bp_upside_down(c, r):
    return 1.0 if c > r else math.exp(1 - c / r)


def bp_penalises_long(c, r):
    return math.exp(1 - r / c) if c > 0 else 0.0


def bp_ratio(c, r):
    return 1.0 if c > r else c / r


def context_no_mask(scores, values, mask):
    return attention_context(scores, values, np.ones_like(mask))


def context_wrong_axis(scores, values, mask):
    e = np.exp(scores - scores.max(axis=0, keepdims=True)) * mask[None, :]
    return (e / e.sum(axis=0, keepdims=True)) @ values


def context_raw_scores(scores, values, mask):
    return np.where(mask[None, :], scores, 0) @ values


def context_unstable(scores, values, mask):
    with np.errstate(over="ignore", invalid="ignore"):  # exp(1000) overflows: the mistake under test
        w = np.exp(scores) * mask[None, :]
        return (w / w.sum(axis=1, keepdims=True)) @ values


WRONG = [
    ("6.3.1", zero_padded, "leading zeros"),
    ("6.3.1", isoweekday_index, "off by one"),
    ("6.3.1", sunday_seven, "星期日"),
    ("6.3.1", always_weekday, "only when weekday=True"),
    ("6.3.1", never_weekday, "should append the weekday"),
    ("6.3.2", unclipped, "unclipped"),
    ("6.3.2", off_by_one_count, "len - n + 1"),
    ("6.3.2", ratio_only, "pair"),
    ("6.3.3", bp_upside_down, "upside down"),
    ("6.3.3", bp_penalises_long, "not penalised"),
    ("6.3.3", bp_ratio, "exponential"),
    ("6.3.4", context_no_mask, "padded positions"),
    ("6.3.4", context_wrong_axis, "wrong axis"),
    ("6.3.4", context_raw_scores, "softmax first"),
    ("6.3.4", context_unstable, "NaN"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_crashing_answer_is_reported_not_raised():
    def crashes(*args):
        raise KeyError("oops")

    result = evaluate("6.3.3", crashes)
    assert result.status == FAILED and "KeyError" in result.message


def test_reference_answers_agree_with_utils():
    import datetime as dt

    from utils import seq2seq

    for d in seq2seq.all_dates(dt.date(1999, 12, 20), dt.date(2000, 1, 10)):
        assert to_chinese(d, True) == seq2seq.chinese_date(d, weekday=True)
    assert clipped_precision(list("1998年4月7日"), list("1998年3月7日"), 2) == \
        seq2seq.modified_precision("1998年4月7日", "1998年3月7日", 2)
    assert brevity_penalty(9, 12) == seq2seq.brevity_penalty(9, 12)
