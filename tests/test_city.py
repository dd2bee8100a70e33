"""utils.city against references (a linear program for valley filling) and the 8.5 dataset loader."""
import numpy as np
import pytest
from scipy.optimize import linprog

from utils import city, data


def min_peak_lp(base, energy, cap):
    n = len(base)  # variables: load (n) and the peak z; minimise z
    c = np.r_[np.zeros(n), 1.0]
    A_ub = np.c_[np.eye(n), -np.ones(n)]
    res = linprog(c, A_ub=A_ub, b_ub=-base, A_eq=np.r_[np.full(n, city.DT), 0.0][None], b_eq=[energy],
                  bounds=[(0, cap)] * n + [(None, None)], method="highs")
    return res.fun


def test_valley_fill_matches_the_linear_program():
    rng = np.random.default_rng(0)
    for energy, cap in ((2.0, 0.5), (10.0, 2.0), (20.0, 1.0), (0.0, 1.0)):
        base = 4 + np.sin(np.arange(48) / 7.0) + 0.3 * rng.normal(size=48)
        load = city.valley_fill(base, energy, cap)
        assert load.sum() * city.DT == pytest.approx(energy, abs=1e-9)
        assert load.min() >= 0 and load.max() <= cap + 1e-12
        assert np.max(base + load) == pytest.approx(min_peak_lp(base, energy, cap), abs=1e-6)
    with pytest.raises(ValueError, match="cannot be delivered"):
        city.valley_fill(np.ones(48), 30.0, 1.0)


def test_fixed_schedule_and_peak_increase():
    load = city.fixed_schedule(6.0, 2.0, range(0, 12))
    assert load.sum() * city.DT == pytest.approx(6.0) and load[12:].sum() == 0
    assert city.peak_increase(np.r_[np.zeros(47), 5.0], load) == 0.0
    with pytest.raises(ValueError):
        city.fixed_schedule(6.0, 2.0, [])
    with pytest.raises(ValueError, match="shapes"):
        city.peak_increase(np.ones(48), np.ones(47))


def test_forecast_helpers():
    D = np.arange(20 * 48, dtype=float).reshape(20, 48)
    assert np.array_equal(city.seasonal_naive_days(D, 9), D[2])
    with pytest.raises(ValueError):
        city.seasonal_naive_days(D, 3)
    with pytest.raises(ValueError, match="whole number"):
        city.day_matrix(np.ones(50))
    assert city.mae([1, 2], [2, 2]) == 0.5 and city.mape([2, 4], [1, 4]) == 0.25


def test_elecdemand_loader():
    table = data.load("elecdemand")
    assert table.shape == (17520, 4)
    assert list(table.columns) == ["time", "demand", "workday", "temperature"]
    assert table["time"].iloc[0].year == 2014 and table["time"].iloc[-1].day == 31
    assert 2.5 < table["demand"].min() < table["demand"].max() < 10  # GW
    info = data.info("elecdemand")
    assert "fpp2" in info.source and info.licence
