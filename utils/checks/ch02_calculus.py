"""Checkers for section 2.2 (calculus)."""
from __future__ import annotations

import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _as_float(value, what: str) -> float:
    try:
        out = float(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be one number, got {type(value).__name__} {value!r:.80}")
    if not math.isfinite(out):
        raise Wrong(f"{what} is {out}: expected a finite number")
    return out


# --- 2.2.1 central difference --------------------------------------------------

@exercise("2.2.1", "derivative by central difference")
def _check_derivative(derivative) -> str:
    h = 1e-3
    got = _as_float(derivative(np.exp, 0.0, h), "derivative(np.exp, 0.0, 1e-3)")
    expected = (math.exp(h) - math.exp(-h)) / (2 * h)
    if not math.isclose(got, expected, rel_tol=1e-9):
        guesses = {
            "this is the forward difference (f(x+h) - f(x)) / h; use f(x+h) and f(x-h)": (math.exp(h) - 1) / h,
            "this is the backward difference (f(x) - f(x-h)) / h; use f(x+h) and f(x-h)": (1 - math.exp(-h)) / h,
            "the two points are 2h apart: divide by 2*h, not by h": (math.exp(h) - math.exp(-h)) / h,
            "the sign is flipped: it is f(x+h) - f(x-h), not f(x-h) - f(x+h)": -expected,
            "divide by (2 * h), with parentheses: f(...)-f(...) / 2 * h multiplies by h": (math.exp(h) - math.exp(-h)) / 2 * h,
        }
        for hint, value in guesses.items():
            if math.isclose(got, value, rel_tol=1e-9):
                raise Wrong(hint)
        raise not_close("derivative(np.exp, 0.0, 1e-3)", got, expected, rtol=1e-9,
                        named="the central difference (f(x+h) - f(x-h)) / (2h)")
    for x in (2.0, -1.5):
        got = _as_float(derivative(lambda t: t**3, x, 0.1), f"derivative(x**3, {x}, 0.1)")
        if not math.isclose(got, 3 * x**2 + 0.01, rel_tol=1e-9):
            raise not_close(f"for f(x) = x**3 at x = {x} with h = 0.1 the central difference",
                            got, 3 * x**2 + 0.01, rtol=1e-9, named="exactly 3x² + h²")
    got = _as_float(derivative(np.sin, 1.0), "derivative(np.sin, 1.0) with the default h")
    error = abs(got - math.cos(1.0))
    if error > 1e-8:
        raise Wrong(f"with the default h, derivative(np.sin, 1.0) is off by {error:.1e} (the check allows "
                    f"{tolerance(atol=1e-8)}); choose a default h "
                    "near the cube root of machine epsilon (about 1e-5): much smaller and rounding error "
                    "dominates, much larger and truncation error does")
    return ("the central difference formula is exact on exp(0) and x³, and the default h gives sin′(1) "
            f"to {error:.0e}")


# --- 2.2.2 gradient of a 2-D function --------------------------------------------

def _grad_reference(x: float, y: float) -> np.ndarray:
    return np.array([2 * x * y + y * math.cos(x * y), x**2 + x * math.cos(x * y)])


@exercise("2.2.2", "gradient of f(x, y) = x²y + sin(xy)")
def _check_grad_f(grad_f) -> str:
    rng = np.random.default_rng(22)
    for x, y in rng.uniform(-2, 2, size=(10, 2)):
        try:
            g = np.asarray(grad_f(float(x), float(y)), dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise Wrong("grad_f(x, y) should return two numbers, e.g. np.array([df_dx, df_dy])")
        if g.shape != (2,):
            raise Wrong(f"grad_f(x, y) should return 2 numbers (∂f/∂x, ∂f/∂y), got {g.size}")
        ref = _grad_reference(x, y)
        if np.allclose(g, ref, rtol=1e-9, atol=1e-12):
            continue
        at = f"at (x, y) = ({x:.3f}, {y:.3f})"
        if np.allclose(g, ref[::-1], rtol=1e-9):
            raise Wrong(f"the two components are swapped {at}: return (∂f/∂x, ∂f/∂y) in this order")
        c = math.cos(x * y)
        if np.isclose(g[0], 2 * x * y + c) or np.isclose(g[1], x**2 + c):
            raise Wrong(f"{at}: the derivative of sin(xy) needs the chain rule: ∂/∂x sin(xy) = y·cos(xy), "
                        "∂/∂y sin(xy) = x·cos(xy)")
        if np.isclose(g[0], 2 * x * y - y * c) or np.isclose(g[1], x**2 - x * c):
            raise Wrong(f"{at}: sign error, the derivative of sin is +cos")
        if np.isclose(g[0], 2 * x + y * c) or np.isclose(g[0], x**2 * y + y * c):
            raise Wrong(f"{at}: ∂/∂x of x²y is 2xy (y is a constant factor when differentiating in x)")
        if np.isclose(g[1], 2 * x * y + x * c):
            raise Wrong(f"{at}: ∂/∂y of x²y is x² (x² is a constant factor when differentiating in y)")
        i = int(np.argmax(np.abs(g - ref) - 1e-9 * np.abs(ref)))  # the component that fails the check
        raise not_close(f"{('∂f/∂x', '∂f/∂y')[i]} {at}", g[i], ref[i], rtol=1e-9, atol=1e-12)
    return "both partial derivatives match the exact gradient at 10 random points"


# --- 2.2.3 momentum step ------------------------------------------------------------

def _momentum_path(rule, theta0, A, lr, beta, steps=25):
    """The path of θ under ``rule(theta, velocity, grad, lr, beta) -> (theta, velocity)``."""
    theta, velocity, path = theta0.copy(), np.zeros_like(theta0), []
    for _ in range(steps):
        theta, velocity = rule(theta, velocity, A @ theta, lr, beta)
        path.append(theta)
    return np.array(path)


_MOMENTUM_MISTAKES = {
    "your steps are plain gradient descent: the velocity must carry over (v ← βv + g, then θ ← θ − αv)":
        lambda t, v, g, lr, b: (t - lr * g, g),
    "you used v ← βv + (1−β)g (an exponential average); PyTorch's momentum adds the full gradient: v ← βv + g":
        lambda t, v, g, lr, b: (t - lr * (b * v + (1 - b) * g), b * v + (1 - b) * g),
    "the step goes uphill: θ ← θ − αv (minus), not θ + αv":
        lambda t, v, g, lr, b: (t + lr * (b * v + g), b * v + g),
    "θ moved with the old velocity: update v first (v ← βv + g), then θ ← θ − αv with the new v":
        lambda t, v, g, lr, b: (t - lr * v, b * v + g),
    "this is Nesterov momentum (θ ← θ − α(g + βv)); the exercise asks for the plain heavy ball, θ ← θ − αv":
        lambda t, v, g, lr, b: (t - lr * (g + b * (b * v + g)), b * v + g),
    "β multiplies the gradient instead of the velocity: v ← βv + g":
        lambda t, v, g, lr, b: (t - lr * (v + b * g), v + b * g),
}


@exercise("2.2.3", "a gradient descent step with momentum")
def _check_momentum_step(momentum_step) -> str:
    import torch

    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    theta0 = np.array([1.5, -2.0])

    def learner(theta, velocity, grad, lr, beta):  # copies in and out: in-place updates do no harm
        out = momentum_step(theta.copy(), velocity.copy(), grad.copy(), lr, beta)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise Wrong("momentum_step should return a pair (theta, velocity)")
        theta, velocity = (np.array(o, dtype=np.float64) for o in out)
        if theta.shape != (2,) or velocity.shape != (2,):
            raise Wrong(f"theta and velocity should keep the shape (2,), got {theta.shape} and {velocity.shape}")
        return theta, velocity

    for lr, beta in ((0.1, 0.9), (0.05, 0.5)):
        p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)  # reference: PyTorch's SGD
        opt = torch.optim.SGD([p], lr=lr, momentum=beta)
        ref = []
        for _ in range(25):
            opt.zero_grad()
            (0.5 * p @ torch.tensor(A) @ p).backward()
            opt.step()
            ref.append(p.detach().numpy().copy())
        ref = np.array(ref)
        path = _momentum_path(learner, theta0, A, lr, beta)
        if np.allclose(path, ref, rtol=1e-9, atol=1e-12):
            continue
        for hint, rule in _MOMENTUM_MISTAKES.items():
            if np.allclose(path, _momentum_path(rule, theta0, A, lr, beta), rtol=1e-9, atol=1e-12):
                raise Wrong(hint)
        k = int(np.argmax(~np.isclose(path, ref, rtol=1e-9, atol=1e-12).all(axis=1)))
        yours, sgd = numbers(path[k], ref[k], digits=6)
        raise Wrong(f"with lr={lr}, beta={beta} step {k + 1} gives θ = {yours}, torch.optim.SGD gives {sgd} "
                    f"(the check allows {tolerance(1e-9, 1e-12)})")
    return "25 steps match torch.optim.SGD with momentum, for two (lr, beta) pairs"


# --- 2.2.4 a new operation for the engine ---------------------------------------------

@exercise("2.2.4", "add sin to the autograd engine")
def _check_value_sin(value_sin) -> str:
    from utils.autograd import Value

    x = Value(0.7)
    out = value_sin(x)
    if not all(hasattr(out, name) for name in ("data", "grad", "_prev", "_backward", "backward")):
        raise Wrong(f"value_sin(x) should return a Value, got {type(out).__name__}")
    if not math.isclose(out.data, math.sin(0.7), rel_tol=1e-12):
        raise not_close("value_sin(Value(0.7)).data", out.data, math.sin(0.7), rtol=1e-12, named="sin(0.7)")
    if not any(child is x for child in out._prev):
        raise Wrong("the result must record x as its child, e.g. Value(math.sin(x.data), (x,), 'sin'); "
                    "otherwise backward() never reaches x")
    out.backward()
    if math.isclose(x.grad, -math.cos(0.7), rel_tol=1e-9):
        raise Wrong("sign error: d/dx sin x = +cos x")
    if math.isclose(x.grad, 0.0, abs_tol=1e-15):
        raise Wrong("x.grad stayed 0: set out._backward to a closure that adds cos(x) * out.grad to x.grad")
    if not math.isclose(x.grad, math.cos(0.7), rel_tol=1e-9):
        raise not_close("after value_sin(x).backward(), x.grad", x.grad, math.cos(0.7), rtol=1e-9,
                        named="cos(0.7)")
    x = Value(0.7)
    (value_sin(x) * 3.0).backward()
    if math.isclose(x.grad, math.cos(0.7), rel_tol=1e-9):
        raise Wrong("for 3·sin(x) the gradient is 3·cos(x): multiply the local derivative by out.grad "
                    "(the upstream gradient, chain rule)")
    if not math.isclose(x.grad, 3 * math.cos(0.7), rel_tol=1e-9):
        raise not_close("d/dx 3·sin(x) at 0.7", x.grad, 3 * math.cos(0.7), rtol=1e-9)
    x = Value(0.7)
    (value_sin(x) + value_sin(x)).backward()
    if math.isclose(x.grad, math.cos(0.7), rel_tol=1e-9):
        raise Wrong("x is used twice in sin(x) + sin(x), but only one use reached x.grad: accumulate "
                    "with x.grad += ..., not x.grad = ...")
    if not math.isclose(x.grad, 2 * math.cos(0.7), rel_tol=1e-9):
        raise not_close("d/dx [sin(x) + sin(x)] at 0.7", x.grad, 2 * math.cos(0.7), rtol=1e-9)
    x = Value(1.3)
    value_sin(x * x).backward()
    expected = math.cos(1.69) * 2.6
    if not math.isclose(x.grad, expected, rel_tol=1e-9):
        raise not_close("d/dx sin(x²) at 1.3", x.grad, expected, rtol=1e-9, named="cos(x²)·2x",
                        hint="use the data of the input node, x.data, in the local derivative")
    return "sin has the right value, the local derivative cos, and chains and accumulates correctly"
