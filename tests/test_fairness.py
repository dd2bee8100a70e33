"""utils.fairness against fairlearn and known values, and the 9.12 loaders of utils.data."""
import numpy as np
import pytest

from utils import data, fairness


def _random(seed=0, n=400):
    rng = np.random.default_rng(seed)
    groups = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    y_true = (rng.random(n) < np.where(groups == "a", 0.3, 0.5)).astype(int)
    score = np.clip(0.3 * y_true + rng.normal(0.35, 0.2, n), 0, 1)
    return y_true, (score >= 0.5).astype(int), score, groups


def test_metrics_agree_with_fairlearn():
    fm = pytest.importorskip("fairlearn.metrics")
    for seed in range(3):
        y_true, y_pred, _, groups = _random(seed)
        assert abs(fairness.demographic_parity_difference(y_true, y_pred, groups)
                   - fm.demographic_parity_difference(y_true, y_pred, sensitive_features=groups)) < 1e-12
        assert abs(fairness.equalized_odds_difference(y_true, y_pred, groups)
                   - fm.equalized_odds_difference(y_true, y_pred, sensitive_features=groups)) < 1e-12
        frame = fm.MetricFrame(metrics={"tpr": fm.true_positive_rate, "fpr": fm.false_positive_rate},
                               y_true=y_true, y_pred=y_pred, sensitive_features=groups)
        for g, r in fairness.group_rates(y_true, y_pred, groups).items():
            assert abs(frame.by_group.loc[g, "tpr"] - r["tpr"]) < 1e-12
            assert abs(frame.by_group.loc[g, "fpr"] - r["fpr"]) < 1e-12


def test_rates_on_a_small_known_case():
    r = fairness.rates([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])
    assert r == dict(n=5, base_rate=0.6, selection_rate=0.6, tpr=2 / 3, fpr=0.5, fnr=1 / 3, ppv=2 / 3, accuracy=0.6)
    assert np.isnan(fairness.rates([1, 0], [0, 0])["ppv"])  # nobody selected: PPV undefined, not an error


def test_chouldechova_identity_holds_for_any_decision():
    y_true, y_pred, _, groups = _random(5)
    for r in fairness.group_rates(y_true, y_pred, groups).values():
        assert abs(fairness.chouldechova_fpr(r["base_rate"], r["ppv"], r["fnr"]) - r["fpr"]) < 1e-12
    with pytest.raises(ValueError, match="base_rate"):
        fairness.chouldechova_fpr(1.2, 0.5, 0.1)


def test_calibration_by_group_and_gap():
    y_true, _, score, groups = _random(1)
    two = groups != "c"
    table = fairness.calibration_by_group(y_true[two], score[two], groups[two], bins=np.linspace(0, 1, 5))
    assert set(table) == {"a", "b"}
    for values, observed, count in table.values():
        assert len(values) == len(observed) == len(count) == 4
    assert sum(c.sum() for _, _, c in table.values()) == two.sum()
    # a score that is the outcome itself is perfectly calibrated in every group: gap 0
    assert fairness.calibration_gap(y_true[two], y_true[two], groups[two], min_count=1) == 0.0
    with pytest.raises(ValueError, match="two groups"):
        fairness.calibration_gap(y_true, score, groups, bins=np.linspace(0, 1, 5))


def test_group_thresholds_respect_the_bound_and_never_gain_from_it():
    y_true, _, score, groups = _random(2)
    two = groups != "c"
    y_true, score, groups = y_true[two], score[two], groups[two]
    previous = 1.0
    for bound in (0.5, 0.1, 0.02):
        th, acc = fairness.fit_group_thresholds(y_true, score, groups, bound, grid=np.linspace(0, 1, 51))
        decision = fairness.predict_with_thresholds(score, groups, th)
        assert fairness.equalized_odds_difference(y_true, decision, groups) <= bound + 1e-12
        assert abs(np.mean(decision == y_true) - acc) < 1e-12
        assert acc <= previous + 1e-12
        previous = acc


def test_clear_errors_for_bad_input():
    with pytest.raises(ValueError, match="0 and 1 only"):
        fairness.group_rates([0, 1], [0.2, 0.7], ["a", "b"])
    with pytest.raises(ValueError, match="one label per person"):
        fairness.group_rates([0, 1, 1], [0, 1, 1], ["a", "b"])
    with pytest.raises(ValueError, match="one value only"):
        fairness.demographic_parity_difference([0, 1], [0, 1], ["a", "a"])
    with pytest.raises(ValueError, match="empty"):
        fairness.rates([], [])
    with pytest.raises(ValueError, match="no threshold given"):
        fairness.predict_with_thresholds([0.2, 0.8], ["a", "b"], {"a": 0.5})
    with pytest.raises(ValueError, match="two groups"):
        y_true, _, score, groups = _random(3)
        fairness.fit_group_thresholds(y_true, score, groups, 0.1)


def test_compas_loader_applies_propublicas_filters():
    full = data.load("compas", filtered=False)
    table = data.load("compas")
    assert len(full) == 7214 and len(table) == 6172  # the counts in ProPublica's analysis notebook
    assert table["days_b_screening_arrest"].between(-30, 30).all()
    assert (table["c_charge_degree"] != "O").all() and (table["is_recid"] != -1).all()
    assert table["decile_score"].between(1, 10).all() and "decile_score.1" not in table.columns
    assert str(table["screening_date"].dtype).startswith("datetime64")


def test_hmda_loader():
    table = data.load("hmda")
    assert table.shape == (2380, 14)
    assert set(table["deny"].unique()) == {0, 1} and set(table["afam"].unique()) == {0, 1}
    assert abs(table["deny"].mean() - 285 / 2380) < 1e-12
