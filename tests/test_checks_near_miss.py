"""A close answer that still fails must say why: both numbers, told apart, and the tolerance.

Each case takes a chapter's reference answer (from its tests/test_checks_*.py) and moves its
result just outside the tolerance the checker uses (ten times the relative tolerance, say).
The checker must reject it with a message that prints the learner's number and the expected
one so that they differ on the page, and names the tolerance in words (utils.checks.tolerance).
Without this, "should be 0.5238, you returned 0.5238" is what a learner would read.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import test_checks_ch01_overview as ch01
import test_checks_ch02_calculus as ch02_calculus
import test_checks_ch02_linear_algebra as ch02_linalg
import test_checks_ch02_probability as ch02_prob
import test_checks_ch03_cnn as ch03_cnn
import test_checks_ch03_gan as ch03_gan
import test_checks_ch03_neural_networks as ch03_nn
import test_checks_ch03_rnn as ch03_rnn
import test_checks_ch04_frameworks as ch04
import test_checks_ch05_generation as ch05_gen
import test_checks_ch05_style as ch05_style
import test_checks_ch06_embeddings as ch06_emb
import test_checks_ch06_gpt as ch06_gpt
import test_checks_ch06_textclf as ch06_clf
import test_checks_ch06_translation as ch06_mt
import test_checks_ch07_cf as ch07_cf
import test_checks_ch07_mf as ch07_mf
import test_checks_ch07_realtime as ch07_rt
from utils.checks import FAILED, evaluate, tolerance


def scaled(function, factor):
    """``function`` whose result (a number, an array or a tensor) is multiplied by ``factor``."""
    def answer(*args, **kwargs):
        return function(*args, **kwargs) * factor
    return answer


def clip_with_norm_off(grads, max_norm):
    clipped, norm = ch03_rnn.REFERENCE["3.3.3"](grads, max_norm)
    return clipped, norm * (1 + 1e-8)


def perplexity_off(loss):
    ppl, bits = ch06_gpt.REFERENCE["6.4.5"](loss)
    return ppl * (1 + 1e-8), bits


def second_eigenvalue_off(S):
    lam, v = ch02_linalg.REFERENCE["2.1.3"](S)
    return lam + 1e-4, v


# (exercise, near-miss answer, the tolerance of the comparison that rejects it)
NOT_CLOSE = [
    ("1.2.2", scaled(ch01.REFERENCE["1.2.2"], 1 + 1e-5), tolerance(1e-6)),
    ("1.2.4", scaled(ch01.REFERENCE["1.2.4"], 1 + 1e-5), tolerance(1e-6)),
    ("2.2.1", scaled(ch02_calculus.REFERENCE["2.2.1"], 1 + 1e-8), tolerance(1e-9)),
    ("2.3.1", scaled(ch02_prob.REFERENCE["2.3.1"], 1 + 1e-8), tolerance(1e-9, 1e-12)),
    ("3.3.3", clip_with_norm_off, tolerance(1e-9, 1e-8)),
    ("3.4.1", scaled(ch03_gan.REFERENCE["3.4.1"], 1 + 1e-4), tolerance(1e-5, 1e-6)),
    ("4.1.3", scaled(ch04.REFERENCE["4.1.3"], 1 + 1e-4), tolerance(1e-5, 1e-8)),
    ("5.3.1", scaled(ch05_gen.REFERENCE["5.3.1"], 1 + 1e-6), tolerance(atol=1e-6)),
    ("5.4.3", scaled(ch05_style.REFERENCE["5.4.3"], 1 + 1e-5), tolerance(1e-6, 1e-8)),
    ("6.1.3", scaled(ch06_emb.REFERENCE["6.1.3"], 1 + 1e-7), tolerance(1e-8, 1e-10)),
    ("6.2.1", scaled(ch06_clf.REFERENCE["6.2.1"], 1 + 1e-4), tolerance(1e-5, 1e-9)),
    ("6.3.3", scaled(ch06_mt.REFERENCE["6.3.3"], 1 + 1e-8), tolerance(1e-9)),
    ("6.4.5", perplexity_off, tolerance(1e-9)),
    ("7.1.1", scaled(ch07_cf.REFERENCE["7.1.1"], 1 + 1e-4), tolerance(1e-5, 1e-9)),
    ("7.2.4", scaled(ch07_mf.REFERENCE["7.2.4"], 1 + 1e-4), tolerance(1e-5, 1e-9)),
]

# "<what> should be [<formula> = ]<expected>, you returned <got> (the check allows <tolerance>)"
_NOT_CLOSE = re.compile(r"should be (?:[^,]*? = )?(?P<expected>\S+), you returned (?P<got>\S+) "
                        r"\(the check allows (?P<tolerance>[^)]*)\)")


@pytest.mark.parametrize("id, answer, allowed", NOT_CLOSE, ids=[case[0] for case in NOT_CLOSE])
def test_a_near_miss_shows_two_different_numbers_and_the_tolerance(id, answer, allowed):
    result = evaluate(id, answer)
    assert result.status == FAILED, f"{id}: a near miss was reported as {result.status}"
    match = _NOT_CLOSE.search(result.message)
    assert match, result.message
    assert match["expected"] != match["got"], result.message
    assert float(match["expected"]) != float(match["got"]), result.message
    assert match["tolerance"] == allowed, result.message


# Array answers a little off everywhere: the message gives the largest difference and what is allowed.
DIFFERS_BY_UP_TO = [
    ("3.1.3", scaled(ch03_nn.REFERENCE["3.1.3"], 1 + 1e-4), tolerance(1e-5, 1e-10)),
    ("3.2.2", scaled(ch03_cnn.REFERENCE["3.2.2"], 1 + 1e-4), tolerance(1e-5, 1e-10)),
    ("5.4.1", scaled(ch05_style.REFERENCE["5.4.1"], 1 + 1e-5), tolerance(1e-6, 1e-9)),
    ("7.3.1", scaled(ch07_rt.REFERENCE["7.3.1"], 1 + 1e-4), tolerance(1e-5, 1e-9)),
]


@pytest.mark.parametrize("id, answer, allowed", DIFFERS_BY_UP_TO, ids=[case[0] for case in DIFFERS_BY_UP_TO])
def test_an_array_a_little_off_names_the_difference_and_the_tolerance(id, answer, allowed):
    result = evaluate(id, answer)
    assert result.status == FAILED, f"{id}: a near miss was reported as {result.status}"
    assert "by up to" in result.message and f"the check allows {allowed}" in result.message, result.message


def test_a_near_miss_eigenvalue_prints_both_values_apart():
    result = evaluate("2.1.3", second_eigenvalue_off)
    assert result.status == FAILED
    assert "is -3, you returned -2.9999" in result.message, result.message
    assert tolerance(1e-5, 1e-6) in result.message, result.message


def test_a_near_miss_value_answer_names_the_tolerance_without_giving_the_answer_away():
    result = evaluate("1.1.3", ch01.REFERENCE["1.1.3"] * 1.02)  # 2% off; the check allows 1%
    assert result.status == FAILED
    assert "6610 GB is 16.3 bytes per parameter" in result.message, result.message
    assert "the check allows a relative difference of 1%" in result.message, result.message
    result = evaluate("3.3.4", ch03_rnn.REFERENCE["3.3.4"] + 2e-3)  # the check allows 1e-3
    assert result.status == FAILED
    kept = re.search(r"keeps (\S+) of the gradient after 100 steps, not 0.5", result.message)
    assert kept and kept[1] != "0.5" and float(kept[1]) != 0.5, result.message
    assert tolerance(1e-5, 1e-3) in result.message, result.message


def test_the_row_reported_is_one_that_fails():
    """Checkers that compare arrays report an element that fails, not the first one."""
    def ppmi_off_in_one_cell(C):
        out = np.array(ch06_emb.REFERENCE["6.1.2"](C), dtype=float)
        out[-1, -1] += 1e-3
        return out

    result = evaluate("6.1.2", ppmi_off_in_one_cell)
    assert result.status == FAILED
    assert "the PPMI of cell (3, 3) should be 0, you returned 0.001" in result.message, result.message
