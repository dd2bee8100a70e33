"""utils.privacy: DP-SGD pieces against references, the accountant, the attack's AUC,
and (9.9) federated averaging, anonymisation and fixed-point encoding."""
import copy
import math

import numpy as np
import pytest
import torch

from utils import privacy


def test_per_sample_grads_match_a_loop():
    torch.manual_seed(0)
    net = privacy.mlp(d_in=6, hidden=5, n_classes=3).double()
    X, y = torch.randn(4, 6, dtype=torch.float64), torch.tensor([0, 2, 1, 2])
    grads = privacy.per_sample_grads(net, X, y)
    for i in range(4):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(X[i:i + 1]), y[i:i + 1]).backward()
        for k, p in net.named_parameters():
            assert torch.allclose(grads[k][i], p.grad, atol=1e-12)


def test_per_sample_grads_refuse_bad_batches():
    net = privacy.mlp(d_in=3, hidden=2, n_classes=2)
    with pytest.raises(ValueError, match="empty"):
        privacy.per_sample_grads(net, torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        privacy.per_sample_grads(net, torch.zeros(3, 3), torch.zeros(2, dtype=torch.long))


def test_clip_and_sum_bounds_each_example():
    g = {"a": torch.tensor([[3.0, 4.0], [0.3, 0.4]]), "b": torch.zeros(2, 1)}
    summed, norms = privacy.clip_and_sum(g, 1.0)
    assert torch.allclose(norms, torch.tensor([5.0, 0.5]))
    assert torch.allclose(summed["a"], torch.tensor([0.6 + 0.3, 0.8 + 0.4]), atol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        privacy.clip_and_sum(g, 0.0)


def test_dp_sgd_step_matches_opacus():
    from opacus import GradSampleModule
    from opacus.optimizers import DPOptimizer

    torch.manual_seed(1)
    net = privacy.mlp(d_in=8, hidden=6, n_classes=3).double()
    X, y = torch.randn(10, 8, dtype=torch.float64), torch.randint(0, 3, (10,))
    ours, theirs = copy.deepcopy(net), GradSampleModule(copy.deepcopy(net))
    opt = DPOptimizer(torch.optim.SGD(theirs.parameters(), lr=0.3), noise_multiplier=0.7, max_grad_norm=0.5,
                      expected_batch_size=10, generator=torch.Generator().manual_seed(3))
    torch.nn.functional.cross_entropy(theirs(X.clone().requires_grad_()), y).backward()
    opt.step()
    privacy.dp_sgd_step(ours, X, y, 0.5, 0.7, 10, 0.3, generator=torch.Generator().manual_seed(3))
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(a, b, atol=1e-12)


def test_accountant_matches_opacus_and_known_values():
    from opacus.accountants import RDPAccountant

    acc = RDPAccountant()
    acc.history = [(1.1, 0.02, 500)]
    assert abs(acc.get_epsilon(1e-5, alphas=list(privacy.ORDERS)) - privacy.dp_epsilon(0.02, 1.1, 500, 1e-5)) < 1e-9
    assert privacy.sgm_rdp(1.0, 2.0, 3) == pytest.approx(3 / 8)
    assert privacy.sgm_rdp(0.0, 1.0, 3) == 0.0
    assert privacy.dp_epsilon(0.05, 1.0, 100, 1e-5) < privacy.dp_epsilon(0.05, 1.0, 200, 1e-5)
    assert privacy.dp_epsilon(0.05, 2.0, 100, 1e-5) < privacy.dp_epsilon(0.05, 1.0, 100, 1e-5)
    with pytest.raises(ValueError, match="integer"):
        privacy.sgm_rdp(0.1, 1.0, 2.5)


def test_auc_and_bootstrap():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    pos, neg = rng.normal(0.5, 1, 200), rng.integers(0, 2, 150).astype(float)
    assert privacy.auc(pos, neg) == pytest.approx(roc_auc_score(np.r_[np.ones(200), np.zeros(150)], np.r_[pos, neg]))
    lo, hi = privacy.bootstrap_auc_ci(pos, neg, n_boot=200)
    assert lo < privacy.auc(pos, neg) < hi
    with pytest.raises(ValueError, match="positives and negatives"):
        privacy.auc([], [1.0])


def test_dp_auc_bound():
    assert privacy.dp_auc_bound(0.0, 0.0) == pytest.approx(0.5, abs=1e-6)
    assert privacy.dp_auc_bound(1.0, 1e-5) < privacy.dp_auc_bound(2.0, 1e-5) < 1.0


def test_train_dp_sgd_runs_and_learns():
    torch.manual_seed(0)
    X = torch.randn(200, 5)
    y = (X[:, 0] > 0).long()
    net = privacy.train_dp_sgd(privacy.mlp(d_in=5, hidden=8, n_classes=2), X, y, q=0.1, sigma=0.5, C=1.0,
                               steps=100, lr=0.5)
    assert privacy.accuracy(net, X, y) > 0.8
    with pytest.raises(ValueError, match="sampling rate"):
        privacy.train_dp_sgd(net, X, y, q=0.0, sigma=1.0, C=1.0, steps=1, lr=0.1)
