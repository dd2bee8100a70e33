import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from utils import train
from utils.core import seed_everything


def make_loaders():
    seed_everything(0)
    X = torch.randn(256, 2)
    y = (X[:, 0] + X[:, 1] > 0).long()
    ds = TensorDataset(X, y)
    return DataLoader(ds, batch_size=32, shuffle=True), DataLoader(ds, batch_size=64)


def test_fit_learns_a_linear_rule_and_records_history():
    train_loader, val_loader = make_loaders()
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    h = train.fit(net, train_loader, torch.nn.functional.cross_entropy, opt, 5,
                  val_loader=val_loader, metric=train.accuracy, progress=False)
    assert h.num_epochs == 5 and len(h.val_loss) == 5 and len(h.seconds) == 5
    assert h.train_loss[-1] < h.train_loss[0]
    assert h.val_metric[-1] >= 0.95 and h.metric_name == "accuracy"
    fig = train.plot_history(h, title="test")
    assert len(fig.axes) == 2


def test_fit_is_deterministic():
    losses = []
    for _ in range(2):
        train_loader, _ = make_loaders()
        net = torch.nn.Linear(2, 2)
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        losses.append(train.fit(net, train_loader, torch.nn.functional.cross_entropy, opt, 2, progress=False).train_loss)
    assert losses[0] == losses[1]


def test_fit_bad_inputs():
    train_loader, _ = make_loaders()
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        train.fit(lambda x: x, train_loader, loss, opt, 1)
    with pytest.raises(ValueError, match="num_epochs must be at least 1"):
        train.fit(net, train_loader, loss, opt, 0)
    with pytest.raises(TypeError, match="num_epochs must be an int"):
        train.fit(net, train_loader, loss, opt, 2.5)
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        train.fit(net, train_loader, loss, "sgd", 1)
    empty = DataLoader(TensorDataset(torch.zeros(0, 2), torch.zeros(0).long()), batch_size=4)
    with pytest.raises(ValueError, match="train_loader is empty"):
        train.fit(net, empty, loss, opt, 1)


def test_fit_stops_on_a_nan_loss_with_advice():
    X = torch.randn(64, 2)
    X[5, 0] = float("nan")  # one corrupt example
    loader = DataLoader(TensorDataset(X, torch.zeros(64).long()), batch_size=64)
    net = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError, match="the loss became nan in epoch 1.*check the data for NaN"):
        train.fit(net, loader, torch.nn.functional.cross_entropy, opt, 3, progress=False)


def test_accuracy_and_plot_history_bad_inputs():
    with pytest.raises(ValueError, match="logits of shape"):
        train.accuracy(torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="3 predictions but 2 labels"):
        train.accuracy(torch.zeros(3, 2), torch.zeros(2))
    with pytest.raises(ValueError, match="history is empty"):
        train.plot_history(train.History())
    with pytest.raises(TypeError, match="History returned by fit"):
        train.plot_history({"loss": [1]})
