"""Checkers for section 9.4 (instruction tuning and DPO)."""
from __future__ import annotations

import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, number


def _mask(prompt, answer):
    n = len(prompt) + len(answer) + 1
    return [1 if t + 1 >= len(prompt) else 0 for t in range(n - 1)]


@exercise("9.4.1", "the answer mask of an instruction example")
def _check_answer_mask(answer_mask) -> str:
    cases = [("Which play? To be.\n= ", "Hamlet"), ("As YYYY-MM-DD: 03/07/1998\n= ", "1998-03-07"), ("Q", "A"),
             ("ab", "")]
    for prompt, answer in cases:
        what = f"answer_mask({prompt!r}, {answer!r})"
        got = answer_mask(prompt, answer)
        try:
            got = [int(v) for v in np.asarray(got).reshape(-1)]
        except (TypeError, ValueError):
            raise Wrong(f"{what} should return a list of 0/1 values, got {type(got).__name__}")
        expected = _mask(prompt, answer)
        if got == expected:
            continue
        n = len(prompt) + len(answer)
        if len(got) == n + 1:
            raise Wrong(f"{what} has {len(got)} values, one per character; there is one per target, "
                        f"len(text) - 1 = {n}: the last character is never an input")
        if len(got) != len(expected):
            raise Wrong(f"{what} has {len(got)} values; expected len(prompt + answer + '\\n') - 1 = {len(expected)}")
        if got == [1 - v for v in expected]:
            raise Wrong(f"{what} marks the prompt; the loss counts the answer's characters, not the prompt's")
        if got == [1 if t >= len(prompt) else 0 for t in range(n)]:
            raise Wrong(f"{what} is shifted by one: target t is character t + 1, so the first answer "
                        f"character is the target at position len(prompt) - 1 = {len(prompt) - 1}")
        if got == [1 if len(prompt) - 1 <= t < n - 1 else 0 for t in range(n)]:
            raise Wrong(f"{what} leaves out the final newline; the model must learn to stop, so END is trained too")
        raise Wrong(f"{what} = {got}, expected {expected}")
    return f"{len(cases)} examples, including an empty answer (only the newline is trained)"


def _dpo(pc, pr, rc, rr, beta):
    m = beta * ((pc - rc) - (pr - rr))
    return math.log1p(math.exp(-m)) if m > -30 else -m + math.log1p(math.exp(m))


@exercise("9.4.2", "the DPO loss of one pair")
def _check_dpo_pair_loss(dpo_pair_loss) -> str:
    cases = [(-10.0, -12.0, -11.0, -11.0, 0.1), (-5.0, -4.0, -6.0, -3.0, 0.5), (-20.0, -21.0, -20.0, -21.0, 1.0),
             (-3.0, -9.0, -4.0, -4.0, 2.0), (-7.5, -7.0, -7.0, -8.0, 0.05)]
    for pc, pr, rc, rr, beta in cases:
        what = f"dpo_pair_loss({pc:g}, {pr:g}, {rc:g}, {rr:g}, beta={beta:g})"
        got = number(dpo_pair_loss(pc, pr, rc, rr, beta), what)
        expected = _dpo(pc, pr, rc, rr, beta)
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        for wrong, reason in ((_dpo(pr, pc, rr, rc, beta), "chosen and rejected are swapped"),
                              (_dpo(pc, pr, 0.0, 0.0, beta), "the reference log-probabilities are missing"),
                              (_dpo(pc, pr, rc, rr, 1.0), "beta is missing: the margin is beta times the log-ratio"),
                              (-_dpo(pc, pr, rc, rr, beta), "the sign: the loss is -log sigmoid(margin), positive"),
                              (1 / (1 + math.exp(beta * ((pc - rc) - (pr - rr)))),
                               "you returned sigmoid(-margin), not -log sigmoid(margin)")):
            if math.isclose(got, wrong, rel_tol=1e-9, abs_tol=1e-12) and not math.isclose(wrong, expected):
                raise Wrong(f"{what} = {got:.6g}: {reason}")
        raise not_close(what, got, expected, rtol=1e-9, atol=1e-12)
    return f"{len(cases)} pairs, to a relative 1e-9"


@exercise("9.4.3", "KL divergence of two discrete distributions")
def _check_kl(kl_divergence) -> str:
    cases = [([0.5, 0.5], [0.9, 0.1]), ([0.1, 0.2, 0.7], [0.3, 0.3, 0.4]), ([0.0, 1.0], [0.5, 0.5]),
             ([0.25] * 4, [0.25] * 4)]
    for p, q in cases:
        p_, q_ = np.array(p), np.array(q)
        what = f"kl_divergence({p}, {q})"
        got = number(kl_divergence(p_.copy(), q_.copy()), what)
        nz = p_ > 0
        expected = float(np.sum(p_[nz] * np.log(p_[nz] / q_[nz])))
        if math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            continue
        reverse = float(np.sum(q_ * np.log(q_ / np.where(p_ > 0, p_, np.nan))))
        for wrong, reason in ((reverse, "this is KL(q || p); the order matters: sum p log(p / q)"),
                              (expected / math.log(2), "this is in bits; use the natural log for nats"),
                              (float(np.sum(np.log(p_[nz] / q_[nz]))), "each log-ratio must be weighted by p")):
            if math.isfinite(wrong) and math.isclose(got, wrong, rel_tol=1e-9) and not math.isclose(wrong, expected):
                raise Wrong(f"{what} = {got:.6g}: {reason}")
        raise not_close(what, got, expected, rtol=1e-9, atol=1e-12, hint="terms with p = 0 count 0")
    return f"{len(cases)} pairs of distributions, including p = 0 and p = q, to a relative 1e-9"
