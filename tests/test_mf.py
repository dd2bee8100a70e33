"""utils.mf: matrix factorization (gradient, ALS), BPR, negative sampling, helpers."""
import numpy as np
import pytest
import torch

from utils import mf

U, I, K = 7, 9, 3


@pytest.fixture
def toy():
    """A small random rating problem in which users and items have several ratings."""
    rng = np.random.default_rng(0)
    pairs = rng.permutation(U * I)[:40]
    u, i = pairs // I, pairs % I
    r = rng.integers(1, 6, len(u)).astype(float)
    params = mf.MFParams(r.mean(), rng.normal(0, 0.3, U), rng.normal(0, 0.3, I),
                         rng.normal(0, 0.5, (U, K)), rng.normal(0, 0.5, (I, K)))
    return params, u, i, r


# --- explicit feedback ------------------------------------------------------------------

def test_predict_matches_a_loop_and_score_all(toy):
    params, u, i, r = toy
    loop = [params.mu + params.user_bias[a] + params.item_bias[b] + sum(params.P[a, f] * params.Q[b, f]
                                                                        for f in range(K)) for a, b in zip(u, i)]
    assert np.allclose(params.predict(u, i), loop)
    assert np.allclose(params.score_all()[u, i], loop)
    assert params.score_all().shape == (U, I) and params.num_factors == K


def test_objective_and_gradient_match_autograd(toy):
    params, u, i, r = toy
    lam = 0.3
    leaves = [torch.tensor(x, requires_grad=True) for x in
              (params.user_bias, params.item_bias, params.P, params.Q)]
    bu, bi, P, Q = leaves
    ut, it = torch.from_numpy(u), torch.from_numpy(i)
    e = torch.from_numpy(r) - (params.mu + bu[ut] + bi[it] + (P[ut] * Q[it]).sum(1))
    J = e @ e + lam * sum((x ** 2).sum() for x in leaves)
    J.backward()
    assert mf.mf_objective(params, u, i, r, lam) == pytest.approx(J.item(), rel=1e-12)
    g = mf.mf_gradients(params, u, i, r, lam)
    for ours, leaf in zip((g.user_bias, g.item_bias, g.P, g.Q), leaves):
        np.testing.assert_allclose(ours, leaf.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert g.mu == 0.0


def test_gradient_matches_finite_differences(toy):
    params, u, i, r = toy
    g = mf.mf_gradients(params, u, i, r, 0.5)
    h = 1e-6
    for a, f in ((0, 0), (3, 2)):
        plus, minus = params.P.copy(), params.P.copy()
        plus[a, f] += h
        minus[a, f] -= h
        Jp = mf.mf_objective(mf.MFParams(params.mu, params.user_bias, params.item_bias, plus, params.Q), u, i, r, 0.5)
        Jm = mf.mf_objective(mf.MFParams(params.mu, params.user_bias, params.item_bias, minus, params.Q), u, i, r, 0.5)
        assert (Jp - Jm) / (2 * h) == pytest.approx(g.P[a, f], rel=1e-5, abs=1e-6)


def test_als_user_step_is_the_per_user_ridge_solution(toy):
    params, u, i, r = toy
    lam = 0.8
    new = mf.als_user_step(params, u, i, r, lam)
    for a in range(U):
        rows = u == a
        Fu = np.hstack([params.Q[i[rows]], np.ones((rows.sum(), 1))])
        t = r[rows] - params.mu - params.item_bias[i[rows]]
        x = np.linalg.solve(Fu.T @ Fu + lam * np.eye(K + 1), Fu.T @ t)
        np.testing.assert_allclose(np.append(new.P[a], new.user_bias[a]), x, atol=1e-10)
    # exact minimiser: the user gradient vanishes, J does not increase, the items are untouched
    g = mf.mf_gradients(new, u, i, r, lam)
    assert np.abs(g.P).max() < 1e-9 and np.abs(g.user_bias).max() < 1e-9
    assert mf.mf_objective(new, u, i, r, lam) <= mf.mf_objective(params, u, i, r, lam)
    assert np.array_equal(new.Q, params.Q) and np.array_equal(new.item_bias, params.item_bias)


def test_als_item_step_zeroes_the_item_gradient(toy):
    params, u, i, r = toy
    new = mf.als_item_step(params, u, i, r, 0.8)
    g = mf.mf_gradients(new, u, i, r, 0.8)
    assert np.abs(g.Q).max() < 1e-9 and np.abs(g.item_bias).max() < 1e-9
    assert np.array_equal(new.P, params.P)


def test_als_step_ignores_users_without_ratings(toy):
    params, u, i, r = toy
    keep = u != 0
    new = mf.als_user_step(params, u[keep], i[keep], r[keep], 1.0)
    assert np.all(new.P[0] == 0) and new.user_bias[0] == 0  # ridge with no data: zero


def test_fit_als_lowers_the_objective_and_fits(toy):
    _, u, i, r = toy
    params, history = mf.fit_als(u, i, r, U, I, num_factors=2, reg=0.1, num_sweeps=6,
                                 rng=np.random.default_rng(0), test=(u, i, r))
    assert np.all(np.diff(history.objective) <= 1e-9)
    assert history.train[-1] < np.std(r)  # better than predicting the mean
    assert history.test == pytest.approx(history.train)  # evaluated on the same ratings
    assert len(history.train) == 6
    with pytest.raises(ValueError, match="reg > 0"):
        mf.fit_als(u, i, r, U, I, 2, 0.0, 3, np.random.default_rng(0))


def test_item_bias_baseline_closed_form():
    u = np.array([0, 0, 1, 1, 1])
    i = np.array([0, 1, 0, 1, 2])
    r = np.array([5.0, 3.0, 4.0, 2.0, 1.0])
    b = mf.item_bias_baseline(u, i, r, 2, 3, reg_item=1.0, reg_user=2.0)
    mu = 3.0
    b_i = np.array([(2 + 1) / 3, (0 - 1) / 3, (-2) / 2])
    assert b.mu == mu
    np.testing.assert_allclose(b.item_bias, b_i)
    np.testing.assert_allclose(b.user_bias[0], ((5 - mu - b_i[0]) + (3 - mu - b_i[1])) / 4)
    assert b.num_factors == 0 and b.predict([1], [2])[0] == pytest.approx(mu + b.user_bias[1] + b_i[2])


def test_input_errors_speak_to_the_learner(toy):
    params, u, i, r = toy
    with pytest.raises(ValueError, match="unknown user id 7"):
        params.predict([7], [0])
    with pytest.raises(ValueError, match="unknown item id -1"):
        params.predict([0], [-1])
    with pytest.raises(ValueError, match="empty history"):
        mf.mf_objective(params, [], [], [], 0.1)
    with pytest.raises(ValueError, match="pair up"):
        params.predict([0, 1], [0])
    with pytest.raises(TypeError, match="integers"):
        params.predict([0.5], [1])
    with pytest.raises(ValueError, match="ratings of shape"):
        mf.mf_objective(params, u, i, r[:-1], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        mf.mf_objective(params, u[:1], i[:1], [np.nan], 0.1)
    with pytest.raises(ValueError, match="λ"):
        mf.mf_objective(params, u, i, r, -1.0)
    with pytest.raises(ValueError, match="same k"):
        mf.MFParams(3.0, np.zeros(2), np.zeros(3), np.zeros((2, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="must match"):
        mf.MFParams(3.0, np.zeros(5), np.zeros(3), np.zeros((2, 2)), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="Generator"):
        mf.init_params(3, 3, 2, 3.0, rng=0)
    with pytest.raises(ValueError, match="num_factors"):
        mf.init_params(3, 3, -1, 3.0, np.random.default_rng(0))


# --- PyTorch models -----------------------------------------------------------------------

def test_biased_mf_module_matches_numpy():
    torch.manual_seed(0)
    net = mf.BiasedMF(U, I, K, mu=3.5)
    with torch.no_grad():
        net.user_bias.normal_()
        net.item_bias.normal_()
    X = mf.pairs_tensor(np.array([0, 3, 6]), np.array([8, 0, 4]))
    with torch.no_grad():
        out = net(X).double().numpy()
    params = net.to_params()
    np.testing.assert_allclose(out, params.predict([0, 3, 6], [8, 0, 4]), rtol=1e-6)
    assert net.score_all().shape == (U, I)
    assert "mu" not in dict(net.named_parameters())  # the mean is fixed, not trained


def test_weight_decay_is_the_gradient_of_the_l2_term():
    """Adam's weight_decay = 2 reg / N adds exactly the gradient of (reg / N) ||θ||²."""
    torch.manual_seed(0)
    net = mf.BiasedMF(U, I, K, mu=3.0)
    X = mf.pairs_tensor(np.array([0, 1, 2, 2]), np.array([1, 2, 3, 4]))
    y = torch.tensor([4.0, 2.0, 5.0, 3.0])
    reg, N = 0.7, len(y)
    loss = torch.nn.functional.mse_loss(net(X), y) + reg / N * sum((p ** 2).sum() for p in net.parameters())
    loss.backward()
    explicit = [p.grad.clone() for p in net.parameters()]
    net.zero_grad()
    torch.nn.functional.mse_loss(net(X), y).backward()
    for p, g in zip(net.parameters(), explicit):
        assert torch.allclose(p.grad + 2 * reg / N * p.detach(), g, atol=1e-6)


def test_bpr_and_mlp_scores_match_forward():
    torch.manual_seed(0)
    for model in (mf.BPR(U, I, K), mf.ConcatMLP(U, I, K, num_hiddens=5)):
        X = torch.cartesian_prod(torch.arange(U), torch.arange(I))
        with torch.no_grad():
            direct = model(X).view(U, I).double().numpy()
        np.testing.assert_allclose(model.score_all(), direct, rtol=1e-5, atol=1e-6)


def test_module_input_errors():
    net = mf.BPR(U, I, K)
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        net(torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="integer tensor"):
        net(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="unknown user or item"):
        net(torch.tensor([[U, 0]]))
    with pytest.raises(ValueError, match="at least 1"):
        mf.BPR(U, I, 0)


def test_batch_loader_covers_every_example_once():
    X, y = torch.arange(10).view(10, 1), torch.arange(10.0)
    loader = mf.BatchLoader(X, y, batch_size=4, seed=0)
    assert len(loader) == 3
    seen = torch.cat([xb[:, 0] for xb, _ in loader])
    assert sorted(seen.tolist()) == list(range(10))
    first, second = [torch.cat([yb for _, yb in loader]) for _ in range(2)]
    assert not torch.equal(first, second)  # reshuffled every epoch
    with pytest.raises(ValueError, match="rows"):
        mf.BatchLoader(X, y[:3], 2)
    with pytest.raises(ValueError, match="no examples"):
        mf.BatchLoader(X[:0], y[:0], 2)


# --- implicit feedback ------------------------------------------------------------------

def test_bpr_loss_is_minus_log_sigmoid_and_stable():
    pos = torch.tensor([2.0, 0.0, 900.0, -900.0], dtype=torch.float64)
    neg = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    by_hand = [np.log1p(np.exp(-1.0)), np.log(2.0), 0.0, 900.0]
    assert mf.bpr_loss(pos, neg).item() == pytest.approx(np.mean(by_hand))
    assert torch.isfinite(mf.bpr_loss(pos, neg))
    with pytest.raises(ValueError, match="pair up"):
        mf.bpr_loss(pos, neg[:2])


def test_sample_negatives_never_returns_a_seen_item_and_is_uniform():
    rng = np.random.default_rng(0)
    seen = np.zeros((3, 10), dtype=bool)
    seen[0, :5] = True  # user 0 has seen items 0-4
    seen[2, :9] = True  # user 2 has seen all but item 9
    u = np.repeat([0, 2], 20_000)
    j = mf.sample_negatives(u, seen, rng)
    assert not seen[u, j].any()
    assert (j[u == 2] == 9).all()
    counts = np.bincount(j[u == 0], minlength=10)[5:]
    assert np.abs(counts / counts.sum() - 0.2).max() < 0.015  # uniform over the 5 unseen items
    full = seen.copy()
    full[1] = True
    with pytest.raises(ValueError, match="user 1 has seen every item"):
        mf.sample_negatives(np.array([1]), full, rng)
    with pytest.raises(ValueError, match="unknown user id 3"):
        mf.sample_negatives(np.array([3]), seen, rng)


def test_seen_and_popularity():
    u, i = np.array([0, 0, 1]), np.array([2, 1, 2])
    seen = mf.seen_matrix(u, i, 2, 3)
    assert seen.tolist() == [[False, True, True], [False, False, True]]
    pop = mf.popularity_scores(u, i, 2, 3)
    assert pop.tolist() == [[0, 1, 2], [0, 1, 2]]


def _two_taste_groups():
    """Users 0-9 interact only with items 0-9, users 10-19 only with items 10-19."""
    rng = np.random.default_rng(0)
    u, i = [], []
    for user in range(20):
        block = np.arange(10) + (0 if user < 10 else 10)
        for item in rng.choice(block, size=6, replace=False):
            u.append(user)
            i.append(item)
    return np.array(u), np.array(i)


@pytest.mark.parametrize("loss", ["bpr", "bce"])
def test_fit_implicit_learns_the_two_groups(loss):
    u, i = _two_taste_groups()
    torch.manual_seed(0)
    model = mf.BPR(20, 20, 4)
    history = mf.fit_implicit(model, u, i, num_epochs=40, rng=np.random.default_rng(0), loss=loss,
                              lr=0.05, batch_size=32, eval_fn=lambda m: 1.0)
    scores = model.score_all()
    own = np.r_[scores[:10, :10].ravel(), scores[10:, 10:].ravel()]
    other = np.r_[scores[:10, 10:].ravel(), scores[10:, :10].ravel()]
    assert own.mean() > other.mean() + 1.0  # each group's items rank above the other group's
    assert history.loss[-1] < history.loss[0] and history.metric == [1.0] * 40


def test_fit_implicit_input_errors():
    u, i = _two_taste_groups()
    model = mf.BPR(20, 20, 2)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="'bpr' or 'bce'"):
        mf.fit_implicit(model, u, i, 1, rng, loss="mse")
    with pytest.raises(ValueError, match="one negative"):
        mf.fit_implicit(model, u, i, 1, rng, loss="bpr", num_negatives=3)
    with pytest.raises(ValueError, match="unknown item id 20"):
        mf.fit_implicit(mf.BPR(20, 20, 2), u, np.where(i == 0, 20, i), 1, rng)
    with pytest.raises(TypeError, match="Generator"):
        mf.fit_implicit(model, u, i, 1, rng=0)


def test_cosine_neighbours():
    V = np.array([[1.0, 0.0], [10.0, 0.5], [0.0, 1.0], [-1.0, 0.0]])
    top, sims = mf.cosine_neighbours(V, 0, k=3)
    assert top.tolist() == [1, 2, 3]  # length does not matter, direction does
    assert sims == pytest.approx([10 / np.hypot(10, 0.5), 0.0, -1.0])
    with pytest.raises(ValueError, match="unknown item 4"):
        mf.cosine_neighbours(V, 4)
    with pytest.raises(ValueError, match="only 3 other items"):
        mf.cosine_neighbours(V, 0, k=4)


# --- implicit ALS and EASE --------------------------------------------------------------

def _implicit_toy():
    rng = np.random.default_rng(3)
    pairs = rng.permutation(U * I)[:25]
    u, i = pairs // I, pairs % I
    params = mf.IALSParams(P=rng.normal(0, 0.5, (U, K)), Q=rng.normal(0, 0.5, (I, K)))
    return params, u, i


def _dense_ials_objective(params, u, i, reg, alpha):
    Y = np.zeros((U, I))
    Y[u, i] = 1.0
    C = 1 + alpha * Y
    return float((C * (Y - params.P @ params.Q.T) ** 2).sum() + reg * ((params.P ** 2).sum() + (params.Q ** 2).sum()))


def test_ials_steps_are_the_weighted_ridge_solutions():
    params, u, i = _implicit_toy()
    reg, alpha = 0.7, 4.0
    Y = np.zeros((U, I))
    Y[u, i] = 1.0
    users = mf.ials_user_step(params, u, i, reg, alpha)
    for a in range(U):  # every user, with or without interactions: all items are data points
        W = np.diag(1 + alpha * Y[a])
        x = np.linalg.solve(params.Q.T @ W @ params.Q + reg * np.eye(K), params.Q.T @ W @ Y[a])
        np.testing.assert_allclose(users.P[a], x, rtol=1e-10, atol=1e-12)
    items = mf.ials_item_step(users, u, i, reg, alpha)
    for b in range(I):
        W = np.diag(1 + alpha * Y[:, b])
        y = np.linalg.solve(users.P.T @ W @ users.P + reg * np.eye(K), users.P.T @ W @ Y[:, b])
        np.testing.assert_allclose(items.Q[b], y, rtol=1e-10, atol=1e-12)
    # a repeated pair counts once
    again = mf.ials_user_step(params, np.r_[u, u[:3]], np.r_[i, i[:3]], reg, alpha)
    np.testing.assert_allclose(again.P, users.P)


def test_ials_objective_and_fit():
    params, u, i = _implicit_toy()
    assert mf.ials_objective(params, u, i, 0.7, 4.0) == pytest.approx(_dense_ials_objective(params, u, i, 0.7, 4.0),
                                                                       rel=1e-12)
    seen = []
    fitted, history = mf.fit_ials(u, i, U, I, num_factors=K, reg=0.5, alpha=10.0, num_sweeps=6,
                                  rng=np.random.default_rng(0),
                                  eval_fn=lambda p: seen.append(mf.ials_objective(p, u, i, 0.5, 10.0)) or len(seen))
    assert history == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert np.all(np.diff(seen) <= 1e-9)  # exact half-steps never raise the objective
    scores = fitted.score_all()
    assert scores.shape == (U, I) and scores[u, i].mean() > np.delete(scores.ravel(), u * I + i).mean()
    with pytest.raises(ValueError, match="reg > 0"):
        mf.fit_ials(u, i, U, I, K, reg=0.0, alpha=1.0, num_sweeps=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="alpha"):
        mf.ials_user_step(params, u, i, 1.0, -1.0)
    with pytest.raises(ValueError, match="unknown item id"):
        mf.fit_ials(u, np.full(len(i), I), U, I, K, reg=1.0, alpha=1.0, num_sweeps=1, rng=np.random.default_rng(0))


def test_ease_columns_are_ridge_regressions_on_the_other_items():
    rng = np.random.default_rng(5)
    X = (rng.random((30, 8)) < 0.3).astype(float)
    reg = 2.5
    B = mf.ease_weights(X, reg)
    assert np.all(np.diag(B) == 0)
    for j in range(8):
        others = np.arange(8) != j
        A = X[:, others]
        b = np.linalg.solve(A.T @ A + reg * np.eye(7), A.T @ X[:, j])
        np.testing.assert_allclose(B[others, j], b, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="reg > 0"):
        mf.ease_weights(X, 0.0)
    with pytest.raises(ValueError, match="matrix"):
        mf.ease_weights(X[0], 1.0)


def test_fit_implicit_eval_every():
    u, i = _two_taste_groups()
    calls = []
    history = mf.fit_implicit(mf.BPR(20, 20, 2), u, i, num_epochs=7, rng=np.random.default_rng(0),
                              eval_fn=lambda m: calls.append(1) or len(calls), eval_every=3)
    assert history.metric_epochs == [3, 6, 7] and history.metric == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="eval_every"):
        mf.fit_implicit(mf.BPR(20, 20, 2), u, i, 1, np.random.default_rng(0), eval_every=0)
