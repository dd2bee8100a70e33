"""Each checker of section 3.3 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import torch
from checker_contract import contract_tests

from utils.checks import evaluate


GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def num_params(kind, input_size, hidden_size):
    g = GATES[kind]
    return g * hidden_size * (input_size + hidden_size + 2)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gru_cell(x, h, p, variant="torch"):
    H = h.shape[1]
    a_x = x @ p["weight_ih"].T + p["bias_ih"]
    a_h = h @ p["weight_hh"].T + p["bias_hh"]
    r = sigmoid(a_x[:, :H] + a_h[:, :H])
    z = sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H])
    if variant == "rz":
        r, z = z, r
    if variant == "paper":
        n = np.tanh(a_x[:, 2 * H:] + (r * h) @ p["weight_hh"][2 * H:].T + p["bias_hh"][2 * H:])
    elif variant == "bias":
        n = np.tanh(a_x[:, 2 * H:] + r * (h @ p["weight_hh"][2 * H:].T) + p["bias_hh"][2 * H:])
    else:
        n = np.tanh(a_x[:, 2 * H:] + r * a_h[:, 2 * H:])
    if variant == "update":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


def clip(grads, max_norm):
    norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    coef = min(1.0, max_norm / norm)
    return {k: g * coef for k, g in grads.items()}, norm


def clip_in_place(grads, max_norm):
    clipped, norm = clip(grads, max_norm)
    for k in grads:
        grads[k][...] = clipped[k]
    return grads, norm


def clip_per_array(grads, max_norm):
    norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    return {k: g * min(1.0, max_norm / np.linalg.norm(g)) for k, g in grads.items()}, norm


def clip_always(grads, max_norm):
    norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    return {k: g * max_norm / norm for k, g in grads.items()}, norm


def clip_norm_after(grads, max_norm):
    clipped, norm = clip(grads, max_norm)
    return clipped, min(norm, max_norm)


def clip_by_value(grads, max_norm):
    norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, norm


F = 0.5 ** (1 / 100)
FORGET_BIAS = float(np.log(F / (1 - F)))

REFERENCE = {"3.3.1": num_params, "3.3.2": gru_cell, "3.3.3": clip, "3.3.4": FORGET_BIAS}

WRONG = [
    ("3.3.1", lambda k, d, h: GATES[k] * h * (d + h + 1), "two bias vectors"),
    ("3.3.1", lambda k, d, h: GATES[k] * h * (d + h), "forgot the biases"),
    ("3.3.1", lambda k, d, h: 4 * h * (d + h + 2), "gate block"),
    ("3.3.1", lambda k, d, h: GATES[k] * h * (2 * d + 2), "hidden x hidden"),
    ("3.3.1", lambda k, d, h: float(num_params(k, d, h)), "integer"),
    ("3.3.1", lambda k, d, h: sum(p.numel() for p in {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM,
                                                      "gru": torch.nn.GRU}[k](d, h).parameters()), "without torch"),
    ("3.3.1", lambda k, d, h: sum(p.numel() for p in torch.nn.LSTMCell(d, h).parameters()), "without torch"),
    ("3.3.2", lambda x, h, p: gru_cell(x, h, p, "paper"), "before the product"),
    ("3.3.2", lambda x, h, p: gru_cell(x, h, p, "bias"), "b_hn must be inside"),
    ("3.3.2", lambda x, h, p: gru_cell(x, h, p, "update"), "(1 − z) ⊙ n + z ⊙ h"),
    ("3.3.2", lambda x, h, p: gru_cell(x, h, p, "rz"), "gate order is r, z, n"),
    ("3.3.2", lambda x, h, p: np.tanh(x @ p["weight_ih"][:h.shape[1]].T), "largest difference"),
    ("3.3.2", lambda x, h, p: gru_cell(x, h, p)[:, :1], "should have shape"),
    ("3.3.3", clip_in_place, "input dict was changed"),
    ("3.3.3", clip_per_array, "each array by its own norm"),
    ("3.3.3", clip_always, "scaled them up"),
    ("3.3.3", clip_norm_after, "*before* clipping"),
    ("3.3.3", clip_by_value, "clipping by value"),
    ("3.3.3", lambda g, m: clip(g, m)[0], "pair"),
    ("3.3.4", F, "invert the sigmoid"),
    ("3.3.4", -FORGET_BIAS, "sign error"),
    ("3.3.4", float(np.log(F)), "logit"),
    ("3.3.4", float(np.log(0.5 ** (1 / 99) / (1 - 0.5 ** (1 / 99)))), "off by one"),
    ("3.3.4", 1.0, "keeps"),
    ("3.3.4", "5", "a number"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_torch_modules_work_again_after_the_check():
    evaluate("3.3.1", lambda k, d, h: sum(p.numel() for p in torch.nn.GRU(d, h).parameters()))
    assert sum(p.numel() for p in torch.nn.LSTM(10, 20).parameters()) == 4 * 20 * (10 + 20 + 2)
