"""Each checker of section 5.4 accepts the reference answer and rejects plausible mistakes."""
import torch
from checker_contract import contract_tests

from utils import style
from utils.checks import evaluate


def gram(F):
    C, H, W = F.shape
    flat = F.reshape(C, H * W)
    return flat @ flat.T / (H * W)


def style_loss(features, style_features):
    total = 0.0
    for f, s in zip(features, style_features):
        g_f, g_s = style.gram_matrix(f), style.gram_matrix(s)
        total = total + ((g_f - g_s) ** 2).sum() / (g_s**2).sum()
    return total / len(features)


def tv_loss(x):
    return ((x[:, 1:, :] - x[:, :-1, :]) ** 2).mean() + ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean()


def count_style_numbers(features):
    return sum(f.shape[1] * (f.shape[1] + 1) // 2 for f in features)


REFERENCE = {"5.4.1": gram, "5.4.2": style_loss, "5.4.3": tv_loss, "5.4.4": count_style_numbers}


def gram_positions(F):
    flat = F.reshape(F.shape[0], -1)
    return flat.T @ flat / flat.shape[1]


def style_loss_sum(features, style_features):
    return style_loss(features, style_features) * len(features)


def style_loss_absolute(features, style_features):
    return sum(((style.gram_matrix(f) - style.gram_matrix(s)) ** 2).sum()
               for f, s in zip(features, style_features)) / len(features)


def style_loss_on_features(features, style_features):
    return sum(((f - s) ** 2).sum() / (s**2).sum() for f, s in zip(features, style_features)) / len(features)


def style_loss_norm(features, style_features):
    return sum(torch.linalg.norm(style.gram_matrix(f) - style.gram_matrix(s)) / torch.linalg.norm(style.gram_matrix(s))
               for f, s in zip(features, style_features)) / len(features)


WRONG = [
    ("5.4.1", lambda F: gram(F) * F.shape[1] * F.shape[2], "H·W times too large"),
    ("5.4.1", lambda F: gram(F) / F.shape[0], "C·H·W"),
    ("5.4.1", gram_positions, "*positions*"),
    ("5.4.1", lambda F: F.reshape(-1, F.shape[0]).T @ F.reshape(-1, F.shape[0]) / (F.shape[1] * F.shape[2]),
     "reshape mixes channels and positions"),
    ("5.4.1", lambda F: gram(F)[0], "shape"),
    ("5.4.2", style_loss_sum, "summed over the scales"),
    ("5.4.2", style_loss_absolute, "not relative"),
    ("5.4.2", style_loss_on_features, "compared the feature maps"),
    ("5.4.2", style_loss_norm, "squared norms"),
    ("5.4.2", lambda f, s: torch.zeros(3), "single number"),
    ("5.4.3", lambda x: (x[:, 1:, :] - x[:, :-1, :]).abs().mean() + (x[:, :, 1:] - x[:, :, :-1]).abs().mean(),
     "absolute differences"),
    ("5.4.3", lambda x: ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean(), "only one direction"),
    ("5.4.3", lambda x: ((x[:, 1:, :] - x[:, :-1, :]) ** 2).sum() + ((x[:, :, 1:] - x[:, :, :-1]) ** 2).sum(),
     "summed"),
    ("5.4.3", lambda x: ((x[1:] - x[:-1]) ** 2).mean() + ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean(),
     "colour channels"),
    ("5.4.4", lambda fs: sum(f.shape[1] ** 2 for f in fs), "symmetric"),
    ("5.4.4", lambda fs: fs[0].shape[1] * (fs[0].shape[1] + 1) // 2, "every scale has its own"),
    ("5.4.4", lambda fs: sum(f[0].numel() for f in fs), "grow with the image"),
    ("5.4.4", lambda fs: sum(f.shape[1] * (f.shape[1] - 1) // 2 for f in fs), "diagonal"),
    ("5.4.4", lambda fs: sum(f.shape[0] * (f.shape[0] + 1) // 2 for f in fs), "shape[1]"),
    ("5.4.4", lambda fs: float(count_style_numbers(fs)), "integer"),
    ("5.4.4", lambda fs: 8320, "expected"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_library_functions_pass_their_own_checkers():
    # the course library and the exercises agree on the definitions
    assert evaluate("5.4.1", style.gram_matrix).passed
    assert evaluate("5.4.2", style.style_loss).passed
