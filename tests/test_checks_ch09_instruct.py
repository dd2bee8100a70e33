"""Each checker of section 9.4 accepts the reference answer and rejects plausible mistakes."""
import math

import numpy as np
from checker_contract import contract_tests

from utils import instruct


def answer_mask(prompt, answer):
    return [1 if t + 1 >= len(prompt) else 0 for t in range(len(prompt) + len(answer))]


def dpo_pair_loss(pc, pr, rc, rr, beta):
    return math.log1p(math.exp(-beta * ((pc - rc) - (pr - rr))))


def kl_divergence(p, q):
    p, q = np.asarray(p, float), np.asarray(q, float)
    nz = p > 0
    return float(np.sum(p[nz] * np.log(p[nz] / q[nz])))


REFERENCE = {"9.4.1": answer_mask, "9.4.2": dpo_pair_loss, "9.4.3": kl_divergence}

WRONG = [
    ("9.4.1", lambda p, a: [1 if t >= len(p) else 0 for t in range(len(p) + len(a))], "shifted by one"),
    ("9.4.1", lambda p, a: [0 if t + 1 >= len(p) else 1 for t in range(len(p) + len(a))], "marks the prompt"),
    ("9.4.1", lambda p, a: [1 if len(p) - 1 <= t < len(p) + len(a) - 1 else 0 for t in range(len(p) + len(a))],
     "final newline"),
    ("9.4.1", lambda p, a: [1 if t >= len(p) else 0 for t in range(len(p) + len(a) + 1)], "one per target"),
    ("9.4.1", lambda p, a: [1] * (len(p) + len(a)), "expected"),
    ("9.4.1", lambda p, a: None, "0/1"),
    ("9.4.2", lambda pc, pr, rc, rr, b: dpo_pair_loss(pr, pc, rr, rc, b), "swapped"),
    ("9.4.2", lambda pc, pr, rc, rr, b: dpo_pair_loss(pc, pr, 0.0, 0.0, b), "reference"),
    ("9.4.2", lambda pc, pr, rc, rr, b: dpo_pair_loss(pc, pr, rc, rr, 1.0), "beta is missing"),
    ("9.4.2", lambda pc, pr, rc, rr, b: -dpo_pair_loss(pc, pr, rc, rr, b), "sign"),
    ("9.4.2", lambda pc, pr, rc, rr, b: 1 / (1 + math.exp(b * ((pc - rc) - (pr - rr)))), "sigmoid(-margin)"),
    ("9.4.2", lambda pc, pr, rc, rr, b: dpo_pair_loss(pc, pr, rc, rr, b) + 1e-6, "should be"),
    ("9.4.2", lambda pc, pr, rc, rr, b: "low", "should be a number"),
    ("9.4.3", lambda p, q: kl_divergence(q, p) if min(p) > 0 else 0.7, "KL(q || p)"),
    ("9.4.3", lambda p, q: kl_divergence(p, q) / math.log(2), "bits"),
    ("9.4.3", lambda p, q: float(np.sum(np.log(np.asarray(p)[np.asarray(p) > 0] / np.asarray(q)[np.asarray(p) > 0]))),
     "weighted by p"),
    ("9.4.3", lambda p, q: float(np.sum(np.asarray(p) * np.log((np.asarray(p) + 1e-12) / np.asarray(q)))) + 0.01,
     "should be"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_the_mask_matches_encode_examples():
    from utils import text
    prompt, answer = "Which play? To be.\n= ", "Hamlet"
    vocab = text.Vocab.build([sorted(set(prompt + answer + "\n"))])
    _, _, mask = instruct.encode_examples([prompt], [answer], vocab)
    assert mask[0].tolist() == answer_mask(prompt, answer)
