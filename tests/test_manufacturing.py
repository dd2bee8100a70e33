"""utils.manufacturing and the 8.4 data loaders: event metrics, scores, thresholds, texture model, recommendation."""
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

from utils import data
from utils import manufacturing as mf


def test_events_and_event_metrics():
    y = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0])
    assert mf.events(y) == [(1, 3), (5, 6)]
    a = np.array([0, 1, 1, 0, 0, 0, 0, 1, 1, 0])  # catches the first event (twice), one false run
    r = mf.event_metrics(y, a)
    assert (r["detected"], r["false_alarms"]) == (1, 1)
    assert r["precision"] == 0.5 and r["recall"] == 0.5 and r["f1"] == 0.5
    assert r["false_per_1000"] == 100.0 and r["delay"] == [0]
    assert mf.event_metrics(y, np.zeros(10, int))["f1"] == 0.0
    with pytest.raises(ValueError, match="same length"):
        mf.event_metrics(y, a[:5])
    with pytest.raises(ValueError, match="0 and 1"):
        mf.events([0, 2])


def test_rolling_zscore_matches_pandas():
    x = np.random.default_rng(0).normal(size=300).cumsum()
    z = mf.rolling_zscore(x, 25)
    s = pd.Series(x)
    ref = (s - s.rolling(25).mean().shift(1)) / s.rolling(25).std().shift(1).clip(lower=0.01)
    assert np.isnan(z[:25]).all()
    assert np.allclose(z[25:], ref[25:], rtol=1e-8)
    with pytest.raises(ValueError, match="window"):
        mf.rolling_zscore(x, 1)


def test_alarm_threshold_budget():
    s = np.arange(1000, dtype=float)
    assert mf.alarm_threshold(s, 1.0) == 998.0  # exactly 1 score above
    assert mf.alarm_threshold(s, 0.0) == 999.0
    assert np.sum(s > mf.alarm_threshold(s, 5.0)) == 5
    assert mf.alarm_threshold(np.r_[np.nan, s], 1.0) == 998.0
    with pytest.raises(ValueError, match="no number"):
        mf.alarm_threshold([np.nan], 1.0)


def test_lag_matrix():
    L = mf.lag_matrix(np.arange(6.0), 2)
    assert np.array_equal(L, [[1, 0], [2, 1], [3, 2], [4, 3]])


def test_mahalanobis_matches_scipy():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 3))
    cov = A @ A.T + np.eye(3)
    F, mu = rng.normal(size=(5, 3)), rng.normal(size=3)
    ref = [scipy_mahalanobis(f, mu, np.linalg.inv(cov)) for f in F]
    assert np.allclose(mf.mahalanobis(F, mu, cov), ref)


def test_texture_model_finds_a_drawn_defect():
    rng = np.random.default_rng(2)
    clean = rng.normal(size=(40, 24, 24)) * 0.1 + 0.5
    model = mf.GaussianTexture(smooth=1.0, neighbourhood=3).fit(clean[:30])
    defect, mask = mf.draw_defect(clean[30], "spot", rng, contrast=4.0)
    assert mask.any() and not np.array_equal(defect, clean[30])
    heat = model.heat_map(defect)
    assert heat.shape == (24, 24)
    assert heat[mask].mean() > 2 * heat[~mask].mean()
    assert model.score([defect])[0] > model.score(clean[30:40]).max()
    assert mf.high_pass_energy(defect, 1.0).shape == (24, 24)
    with pytest.raises(ValueError, match="scratch"):
        mf.draw_defect(clean[0], "dent", rng)
    with pytest.raises(ValueError, match="2-D image"):
        mf.patches(np.zeros((10, 10)), 16)
    assert mf.patches(np.zeros((64, 64)), 32, stride=16).shape == (9, 32, 32)


def test_recommend_settings_stays_in_the_grid_and_maximises():
    X = np.zeros((2, 3))
    predict = lambda Z: -((Z[:, 0] - 1.0) ** 2) + Z[:, 2]
    levels = np.array([[0.0, 1.0, 2.0], [-1.0, 0.0, 3.0]])
    best_x, best_y = mf.recommend_settings(predict, X, [0, 2], levels)
    assert np.allclose(best_x, [[1.0, 0.0, 3.0]] * 2) and np.allclose(best_y, 3.0)
    with pytest.raises(ValueError, match="one row per free column"):
        mf.recommend_settings(predict, X, [0], levels)


def test_winsorizer_clips_to_training_quantiles():
    X = np.r_[np.arange(100.0), 1e6][:, None]
    w = mf.Winsorizer(0.01).fit(X)
    out = w.transform(np.array([[1e9], [-5.0]]))
    assert out[0, 0] == w.high_[0] < 1e6 and out[1, 0] == w.low_[0] >= 0.0


def test_sensor_network_loader():
    s = data.load("sensor_network")
    assert len(s) == 18914 and int(s["label"].sum()) == 149
    assert sorted(s["mote_id"].unique()) == [1, 2, 3, 4]
    n_events = sum(len(mf.events(g["label"].to_numpy())) for _, g in s.groupby("mote_id"))
    assert n_events == 2
    assert "CC-BY" in data.info("sensor_network").licence


def test_chem_yield_loader():
    c = data.load("chem_yield")
    assert c.shape == (176, 58) and c.columns[0] == "yield"
    assert sum(col.startswith("man_proc") for col in c.columns) == 45
    assert int(c.isna().sum().sum()) == 106
