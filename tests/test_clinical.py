"""utils.clinical against scikit-learn and hand-worked values; the 8.1 data loaders."""
import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from utils import clinical as C
from utils import data


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    score = np.round(0.4 * y + rng.uniform(0, 1, 300), 2)  # rounded: many ties
    return y, score, 1 / (1 + np.exp(-3 * (score - 0.7)))


def test_roc_and_auc_match_sklearn(scores):
    y, s, _ = scores
    fpr, tpr, thr = C.roc_curve(y, s)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(y, s, drop_intermediate=False)
    assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr) and np.allclose(thr[1:], sk_thr[1:])
    assert abs(C.roc_auc(y, s) - skm.roc_auc_score(y, s)) < 1e-12
    assert abs(np.trapezoid(tpr, fpr) - C.roc_auc(y, s)) < 1e-12


def test_auc_by_hand():
    # positives 0.8, 0.4; negatives 0.4, 0.1: pairs (0.8>0.4, 0.8>0.1, 0.4=0.4 half, 0.4>0.1) = 3.5/4
    assert C.roc_auc([1, 1, 0, 0], [0.8, 0.4, 0.4, 0.1]) == pytest.approx(0.875)


def test_bootstrap_interval_brackets_the_estimate(scores):
    y, s, _ = scores
    est, low, high = C.bootstrap_ci(y, s, n_boot=200, seed=1)
    assert low < est < high and high - low < 0.2
    assert C.bootstrap_ci(y, s, n_boot=200, seed=1) == (est, low, high)  # deterministic


def test_confusion_at_matches_sklearn(scores):
    y, s, _ = scores
    r = C.confusion_at(y, s, 0.6)
    tn, fp, fn, tp = skm.confusion_matrix(y, s >= 0.6).ravel()
    assert (r["tn"], r["fp"], r["fn"], r["tp"]) == (tn, fp, fn, tp)
    assert r["sensitivity"] == pytest.approx(skm.recall_score(y, s >= 0.6))
    assert r["ppv"] == pytest.approx(skm.precision_score(y, s >= 0.6))
    assert np.isnan(C.confusion_at(y, s, 10.0)["ppv"])  # nobody called positive


def test_ppv_at_prevalence_by_bayes():
    # 1% prevalence, sensitivity 0.9, specificity 0.91: 0.009 / (0.009 + 0.0891)
    assert C.ppv_at_prevalence(0.01, 0.9, 0.91) == pytest.approx(0.009 / 0.0981)
    assert np.allclose(C.ppv_at_prevalence(np.array([0.0, 1.0]), 0.9, 0.9), [0.0, 1.0])
    with pytest.raises(ValueError, match="prevalence"):
        C.ppv_at_prevalence(1.5, 0.9, 0.9)


def test_cost_threshold():
    assert C.cost_threshold(cost_missed=4, cost_false_alarm=1) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="positive"):
        C.cost_threshold(0, 1)


def test_calibration_matches_sklearn(scores):
    y, _, p = scores
    assert C.brier_score(y, p) == pytest.approx(skm.brier_score_loss(y, p), abs=1e-12)
    for strategy in ("uniform", "quantile"):
        mp, ob, n = C.reliability_curve(y, p, n_bins=6, strategy=strategy)
        sk_ob, sk_mp = calibration_curve(y, p, n_bins=6, strategy=strategy)
        assert np.allclose(mp, sk_mp) and np.allclose(ob, sk_ob) and n.sum() == len(y)
    assert C.brier_score([0, 1, 1, 0], [0.5] * 4) == pytest.approx(0.25)


def test_net_benefit_by_hand_and_treat_all():
    y, p = np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.3, 0.6, 0.2, 0.1])
    # t = 0.25: called 0.9, 0.3, 0.6 -> TP 2, FP 1; 2/5 - 1/5 * (1/3)
    assert C.net_benefit(y, p, 0.25) == pytest.approx(0.4 - 0.2 / 3)
    ts = np.array([0.1, 0.3, 0.5])
    assert np.allclose(C.net_benefit(y, np.ones(5), ts), C.net_benefit_treat_all(0.4, ts))
    with pytest.raises(ValueError, match="strictly between"):
        C.net_benefit(y, p, [0.0, 0.5])


def test_kaplan_meier_by_hand():
    t, s, n = C.kaplan_meier([2, 3, 3, 5, 8], [1, 1, 0, 1, 0])
    assert t.tolist() == [2, 3, 5] and n.tolist() == [5, 4, 2]
    assert np.allclose(s, [0.8, 0.6, 0.3])
    t, s, _ = C.kaplan_meier([1, 2, 3], [1, 1, 1])  # no censoring: the empirical survival function
    assert np.allclose(s, [2 / 3, 1 / 3, 0])
    with pytest.raises(ValueError, match="censored"):
        C.kaplan_meier([1, 2], [1, 2])


def test_kaplan_meier_matches_scipy():
    from scipy import stats

    rng = np.random.default_rng(3)
    time, event = rng.integers(1, 30, 200).astype(float), rng.integers(0, 2, 200)
    t, s, _ = C.kaplan_meier(time, event)
    sf = stats.ecdf(stats.CensoredData(uncensored=time[event == 1], right=time[event == 0])).sf
    assert np.allclose(s, sf.evaluate(t), atol=1e-12)


def test_window_level_and_hounsfield():
    assert np.allclose(C.window_level([-200, -160, 40, 240, 500], 40, 400), [0, 0, 0.5, 1, 1])
    with pytest.raises(ValueError, match="width"):
        C.window_level([0], 40, 0)
    ct = data.load("dicom_samples")["CT_small"]
    hu = C.to_hounsfield(ct)
    assert np.allclose(hu, ct.pixel_array * float(ct.RescaleSlope) + float(ct.RescaleIntercept))
    assert hu.min() < -700 and hu.max() > 500  # lung and bone
    with pytest.raises(TypeError, match="pydicom"):
        C.to_hounsfield(np.zeros((2, 2)))


def test_dice_matches_f1_and_conventions():
    rng = np.random.default_rng(0)
    a, b = rng.random((20, 20)) < 0.4, rng.random((20, 20)) < 0.5
    assert C.dice(a, b) == pytest.approx(skm.f1_score(b.ravel(), a.ravel()))
    assert C.dice(np.zeros(4), np.zeros(4)) == 1.0
    labels = rng.integers(0, 3, (10, 10))
    assert np.allclose(C.dice(labels, labels, [0, 1, 2]), 1)
    with pytest.raises(ValueError, match="one shape"):
        C.dice(np.zeros(3), np.zeros(4))


def test_bad_inputs_get_clear_messages():
    with pytest.raises(ValueError, match="0 .no disease. and 1"):
        C.roc_auc([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="one score per patient"):
        C.roc_auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="both classes"):
        C.roc_curve([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="probabilities"):
        C.brier_score([0, 1], [0.2, 1.3])
    with pytest.raises(ValueError, match="empty"):
        C.roc_auc([], [])


def test_pima_loader():
    pima = data.load("pima")
    assert (pima.split == "train").sum() == 200 and (pima.split == "test").sum() == 332
    assert set(pima.diabetes) == {0, 1} and pima.notna().all().all()
    assert {"glu", "bmi", "age", "ped"} <= set(pima.columns)


def test_pbc_loader():
    pbc = data.load("pbc")
    assert len(pbc) == 418 and pbc.trt.notna().sum() == 312
    assert set(pbc.status) == {0, 1, 2}


def test_mni_brain_loader():
    brain = data.load("mni_brain", step=3)
    assert brain.t1.shape == brain.regions.shape == brain.brain.shape == (60, 72, 60)
    assert len(brain.region_names) == 116 and brain.region_names[71] == "Caudate_L"
    # the atlas lies on the brain: most labelled voxels are bright in the T1 image
    assert np.mean(brain.t1[brain.regions > 0] > 20) > 0.8 and np.mean(brain.t1[~brain.brain] > 20) < 0.2
    with pytest.raises(ValueError, match="step"):
        data.load("mni_brain", step=0)


def test_mni_brain_missing_package_message(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "MRICRON_TEMPLATES", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="apt-get install mricron-data"):
        data.load("mni_brain")
