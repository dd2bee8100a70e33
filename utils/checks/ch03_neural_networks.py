"""Checkers for section 3.1 (neural networks from scratch in NumPy)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, numbers, tolerance


def _array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a NumPy array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {arr.shape}")
    return arr


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- 3.1.1 LeakyReLU layer ---------------------------------------------------------

@exercise("3.1.1", "LeakyReLU layer")
def _check_leaky_relu(LeakyReLU) -> str:
    import torch

    if not isinstance(LeakyReLU, type):
        raise Wrong(f"pass the class LeakyReLU itself (not an instance or a function), got {type(LeakyReLU).__name__}")
    rng = np.random.default_rng(311)
    for shape in ((6, 4), (2, 3, 5, 5)):
        layer = LeakyReLU()
        X = rng.normal(size=shape)
        Y = _array(layer.forward(X), f"forward(X) for X of shape {shape}", shape)
        expected = np.where(X > 0, X, 0.01 * X)
        if not np.allclose(Y, expected, atol=1e-12):
            neg, pos = X < 0, X > 0
            if np.allclose(Y[neg], 0):
                raise Wrong("negative inputs give 0: that is ReLU; LeakyReLU lets 0.01 * x through for x < 0")
            if not np.allclose(Y[pos], X[pos]):
                raise Wrong("for x > 0 the output must be x itself (slope 1); only negative inputs are scaled")
            ratio = np.median(Y[neg] / X[neg])
            raise Wrong(f"for x < 0 the output should be 0.01 * x; yours is about {numbers(ratio, 0.01)[0]} * x "
                        f"(the check allows {tolerance(1e-5, 1e-12)})")
        dY = rng.normal(size=shape)
        X_t = torch.tensor(X, requires_grad=True)
        torch.nn.functional.leaky_relu(X_t, 0.01).backward(torch.tensor(dY))
        dX = _array(layer.backward(dY), "backward(dY)", shape)
        if not np.allclose(dX, X_t.grad.numpy(), atol=1e-12):
            local = np.where(X > 0, 1.0, 0.01)
            if np.allclose(dX, local):
                raise Wrong("backward returns the local derivative f'(x) only: multiply it by dY (the chain rule)")
            if np.allclose(dX, dY):
                raise Wrong("backward returns dY unchanged: scale it by 0.01 where the input was negative")
            if np.allclose(dX, np.where(Y > 0, dY, 0.0)):
                raise Wrong("backward zeroes the gradient for x < 0 (ReLU's rule); LeakyReLU passes 0.01 * dY there")
            raise Wrong(f"backward(dY) differs from torch's gradient of leaky_relu(x, 0.01) by up to "
                        f"{np.abs(dX - X_t.grad.numpy()).max():.3g} (the check allows {tolerance(1e-5, 1e-12)})")
    layer = LeakyReLU()
    X1, X2 = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    layer.forward(X1)
    layer.forward(X2)
    dY = np.ones((4, 3))
    if not np.allclose(layer.backward(dY), np.where(X2 > 0, 1.0, 0.01)):
        raise Wrong("backward must use the input of the *last* forward call (cache it in forward)")
    return "forward and backward equal torch.nn.functional.leaky_relu(x, 0.01) on a 2-D and a 4-D batch"


# --- 3.1.2 dense backward ---------------------------------------------------------

@exercise("3.1.2", "dense layer backward pass")
def _check_dense_backward(dense_backward) -> str:
    rng = np.random.default_rng(312)
    # a square case first: every wrong layout has a legal shape, so we can say which mistake it is
    for N, d, m in ((5, 5, 5), (7, 4, 3), (1, 6, 2)):
        X, W, dZ = rng.normal(size=(N, d)), rng.normal(size=(d, m)), rng.normal(size=(N, m))
        out = dense_backward(X, W, dZ)
        if not (isinstance(out, tuple) and len(out) == 3):
            raise Wrong("dense_backward should return a tuple (dX, dW, db)")
        dX, dW, db = (np.asarray(o, dtype=np.float64) for o in out)
        if N == d == m:
            if np.allclose(dW, dZ @ X.T):
                raise Wrong("dW = dZ @ X.T is the whitepaper's column-major layout; with one example per "
                            "row it is dW = X.T @ dZ, shape (inputs, outputs) like W")
            if np.allclose(dW, (X.T @ dZ).T):
                raise Wrong("dW is transposed: it must have W's shape (inputs, outputs), i.e. X.T @ dZ")
            if np.allclose(np.ravel(db), dZ.sum(axis=1)):
                raise Wrong("db sums over axis 1 (the outputs); the bias is shared by the batch, so sum over axis 0")
            for candidate in (X.T @ dZ @ W.T, dZ @ X.T @ W.T):  # dW @ W.T, with either dW layout
                for bias in (0.0, dZ.sum(axis=0)[None, :], dZ.sum(axis=1)[:, None]):
                    if np.allclose(dX, candidate + bias):
                        raise Wrong("dX = dW @ W.T + db is the whitepaper's bug: the gradient for the input "
                                    "is dX = dZ @ W.T (neither dW nor db plays a part)")
            if np.allclose(dX, dZ @ W):
                raise Wrong("dX = dZ @ W is missing the transpose: dX = dZ @ W.T")
        if dW.shape != W.shape:
            raise Wrong(f"dW must have the shape of W {W.shape}, got {dW.shape} (for X {X.shape}, dZ {dZ.shape})")
        if dX.shape != X.shape:
            raise Wrong(f"dX must have the shape of X {X.shape}, got {dX.shape}")
        if np.ravel(db).shape != (m,):
            raise Wrong(f"db must have one entry per output, shape ({m},), got {db.shape}")
        if not np.allclose(dW, X.T @ dZ):
            raise Wrong(f"dW is not X.T @ dZ: it differs by up to {np.abs(dW - X.T @ dZ).max():.3g} "
                        f"(the check allows {tolerance(1e-5, 1e-8)})")
        if not np.allclose(np.ravel(db), dZ.sum(axis=0)):
            if np.allclose(np.ravel(db), dZ.mean(axis=0)):
                raise Wrong("db is the mean over the batch; the gradient of a sum is the sum: dZ.sum(axis=0)")
            raise Wrong(f"db should be dZ.sum(axis=0); yours differs by up to "
                        f"{np.abs(np.ravel(db) - dZ.sum(axis=0)).max():.3g} (the check allows {tolerance(1e-5, 1e-8)})")
        if not np.allclose(dX, dZ @ W.T):
            raise Wrong(f"dX should be dZ @ W.T; yours differs by up to {np.abs(dX - dZ @ W.T).max():.3g} "
                        f"(the check allows {tolerance(1e-5, 1e-8)})")
    return "dX = dZ W.T, dW = X.T dZ and db = sum of dZ over the batch, for three shapes (batch of 1 included)"


# --- 3.1.3 softmax cross-entropy gradient ---------------------------------------------

@exercise("3.1.3", "gradient of softmax cross-entropy")
def _check_ce_grad(softmax_cross_entropy_grad) -> str:
    rng = np.random.default_rng(313)
    for N, K in ((6, 4), (1, 3), (20, 10)):
        logits = rng.normal(scale=2.0, size=(N, K))
        y = rng.integers(0, K, size=N)
        g = _array(softmax_cross_entropy_grad(logits, y), f"the gradient for logits of shape {(N, K)}", (N, K))
        P, T = _softmax(logits), np.eye(K)[y]
        expected = (P - T) / N
        if np.allclose(g, expected, atol=1e-10):
            continue
        if N > 1 and np.allclose(g, expected * N):
            raise Wrong("the gradient is N times too large: the loss is the mean over the batch, divide by N")
        if np.allclose(g, -expected):
            raise Wrong("the sign is flipped: the gradient is (softmax - one_hot) / N, prediction minus truth")
        if np.allclose(g, (logits - T) / N) or np.allclose(g, logits - T):
            raise Wrong("you subtracted the one-hot labels from the logits; apply softmax first")
        if np.allclose(g, P / N) or np.allclose(g, P):
            raise Wrong("you forgot to subtract the one-hot labels: (softmax - one_hot) / N")
        if np.allclose(g, (P - T) / K):
            raise Wrong("divide by the batch size N (rows), not the number of classes")
        raise Wrong(f"for logits of shape {(N, K)} the gradient differs from (softmax(logits) - one_hot(y)) / N "
                    f"by up to {np.abs(g - expected).max():.3g} (the check allows {tolerance(1e-5, 1e-10)})")
    # large logits must not overflow
    big = np.array([[1000.0, 0.0, -1000.0]])
    g = _array(softmax_cross_entropy_grad(big, np.array([1])), "the gradient for large logits", (1, 3))
    if not np.all(np.isfinite(g)) or not np.allclose(g, [[1.0, -1.0, 0.0]]):
        raise Wrong("logits of ±1000 give NaN or a wrong answer: subtract the row maximum before exp "
                    "(or use prob.softmax)")
    return "(softmax − one-hot) / N for three batch shapes, and finite for logits of ±1000"


# --- 3.1.4 RMSprop -----------------------------------------------------------------

def _rmsprop_reference(variant: str):
    """Return a step function (param, grad, state, lr, alpha, eps) -> new param for a variant."""

    def step(p, g, s, t, lr, alpha, eps):
        if variant == "no (1 - alpha)":
            s[:] = alpha * s + g * g
        elif variant == "g not squared":
            s[:] = alpha * s + (1 - alpha) * np.abs(g)
        else:
            s[:] = alpha * s + (1 - alpha) * g * g
        if variant == "eps inside sqrt":
            return p - lr * g / np.sqrt(s + eps)
        if variant == "bias correction":
            return p - lr * g / (np.sqrt(s / (1 - alpha**t)) + eps)
        if variant == "no sqrt":
            return p - lr * g / (s + eps)
        if variant == "alpha as lr":
            return p - alpha * g / (np.sqrt(s) + eps)
        return p - lr * g / (np.sqrt(s) + eps)

    return step


_RMSPROP_HINTS = {
    "no (1 - alpha)": "the running average must be s = alpha * s + (1 - alpha) * g**2; the (1 - alpha) is missing",
    "g not squared": "average the *squared* gradient, g**2 (or g * g)",
    "eps inside sqrt": "eps goes outside the square root, g / (sqrt(s) + eps), as in torch.optim.RMSprop",
    "bias correction": "RMSprop as in torch has no bias correction (that is Adam's addition): drop the 1 - alpha**t",
    "no sqrt": "divide by the square root of s, g / (sqrt(s) + eps), not by s",
    "alpha as lr": "the step uses lr, not alpha: theta -= lr * g / (sqrt(s) + eps)",
}


@exercise("3.1.4", "RMSprop optimiser")
def _check_rmsprop(RMSprop) -> str:
    import torch

    from utils import nn

    lr, alpha, eps = 0.01, 0.9, 1e-8
    torch.manual_seed(314)
    torch_net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).double()
    net = nn.Sequential(nn.Dense.from_torch(torch_net[0]), nn.Tanh(), nn.Dense.from_torch(torch_net[2]))
    start = {f"{i}.{k}": v.copy() for i, layer in enumerate(net.layers) for k, v in layer.params.items()}
    try:
        ours = RMSprop(net, lr=lr, alpha=alpha, eps=eps)
    except TypeError as err:
        raise Wrong(f"RMSprop(net, lr=..., alpha=..., eps=...) failed: {err}")
    theirs = torch.optim.RMSprop(torch_net.parameters(), lr=lr, alpha=alpha, eps=eps)
    loss_fn = nn.SoftmaxCrossEntropy()
    rng = np.random.default_rng(314)
    grads_seen = []
    for _ in range(15):
        X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
        loss_fn(net(X), y)
        net.backward(loss_fn.backward())
        grads_seen.append({f"{i}.{k}": v.copy() for i, layer in enumerate(net.layers) for k, v in layer.grads.items()})
        ours.step()
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(torch_net(torch.tensor(X)), torch.tensor(y)).backward()
        theirs.step()
    mine = net[0].params["W"]
    expected = torch_net[0].weight.detach().numpy().T
    if np.allclose(mine, expected, atol=1e-10) and np.allclose(net[2].params["W"], torch_net[2].weight.detach().numpy().T,
                                                              atol=1e-10):
        return "15 steps on a small network equal torch.optim.RMSprop(lr=0.01, alpha=0.9, eps=1e-8)"
    if np.allclose(mine, start["0.W"]):
        raise Wrong("step() did not change the weights: update layer.params[name] for every (layer, name) "
                    "in net.parameters()")
    # which common mistake reproduces the learner's weights? Replaying the gradients the learner's
    # optimiser received with each faulty rule reproduces its weights exactly when the rule matches.
    for variant, hint in _RMSPROP_HINTS.items():
        rule, p, s = _rmsprop_reference(variant), start["0.W"].copy(), np.zeros_like(start["0.W"])
        for t, g in enumerate(grads_seen, start=1):
            p = rule(p, g["0.W"], s, t, lr, alpha, eps)
        if np.allclose(p, mine, atol=1e-8) and not np.allclose(p, expected, atol=1e-8):
            raise Wrong(hint)
    raise Wrong(f"after 15 steps the first layer's weights differ from torch.optim.RMSprop by up to "
                f"{np.abs(mine - expected).max():.3g} (the check allows {tolerance(1e-5, 1e-10)}); "
                "check s = alpha*s + (1-alpha)*g**2 and "
                "theta -= lr * g / (sqrt(s) + eps), with one s per parameter array kept between steps")
