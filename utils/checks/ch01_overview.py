"""Checkers for chapter 1 (overview): 1.1 what makes a model large, 1.2 history and applications."""
from __future__ import annotations

import math
import numbers as numtypes

import numpy as np

from utils import sizing
from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (numtypes.Real, np.generic)):
        raise Wrong(f"{what} should be a number, got {type(value).__name__} ({value!r})")
    value = float(value)
    if not math.isfinite(value):
        raise Wrong(f"{what} should be a finite number, got {value}")
    return value


def _integer(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numtypes.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise Wrong(f"{what} should be an integer count, got {type(value).__name__} ({value!r})")
    return int(value)


def _close(a: float, b: float, rel: float) -> bool:
    return math.isclose(a, b, rel_tol=rel)


# --- 1.1 What makes a model large ---------------------------------------------

def _calls_into(module, function, *args):
    """Call ``function(*args)``; return its result and the names of the ``module`` functions it ran.

    A profile hook sees every Python call, however the learner reached the module
    (``sizing.f``, ``from utils.sizing import f``, an alias), so the rule "do not call
    utils.sizing" is checked, not just stated.
    """
    import sys

    target = getattr(module, "__file__", None)
    called: list[str] = []

    def hook(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == target:
            called.append(frame.f_code.co_name)

    previous = sys.getprofile()
    sys.setprofile(hook)
    try:
        result = function(*args)
    except Exception:
        if not called:
            raise
        result = None  # it failed inside utils.sizing: report the call, not the crash
    finally:
        sys.setprofile(previous)
    return result, called


@exercise("1.1.1", "parameters of one GPT-2 block")
def _check_block_params(block_params) -> str:
    for d in (1, 8, 64, 768, 12288):
        value, used = _calls_into(sizing, block_params, d)
        if used:
            names = sorted({n for n in used if not n.startswith(("_", "<"))} or set(used))
            raise Wrong(f"block_params({d}) calls utils.sizing ({', '.join(names)}): the exercise is "
                        "to derive the count from the shapes, so write it without the course library")
        got = _integer(value, f"block_params({d})")
        expected = 12 * d * d + 13 * d
        if got == expected:
            continue
        hints = {
            12 * d * d: "only the weight matrices are counted: add the biases (3d + d + 4d + d) "
                        "and the two LayerNorms (2d each)",
            12 * d * d + 9 * d: "the two LayerNorms are missing: each has a scale and a shift, 2d parameters",
            12 * d * d + 11 * d: "each LayerNorm has a scale *and* a shift: 2d parameters, not d",
            12 * d * d + 4 * d: "the biases are missing: 3d (qkv) + d (attention output) + 4d + d (MLP)",
            6 * d * d + 10 * d: "the MLP expands to 4d and back: d x 4d and 4d x d weight matrices, "
                                "with 4d + d biases",
        }
        for wrong, hint in hints.items():
            if got == wrong:
                raise Wrong(f"block_params({d}) = {got:,}: {hint}")
        if got == 12 * d * d + 13 * d + 2 * d:
            raise Wrong("the final LayerNorm belongs to the model, not to each block")
        raise Wrong(f"block_params({d}) should be {expected:,}, your function returns {got:,}")
    return "12d² + 13d for five widths, from 1 to 12,288"


def _alexnet_reference(groups: bool = True, bias: bool = True) -> int:
    g = 2 if groups else 1
    convs = [(3, 96, 11, 1), (96, 256, 5, g), (256, 384, 3, 1), (384, 384, 3, g), (384, 256, 3, g)]
    return (sum(sizing.conv_params(i, o, k, bias=bias, groups=gr) for i, o, k, gr in convs)
            + sizing.mlp_params([256 * 6 * 6, 4096, 4096, 1000], bias=bias))


@exercise("1.1.2", "parameters of AlexNet")
def _check_alexnet(answer) -> str:
    got = _integer(answer, "alexnet_params")
    expected = _alexnet_reference()
    if got == expected:
        return f"{expected:,} parameters (the paper's '60 million'); 96% of them are in the dense layers"
    if got == _alexnet_reference(groups=False):
        raise Wrong(f"{got:,} ignores the groups: a conv with groups=2 sees only half of the input channels "
                    "in each filter (C_out * C_in/2 * k² + C_out)")
    if got == _alexnet_reference(bias=False):
        raise Wrong(f"{got:,} leaves out the biases: one per output channel and per dense output")
    if got == _alexnet_reference(groups=False, bias=False):
        raise Wrong(f"{got:,} leaves out the biases and ignores the groups=2 of conv2, conv4 and conv5")
    dense = sizing.mlp_params([256 * 6 * 6, 4096, 4096, 1000])
    if got == dense:
        raise Wrong("that is the dense layers alone: add the five convolutions")
    if got == expected - dense:
        raise Wrong("that is the convolutions alone: add the three dense layers (9,216 -> 4,096 -> 4,096 -> 1,000)")
    raise Wrong(f"{got:,} is {got / expected:.3f} times the right count; add up conv1..conv5 with "
                "C_out * (C_in/groups * k² + 1) and the dense layers with (n_in + 1) * n_out")


@exercise("1.1.3", "training memory of a 405B model")
def _check_llama_memory(answer) -> str:
    got = _number(answer, "llama_training_gb")
    n = 405e9
    expected = sizing.training_memory_bytes(n, "bf16") / 1e9
    if _close(got, expected, 0.01):
        return f"{expected:,.0f} GB: 16 bytes per parameter (2 + 2 + 4 + 4 + 4), about 81 GPUs of 80 GB"
    per_param = got * 1e9 / n
    diagnoses = [
        (expected * 1e9, "that is in bytes: divide by 1e9 for gigabytes"),
        (expected / 1e3, "that is in terabytes: the question asks for gigabytes (1 GB = 1e9 bytes)"),
        (expected * 1e9 / 2**30, "that is in GiB (2**30 bytes): use 1 GB = 1e9 bytes"),
        (n * 12 / 1e9, "12 bytes per parameter leaves out the fp32 master weights (4 bytes)"),
        (n * 8 / 1e9, "8 bytes per parameter keeps the optimizer in bf16; mixed precision keeps an fp32 master "
                      "copy and fp32 Adam moments"),
        (n * 4 / 1e9, "4 bytes per parameter is bf16 weights and gradients only: add the fp32 master copy "
                      "and Adam's m and v"),
        (n * 2 / 1e9, "that is the bf16 weights alone (for inference); training also needs gradients, "
                      "a master copy and Adam's two moments"),
        (n * 20 / 1e9, "20 bytes per parameter counts something twice: bf16 weights 2 + gradients 2 + "
                       "fp32 master 4 + m 4 + v 4"),
    ]
    for value, hint in diagnoses:
        if _close(got, value, 0.01):
            raise Wrong(f"{got:,.4g}: {hint}")
    shown, per_param_shown = numbers(got, expected)[0], numbers(per_param, 16.0, digits=3)[0]
    raise Wrong(f"{shown} GB is {per_param_shown} bytes per parameter (the check allows {tolerance(0.01)}); "
                "list the parts: bf16 weights, bf16 gradients, fp32 master weights, fp32 Adam m and v")


@exercise("1.1.4", "training compute and days of Chinchilla")
def _check_chinchilla(answer) -> str:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise Wrong(f"give a tuple (flops, days), got {type(answer).__name__} ({answer!r})")
    flops = _number(answer[0], "flops")
    days = _number(answer[1], "days")
    expected = sizing.training_flops(70e9, 1.4e12)
    if _close(flops, expected / 3, 0.02):
        raise Wrong(f"{flops:.3g} FLOPs is the forward pass only (2ND); the backward pass doubles it twice over: 6ND")
    if _close(flops, expected / 6, 0.02):
        raise Wrong(f"{flops:.3g} is N x D; each parameter costs 6 FLOPs per token (2 forward, 4 backward)")
    if not _close(flops, expected, 0.02):
        raise Wrong(f"{numbers(flops, expected, digits=3)[0]} FLOPs: training compute is about 6 N D with "
                    f"N = 70e9 and D = 1.4e12 (the check allows {tolerance(0.02)})")
    expected_days = sizing.training_days(expected, 1024, 312e12, 0.4)
    if _close(days, expected_days, 0.02):
        return f"6ND = {expected:.3g} FLOPs, about {expected_days:.0f} days on 1,024 GPUs at 40% of 312 TFLOP/s"
    diagnoses = [
        (expected_days * 24, "that is hours: divide by 24"),
        (expected_days * 86_400, "that is seconds: divide by 86,400 for days"),
        (expected_days * 0.4 * 0.4, "utilization should divide the time (the GPUs run at 40% of peak), "
                                    "not multiply it"),
        (expected_days * 0.4, "you left out the utilization: the GPUs sustain only 40% of their peak"),
        (expected_days * 1024, "that is GPU-days: divide by the 1,024 GPUs that work in parallel"),
    ]
    for value, hint in diagnoses:
        if _close(days, value, 0.02):
            raise Wrong(f"{days:.4g} days: {hint}")
    raise Wrong(f"{numbers(days, expected_days)[0]} days: days = FLOPs / (GPUs x peak FLOP/s x utilization) "
                f"/ 86,400 seconds (the check allows {tolerance(0.02)})")


def _measure_mlp_flops(sizes, batch_size) -> int:
    import torch
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    net = nn.Sequential(*layers[:-1])
    x = torch.zeros(batch_size, sizes[0])
    with FlopCounterMode(display=False) as counter:
        net(x).sum().backward()
    return counter.get_total_flops()


@exercise("1.1.5", "exact FLOPs of an MLP training step")
def _check_mlp_flops(mlp_train_flops) -> str:
    for sizes, batch in (([32, 64, 10], 128), ([784, 256, 128, 10], 16), ([5, 7], 3), ([10, 20, 30, 40, 2], 9)):
        got = _integer(mlp_train_flops(list(sizes), batch), f"mlp_train_flops({sizes}, {batch})")
        expected = _measure_mlp_flops(sizes, batch)
        if got == expected:
            continue
        weights = sizing.mlp_params(sizes, bias=False)
        params = sizing.mlp_params(sizes)
        first = sizes[0] * sizes[1]
        hints = {
            6 * weights * batch: "6 x weights x batch counts a gradient for the *input* of the first layer, but "
                                 "the input does not require a gradient, so autograd skips that product",
            6 * params * batch: "the counter counts matrix products only: bias additions are not counted, and "
                                "the first layer's input needs no gradient",
            6 * params * batch - 2 * first * batch: "bias additions are not matrix products: the counter "
                                                    "does not count them",
            2 * weights * batch: "that is the forward pass only; the backward pass adds the products for the "
                                 "weight gradients and the input gradients",
            4 * weights * batch: "forward (2 per weight) + weight gradients (2 per weight): the input gradients "
                                 "of the later layers are missing",
        }
        for wrong, hint in hints.items():
            if got == wrong:
                raise Wrong(f"mlp_train_flops({sizes}, {batch}) = {got:,}: {hint}")
        raise Wrong(f"for sizes {sizes} and batch {batch}, FlopCounterMode measures {expected:,}, you predict "
                    f"{got:,}; count 2·B·n_in·n_out for each product (forward, grad of weight, grad of input), "
                    f"and think about which one the first layer ({first:,} weights) does not need")
    return "your formula equals FlopCounterMode's count for four MLPs and batch sizes"


# --- 1.2 History, scale and applications --------------------------------------

@exercise("1.2.1", "year and month from an arXiv identifier")
def _check_arxiv(arxiv_year_month) -> str:
    cases = {"1706.03762": (2017, 6), "2005.14165": (2020, 5), "0704.0001": (2007, 4), "1409.1556": (2014, 9),
             "2407.21783": (2024, 7), "1910.10683": (2019, 10), "2112.11446": (2021, 12)}
    for arxiv_id, expected in cases.items():
        got = arxiv_year_month(arxiv_id)
        if not isinstance(got, tuple) or len(got) != 2:
            raise Wrong(f"arxiv_year_month({arxiv_id!r}) should return a tuple (year, month), got {got!r}")
        try:
            year, month = int(got[0]), int(got[1])
        except (TypeError, ValueError):
            raise Wrong(f"year and month should be integers, got {got!r}")
        if (year, month) == expected:
            continue
        if (year, month) == (expected[0] - 2000, expected[1]):
            raise Wrong(f"arxiv_year_month({arxiv_id!r}) gives year {year}: add 2000 (the id holds two digits)")
        if (year, month) == (expected[1], expected[0]) or (year, month) == (expected[1], expected[0] - 2000):
            raise Wrong(f"arxiv_year_month({arxiv_id!r}) = {got}: year and month are swapped (YYMM.NNNNN)")
        raise Wrong(f"arxiv_year_month({arxiv_id!r}) should be {expected}, got {(year, month)}: the id is "
                    "YYMM.NNNNN (year, month, then a number)")
    return "seven identifiers from 2007 to 2024 give the right year and month"


def _doubling_reference(years, params) -> float:
    slope, _ = np.polyfit(np.asarray(years, float), np.log2(np.asarray(params, float)), 1)
    return 1.0 / slope


@exercise("1.2.2", "doubling time by least squares")
def _check_doubling(doubling_time) -> str:
    rng = np.random.default_rng(12)
    for true_doubling in (2.0, 0.5, 1.3):
        years = np.sort(rng.uniform(2000, 2024, size=15))
        params = 1e6 * 2 ** ((years - 2000) / true_doubling) * 2 ** rng.normal(0, 0.7, size=15)
        got = _number(doubling_time(years.copy(), params.copy()), "doubling_time(years, params)")
        expected = _doubling_reference(years, params)
        if _close(got, expected, 1e-6):
            continue
        diagnoses = [
            (expected / math.log10(2), "you fitted log10(params): the slope of log2 counts doublings per year"),
            (expected / math.log(2), "you fitted the natural log: the slope of log2 counts doublings per year"),
            (1 / expected, "that is the slope (doublings per year); the doubling time is 1 / slope"),
            (expected * 12, "that is in months; give years"),
        ]
        for value, hint in diagnoses:
            if _close(got, value, 1e-4):
                raise Wrong(f"{got:.4g}: {hint}")
        raise not_close(f"for data that doubles every {true_doubling} years (with noise) the least-squares "
                        "doubling time", got, expected, rtol=1e-6, hint="fit a line to (year, log2(params))")
    return "matches the least-squares fit of log2(parameters) on year for three noisy data sets"


@exercise("1.2.3", "next-token examples from raw text")
def _check_next_char(make_examples) -> str:
    ids = np.arange(100, 120)  # easy to read: the target of 105 must be 106
    for T in (1, 4, 7):
        out = make_examples(ids.copy(), T)
        if not isinstance(out, tuple) or len(out) != 2:
            raise Wrong("make_examples should return a tuple (X, Y)")
        X, Y = (np.asarray(a) for a in out)
        n = len(ids) - T
        if X.shape != (n, T) or Y.shape != (n, T):
            if X.shape == (n + 1, T):
                raise Wrong(f"with {len(ids)} tokens and block_size {T} there are {n} windows whose targets "
                            f"exist (the last target is the last token): you made {n + 1}")
            if X.shape == (T, n):
                raise Wrong(f"X should have one example per row, shape ({n}, {T}); yours is transposed")
            raise Wrong(f"X and Y should both have shape ({n}, {T}) for {len(ids)} tokens and block_size "
                        f"{T}; got {X.shape} and {Y.shape}")
        if not np.array_equal(X, np.stack([ids[i:i + T] for i in range(n)])):
            raise Wrong(f"row i of X should be ids[i : i + {T}]; row 0 is {X[0].tolist()}")
        if np.array_equal(Y, X):
            raise Wrong("Y equals X: the target at each position is the *next* token, so shift by one")
        if np.array_equal(Y[1:], X[:-1]):  # Y[i] = ids[i - 1 : i - 1 + T]
            raise Wrong("Y is shifted the wrong way: the target is the token *after* each input, ids[i + 1 : i + T + 1]")
        if not np.array_equal(Y, np.stack([ids[i + 1:i + T + 1] for i in range(n)])):
            raise Wrong(f"row i of Y should be ids[i + 1 : i + {T + 1}], the tokens one position after X's; "
                        f"row 0 is {Y[0].tolist()}")
    return "X[i] = ids[i:i+T] and Y[i] = ids[i+1:i+T+1] for three block sizes"


@exercise("1.2.4", "relative contrast of distances")
def _check_contrast(relative_contrast) -> str:
    rng = np.random.default_rng(5)
    for dim in (2, 10, 300):
        points, query = rng.random((200, dim)), rng.random(dim)
        got = _number(relative_contrast(points.copy(), query.copy()), f"relative_contrast in {dim} dimensions")
        dist = np.linalg.norm(points - query, axis=1)
        expected = (dist.max() - dist.min()) / dist.min()
        if _close(got, expected, 1e-6):
            continue
        sq = dist**2
        diagnoses = [
            ((sq.max() - sq.min()) / sq.min(), "you used squared distances: take the square root (Euclidean distance)"),
            ((dist.max() - dist.min()) / dist.max(), "divide by the *nearest* distance (the minimum), not the largest"),
            (dist.std() / dist.mean(), "that is std/mean; the relative contrast is (max - min) / min"),
            (dist.max() / dist.min(), "that is max/min; subtract 1, or compute (max - min) / min"),
        ]
        for value, hint in diagnoses:
            if _close(got, value, 1e-6):
                raise Wrong(f"{got:.4g} in {dim} dimensions: {hint}")
        raise not_close(f"in {dim} dimensions the relative contrast", got, expected, rtol=1e-6,
                        hint="distances are Euclidean, from the query to every point (one row each)")
    return "(max − min) / min of the Euclidean distances, in 2, 10 and 300 dimensions"
