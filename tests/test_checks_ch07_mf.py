"""Each checker of section 7.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests

from utils.checks import FAILED, NOT_ATTEMPTED, evaluate


def predict_rating(mu, b_u, b_i, p_u, q_i):
    return float(mu + b_u + b_i + np.dot(p_u, q_i))


def sgd_step(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return (b_u - lr * (-2 * e + 2 * lam * b_u), b_i - lr * (-2 * e + 2 * lam * b_i),
            p_u - lr * (-2 * e * q_i + 2 * lam * p_u), q_i - lr * (-2 * e * p_u + 2 * lam * q_i))


def bpr_triple_loss(p_u, q_i, q_j, b_i, b_j):
    return float(np.logaddexp(0.0, -((p_u @ q_i + b_i) - (p_u @ q_j + b_j))))


def ndcg_at_k(ranked, relevant, k):
    if not relevant:
        return 0.0
    d = 1 / np.log2(np.arange(2, k + 2))
    return sum(d[n] for n, item in enumerate(ranked[:k]) if item in relevant) / d[: min(k, len(relevant))].sum()


REFERENCE = {"7.2.1": predict_rating, "7.2.2": sgd_step, "7.2.3": bpr_triple_loss, "7.2.4": ndcg_at_k}


# --- plausible mistakes -------------------------------------------------------------------

def sgd_funk(r, mu, b_u, b_i, p_u, q_i, lr, lam):  # the update without the factor 2
    e = r - (mu + b_u + b_i + p_u @ q_i)
    return (b_u + lr * (e - lam * b_u), b_i + lr * (e - lam * b_i),
            p_u + lr * (e * q_i - lam * p_u), q_i + lr * (e * p_u - lam * q_i))


def sgd_uphill(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    return sgd_step(r, mu, b_u, b_i, p_u, q_i, -lr, lam)


def sgd_sequential(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    e = r - (mu + b_u + b_i + p_u @ q_i)
    new_p = p_u - lr * (-2 * e * q_i + 2 * lam * p_u)
    new_q = q_i - lr * (-2 * e * new_p + 2 * lam * q_i)
    return b_u - lr * (-2 * e + 2 * lam * b_u), b_i - lr * (-2 * e + 2 * lam * b_i), new_p, new_q


def sgd_no_reg(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    return sgd_step(r, mu, b_u, b_i, p_u, q_i, lr, 0.0)


def sgd_in_place(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    new = sgd_step(r, mu, b_u, b_i, p_u, q_i, lr, lam)
    p_u -= lr * 0  # touches nothing numerically ...
    p_u[...] = new[2]  # ... but then overwrites the caller's array
    return new[0], new[1], p_u.copy(), new[3]


def sgd_frozen_biases(r, mu, b_u, b_i, p_u, q_i, lr, lam):
    new = sgd_step(r, mu, b_u, b_i, p_u, q_i, lr, lam)
    return b_u, b_i, new[2], new[3]


def bpr_naive(p_u, q_i, q_j, b_i, b_j):
    x = (p_u @ q_i + b_i) - (p_u @ q_j + b_j)
    return float(-np.log(1 / (1 + np.exp(-x))))


def ndcg_log2_rank(ranked, relevant, k):  # 1/log2(n) with n from 1: the first place divides by zero
    if not relevant:
        return 0.0
    with np.errstate(divide="ignore"):
        d = 1 / np.log2(np.arange(1, k + 1))
    return sum(d[n] for n, item in enumerate(ranked[:k]) if item in relevant) / d[: min(k, len(relevant))].sum()


def ndcg_shifted(ranked, relevant, k):
    if not relevant:
        return 0.0
    d = 1 / np.log2(np.arange(3, k + 3))
    return sum(d[n] for n, item in enumerate(ranked[:k]) if item in relevant) / d[: min(k, len(relevant))].sum()


def dcg_only(ranked, relevant, k):
    d = 1 / np.log2(np.arange(2, k + 2))
    return sum(d[n] for n, item in enumerate(ranked[:k]) if item in relevant)


def ndcg_ideal_all(ranked, relevant, k):
    if not relevant:
        return 0.0
    d = 1 / np.log2(np.arange(2, max(k, len(relevant)) + 2))
    return sum(d[n] for n, item in enumerate(ranked[:k]) if item in relevant) / d[: len(relevant)].sum()


def ndcg_whole_list(ranked, relevant, k):
    if not relevant:
        return 0.0
    d = 1 / np.log2(np.arange(2, len(ranked) + 2))
    return sum(d[n] for n, item in enumerate(ranked) if item in relevant) / d[: min(k, len(relevant))].sum()


def ndcg_empty_nan(ranked, relevant, k):
    return ndcg_at_k(ranked, relevant, k) if relevant else float("nan")


WRONG = [
    ("7.2.1", lambda mu, b_u, b_i, p, q: b_u + b_i + p @ q, "global mean"),
    ("7.2.1", lambda mu, b_u, b_i, p, q: mu + p @ q, "biases"),
    ("7.2.1", lambda mu, b_u, b_i, p, q: mu + b_u + b_i, "dot product of the factors"),
    ("7.2.1", lambda mu, b_u, b_i, p, q: mu + b_u + b_i + p.sum() * q.sum(), "element-wise product"),
    ("7.2.1", lambda mu, b_u, b_i, p, q: mu + b_u + b_i + p * q, "one number"),
    ("7.2.1", lambda mu, b_u, b_i, p, q: mu + b_u - b_i + p @ q, "expected"),
    ("7.2.2", sgd_funk, "half as long"),
    ("7.2.2", sgd_uphill, "uphill"),
    ("7.2.2", sgd_sequential, "NEW p_u"),
    ("7.2.2", sgd_no_reg, "regularisation is missing"),
    ("7.2.2", sgd_in_place, "in place"),
    ("7.2.2", sgd_frozen_biases, "b_u, b_i"),
    ("7.2.2", lambda *args: sgd_step(*args)[2:], "tuple of four"),
    ("7.2.3", lambda p, qi, qj, bi, bj: bpr_triple_loss(p, qj, qi, bj, bi), "swapped"),
    ("7.2.3", lambda *args: -bpr_triple_loss(*args), "sign is wrong"),
    ("7.2.3", lambda p, qi, qj, bi, bj: bpr_triple_loss(p, qi, qj, 0.0, 0.0), "biases are missing"),
    ("7.2.3", lambda p, qi, qj, bi, bj: float(1 / (1 + np.exp(-((p @ qi + bi) - (p @ qj + bj))))), "sigmoid"),
    ("7.2.3", bpr_naive, "logaddexp"),
    ("7.2.3", lambda *args: 2 * bpr_triple_loss(*args), "you returned"),
    ("7.2.4", ndcg_log2_rank, "1/log2(n + 1)"),
    ("7.2.4", ndcg_shifted, "shifted by one place"),
    ("7.2.4", dcg_only, "you returned the DCG"),
    ("7.2.4", ndcg_ideal_all, "min(k, |relevant|)"),
    ("7.2.4", ndcg_whole_list, "only the first k"),
    ("7.2.4", ndcg_empty_nan, "should be 0.0"),
    ("7.2.4", lambda ranked, relevant, k: [ndcg_at_k(ranked, relevant, k)], "one number"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_a_value_instead_of_a_function_is_not_attempted():
    for id in REFERENCE:
        assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_checker_messages_name_the_values():
    result = evaluate("7.2.1", lambda mu, b_u, b_i, p, q: mu + b_u - b_i + p @ q)
    assert "expected" in result.message and "you returned" in result.message
    crashed = evaluate("7.2.4", lambda ranked, relevant, k: 1 / 0)
    assert crashed.status == FAILED and "ZeroDivisionError" in crashed.message
