"""Tests of utils.scaling: the fits recover known laws, the optimum is the minimum, runs are repeatable."""
import math

import numpy as np
import pytest
import torch

from utils import gpt, scaling, sizing


def _grid():
    N = np.repeat(np.geomspace(2e3, 6e4, 5), 4)
    D = np.tile(np.geomspace(5e4, 1e6, 4), 5)
    return N, D


@pytest.mark.parametrize("truth", [dict(E=1.3, A=60.0, B=9.0, alpha=0.8, beta=0.15),
                                   dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
                                   dict(E=0.9, A=5.0, B=40.0, alpha=0.3, beta=0.45)])
def test_fit_chinchilla_recovers_a_known_law(truth):
    N, D = _grid()
    L = scaling.chinchilla_loss(N, D, **truth)
    fit = scaling.fit_chinchilla(N, D, L)
    assert fit.rms_log < 1e-4
    assert abs(fit.alpha - truth["alpha"]) < 0.02 and abs(fit.beta - truth["beta"]) < 0.02
    assert abs(fit.E - truth["E"]) < 0.02
    # the fitted law predicts outside the grid too
    assert abs(fit.loss(3e5, 5e6) - scaling.chinchilla_loss(3e5, 5e6, **truth)) < 0.01


def test_fit_chinchilla_with_noise_and_bad_input():
    rng = np.random.default_rng(0)
    N, D = _grid()
    truth = dict(E=1.3, A=60.0, B=9.0, alpha=0.8, beta=0.15)
    L = scaling.chinchilla_loss(N, D, **truth) * np.exp(rng.normal(0, 0.003, N.size))
    fit = scaling.fit_chinchilla(N, D, L)
    assert 0.002 < fit.rms_log < 0.005
    assert abs(fit.loss(1e4, 2e5) - scaling.chinchilla_loss(1e4, 2e5, **truth)) < 0.02
    with pytest.raises(ValueError, match="same length"):
        scaling.fit_chinchilla(N, D[:-1], L)
    with pytest.raises(ValueError, match="at least 6"):
        scaling.fit_chinchilla(N[:4], D[:4], L[:4])
    with pytest.raises(ValueError, match="positive"):
        scaling.fit_chinchilla(-N, D, L)
    with pytest.raises(ValueError, match="empty"):
        scaling.fit_chinchilla([], [], [])


def test_power_law_fit_with_and_without_offset():
    x = np.geomspace(1e3, 1e6, 10)
    fit = scaling.fit_power_law(x, 5.0 * x**-0.3, offset=False)
    assert fit["E"] == 0.0 and abs(fit["A"] - 5.0) < 1e-9 and abs(fit["alpha"] - 0.3) < 1e-12
    fit = scaling.fit_power_law(x, scaling.power_law(x, 1.5, 40.0, 0.5))
    assert abs(fit["E"] - 1.5) < 1e-4 and abs(fit["alpha"] - 0.5) < 1e-4 and fit["rms"] < 1e-6
    with pytest.raises(ValueError, match="more points"):
        scaling.fit_power_law(x[:3], x[:3])


def test_compute_optimal_is_the_minimum_on_the_budget_line():
    law = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    for C in (1e18, 5.76e23):
        n_opt, d_opt = scaling.compute_optimal(C, law)
        assert math.isclose(sizing.training_flops(n_opt, d_opt), C, rel_tol=1e-12)
        N = n_opt * np.geomspace(0.5, 2.0, 201)
        L = scaling.chinchilla_loss(N, scaling.tokens_for_budget(C, N), **law)
        assert abs(N[np.argmin(L)] / n_opt - 1) < 0.01
    # Hoffmann et al.'s table 3 puts 67B parameters at about 5.76e23 FLOPs for approach 3's rounded fit
    n_opt, _ = scaling.compute_optimal(5.76e23, law)
    assert 2e10 < n_opt < 7e10
    arr_n, arr_d = scaling.compute_optimal(np.array([1e20, 1e22]), law)
    assert arr_n.shape == (2,) and np.all(np.diff(arr_n) > 0)
    with pytest.raises(ValueError, match="A, B, alpha, beta > 0"):
        scaling.compute_optimal(1e20, dict(law, alpha=0.0))


def test_isoflop_minimum_of_a_parabola():
    N = np.geomspace(1e3, 1e5, 5)
    L = 2.0 + 0.1 * (np.log(N) - math.log(1e4)) ** 2
    n_min, l_min = scaling.isoflop_minimum(N, L)
    assert abs(n_min / 1e4 - 1) < 1e-9 and abs(l_min - 2.0) < 1e-12
    with pytest.raises(ValueError, match="no minimum"):
        scaling.isoflop_minimum(N, 5.0 - L)
    with pytest.raises(ValueError, match="do not bracket"):
        scaling.isoflop_minimum(N[:3], 2.0 + 0.1 * (np.log(N[:3]) - math.log(1e6)) ** 2)  # still falling
    with pytest.raises(ValueError, match="at least 3"):
        scaling.isoflop_minimum(N[:2], L[:2])


def test_train_run_is_repeatable_and_counts_tokens():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 12, 20_000)
    config = scaling.model_config(8, vocab_size=12, block_size=16)
    vx, vy = gpt.eval_windows(ids[:2000], 16, 32)
    a = scaling.train_run(ids, vx, vy, config, n_tokens=20 * 8 * 16, batch_size=8)
    b = scaling.train_run(ids, vx, vy, config, n_tokens=20 * 8 * 16, batch_size=8)
    assert a["loss"] == b["loss"] and a["steps"] == 20 and a["D"] == 20 * 8 * 16
    assert a["N"] == gpt.GPT(config).num_params() and a["C"] == 6 * a["N"] * a["D"]
    assert a["loss"] < math.log(12) + 0.05  # trained: no worse than the uniform guess
    with pytest.raises(ValueError, match="at least 10 steps"):
        scaling.train_run(ids, vx, vy, config, n_tokens=100, batch_size=8)
    with pytest.raises(ValueError, match="block_size"):
        scaling.train_run(ids, vx[:, :8], vy[:, :8], config, n_tokens=20 * 8 * 16, batch_size=8)
    with pytest.raises(TypeError, match="GPTConfig"):
        scaling.train_run(ids, vx, vy, {"n_embd": 8}, n_tokens=20 * 8 * 16)


def test_published_fits_give_their_papers_ratios():
    # Besiroglu et al. (2024): their refit implies about 20 tokens per parameter at Chinchilla's budget
    n, d = scaling.compute_optimal(5.76e23, scaling.PUBLISHED["Besiroglu et al. 2024"])
    assert 15 < d / n < 25
