"""Checkers for chapter 4 (frameworks): 4.1 PyTorch, 4.2 Keras 3, 4.3 TensorFlow 2, 4.4 choosing.

This module is imported by every notebook (through ``utils.checks``), so it must
stay light: torch, keras and tensorflow are imported inside the checkers, never
at module level. The Keras checkers work on whichever backend the notebook's
Keras runs on; the TensorFlow checkers only call the learner's functions and
compare numbers, so they need TensorFlow only where the learner's code does.
"""
from __future__ import annotations

import copy
import itertools

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _to_numpy(value, what: str) -> np.ndarray:
    """Anything array-like (NumPy, torch, TensorFlow, Keras tensor) as float64 NumPy."""
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # tf.Tensor, tf.Variable
        value = value.numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be numbers (an array or tensor), got {type(value).__name__}")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# --- 4.1 PyTorch --------------------------------------------------------------

@exercise("4.1.1", "count trainable parameters")
def _check_count_parameters(count_parameters) -> str:
    import torch
    from torch import nn

    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))  # 16 + 10
    frozen = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 1))  # 18 frozen + 4
    for p in frozen[0].parameters():
        p.requires_grad_(False)
    normed = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 2))  # 30 + 12 + 14, buffers 13
    shared_layer = nn.Linear(5, 5)
    tied = nn.Sequential(shared_layer, nn.Tanh(), shared_layer)  # one layer used twice: 30
    cases = [("Linear(3,4)-ReLU-Linear(4,2)", plain, 26), ("a model with BatchNorm1d", normed, 56),
             ("a model whose first layer is frozen", frozen, 4), ("a model that uses one layer twice", tied, 30)]
    for name, model, expected in cases:
        got = count_parameters(model)
        if not _is_int(got):
            raise Wrong(f"return an integer (the number of trainable numbers), got {type(got).__name__}")
        if got == len([p for p in model.parameters() if p.requires_grad]):
            raise Wrong("you counted parameter tensors; count the numbers in them (p.numel())")
        if name.startswith("a model whose") and got == 22:
            raise Wrong("frozen parameters (requires_grad=False) are not trainable: skip them")
        if name.endswith("BatchNorm1d") and got == 56 + 13:
            raise Wrong("you counted buffers too (state_dict includes BatchNorm's running statistics); "
                        "use model.parameters()")
        if name.endswith("twice") and got == 60:
            raise Wrong("a layer used twice has its parameters once: model.parameters() lists each once")
        if got != expected:
            raise Wrong(f"for {name} the answer is {expected}, you returned {got}")
    return "right on a plain MLP, with frozen layers, with BatchNorm buffers and with a shared layer"


@exercise("4.1.2", "an MLP from a list of sizes")
def _check_make_mlp(make_mlp) -> str:
    import torch
    from torch import nn

    for sizes in ([5, 7, 3], [4, 2], [6, 8, 8, 2]):
        net = make_mlp(list(sizes))
        if not isinstance(net, nn.Module):
            raise Wrong(f"make_mlp should return an nn.Module (nn.Sequential), got {type(net).__name__}")
        modules = list(net.modules())[1:] if isinstance(net, nn.Sequential) else list(net.children())
        linears = [m for m in modules if isinstance(m, nn.Linear)]
        relus = [m for m in modules if isinstance(m, nn.ReLU)]
        shapes = [(m.in_features, m.out_features) for m in linears]
        expected = list(zip(sizes[:-1], sizes[1:]))
        if shapes != expected:
            raise Wrong(f"make_mlp({sizes}) should have Linear layers {expected} (in, out), got {shapes}")
        if len(relus) == len(sizes) - 1:
            raise Wrong(f"make_mlp({sizes}) ends with a ReLU: the last layer outputs logits, which must be "
                        "able to be negative; put ReLUs only between layers")
        if len(relus) != len(sizes) - 2:
            raise Wrong(f"make_mlp({sizes}) should have {len(sizes) - 2} ReLU(s) between its "
                        f"{len(sizes) - 1} Linear layers, found {len(relus)}")
        if isinstance(net, nn.Sequential) and not isinstance(list(net.children())[-1], nn.Linear):
            raise Wrong(f"the last module of make_mlp({sizes}) should be the last nn.Linear")
        out = net(torch.randn(9, sizes[0]))
        if tuple(out.shape) != (9, sizes[-1]):
            raise Wrong(f"a batch of 9 inputs should give outputs of shape (9, {sizes[-1]}), got {tuple(out.shape)}")
    return "layer sizes, ReLUs only between layers, and output shapes are right for three size lists"


def _step_fixture():
    import torch
    from torch import nn

    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    X = torch.randn(8, 4)
    y = torch.randint(0, 3, (8,))
    return net, X, y


@exercise("4.1.3", "one training step")
def _check_train_step(train_step) -> str:
    import torch
    from torch import nn

    loss_fn = nn.functional.cross_entropy
    net, X, y = _step_fixture()
    reference = copy.deepcopy(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    before = [p.detach().clone() for p in net.parameters()]
    for step in range(3):
        ref_loss = loss_fn(reference(X), y)
        ref_opt.zero_grad()
        ref_loss.backward()
        ref_opt.step()
        got = train_step(net, X, y, loss_fn, opt)
        if isinstance(got, torch.Tensor):
            raise Wrong("return loss.item(), a Python float: a tensor keeps the whole graph alive")
        if not isinstance(got, float):
            raise Wrong(f"return the loss as a Python float, got {type(got).__name__}")
        if step == 0 and all(torch.equal(a, b) for a, b in zip(before, net.parameters())):
            raise Wrong("the weights did not change: call optimizer.step() after loss.backward()")
        if not np.isclose(got, ref_loss.item(), rtol=1e-5):
            raise not_close(f"step {step + 1}: the loss before the step", got, ref_loss.item(), rtol=1e-5, atol=1e-8)
        same = all(torch.allclose(a, b, atol=1e-6) for a, b in zip(net.parameters(), reference.parameters()))
        if not same:
            if step == 0:
                raise Wrong("after one step the weights differ from SGD's: compute the loss, then "
                            "zero_grad(), backward(), step()")
            raise Wrong(f"the first step is right but step {step + 1} is not: gradients accumulate "
                        "unless you call optimizer.zero_grad() every step")
    return "three steps match torch.optim.SGD exactly, and the loss comes back as a float"


@exercise("4.1.4", "accuracy in eval mode without a graph")
def _check_evaluate_accuracy(evaluate_accuracy) -> str:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(1)
    X = torch.randn(10, 3)
    linear = nn.Linear(3, 4)
    y = linear(X).argmax(dim=1).detach()
    y[[0, 9]] = (y[[0, 9]] + 1) % 4  # two wrong answers: one in the first batch, one in the last
    net = nn.Sequential(linear, nn.Dropout(p=0.9))
    loader = DataLoader(TensorDataset(X, y), batch_size=4)  # batches of 4, 4 and 2
    grad_seen = []
    hook = net.register_forward_hook(lambda module, inputs, output: grad_seen.append(torch.is_grad_enabled()))
    try:
        net.train()
        torch.manual_seed(5)
        got = evaluate_accuracy(net, loader)
    finally:
        hook.remove()
    if isinstance(got, torch.Tensor):
        got = got.item()
    if not isinstance(got, (float, np.floating)):
        raise Wrong(f"return the accuracy as a number, got {type(got).__name__}")
    if not grad_seen:
        raise Wrong("the network was never called on the loader's batches")
    if got > 1:
        raise Wrong(f"return a fraction between 0 and 1, not a percentage (got {got})")
    mean_of_batches = np.mean([3 / 4, 4 / 4, 1 / 2])
    if np.isclose(got, mean_of_batches):
        raise Wrong("you averaged the per-batch accuracies, but the last batch is smaller: count correct "
                    "predictions and divide by the number of examples")
    if not np.isclose(got, 0.8):
        raise not_close("the accuracy with dropout switched off", got, 0.8, rtol=1e-5, atol=1e-8,
                        hint=": call net.eval() before predicting (dropout is active in training mode)")
    if any(grad_seen):
        raise Wrong("the forward passes built a graph: wrap the evaluation loop in torch.no_grad()")
    if not net.training:
        raise Wrong("the network was in training mode and is left in eval mode: call net.train() again "
                    "(or restore the mode you found) before returning")
    return "dropout off (eval mode), no graph, batches weighted by size, and the training mode restored"


# --- 4.2 Keras 3 --------------------------------------------------------------

def _keras_outputs(model, X) -> np.ndarray:
    import keras

    return _to_numpy(keras.ops.convert_to_numpy(model(X)), "the model's output")


@exercise("4.2.1", "a Sequential model for the digits")
def _check_digit_model(make_digit_model) -> str:
    import keras

    model = make_digit_model()
    if not isinstance(model, keras.Model):
        raise Wrong(f"make_digit_model should return a keras model (keras.Sequential), got {type(model).__name__}")
    if not model.built:
        raise Wrong("the model has no weights yet: start it with keras.Input(shape=(64,))")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    units = [layer.units for layer in dense]
    if units != [32, 10]:
        raise Wrong(f"expected Dense layers of 32 and 10 units, got {units}")
    kernel_in = dense[0].kernel.shape[0]
    if kernel_in != 64:
        raise Wrong(f"the first layer should take 64 inputs (the pixels), it takes {kernel_in}")
    if model.count_params() != 64 * 32 + 32 + 32 * 10 + 10:
        raise Wrong(f"expected 2410 parameters, the model has {model.count_params()}")
    hidden_act = getattr(dense[0].activation, "__name__", "")
    if hidden_act != "relu":
        raise Wrong(f"the hidden layer should use ReLU (activation='relu'), it uses {hidden_act or 'none'}")
    X = np.random.default_rng(0).normal(size=(16, 64)).astype("float32") * 5
    out = _keras_outputs(model, X)
    if out.shape != (16, 10):
        raise Wrong(f"16 digits should give outputs of shape (16, 10), got {out.shape}")
    if np.all(out >= 0) and np.allclose(out.sum(axis=1), 1.0, atol=1e-4):
        raise Wrong("the outputs are probabilities (softmax): return logits, with no activation on the last "
                    "layer, and use from_logits=True in the loss")
    if np.all(out >= 0):
        raise Wrong("the outputs are never negative: the last layer must have no activation (logits)")
    return "64 → 32 (ReLU) → 10 logits, 2,410 parameters"


def _loss_from_logits(loss) -> bool | None:
    """True/False for a binary cross-entropy loss, None when it is another loss."""
    import keras

    if isinstance(loss, str):
        return False if loss in ("binary_crossentropy", "bce", "BinaryCrossentropy") else None
    if isinstance(loss, keras.losses.BinaryCrossentropy):
        return bool(loss.get_config()["from_logits"])
    if loss is keras.losses.binary_crossentropy:
        return False
    return None


@exercise("4.2.2", "a compiled binary classifier with a consistent loss")
def _check_binary_classifier(make_binary_classifier) -> str:
    import keras

    model = make_binary_classifier(7)
    if not isinstance(model, keras.Model):
        raise Wrong(f"return a keras model, got {type(model).__name__}")
    if getattr(model, "optimizer", None) is None or not getattr(model, "compiled", True):
        raise Wrong("the model is not compiled: call model.compile(optimizer=..., loss=...) before returning it")
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        raise Wrong(f"use the Adam optimiser, got {type(model.optimizer).__name__}")
    from_logits = _loss_from_logits(model.loss)
    if from_logits is None:
        raise Wrong(f"use binary cross-entropy ('binary_crossentropy' or keras.losses.BinaryCrossentropy), "
                    f"got {model.loss!r}")
    units = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if units != [16, 1]:
        raise Wrong(f"expected Dense layers of 16 and 1 units, got {units}")
    X = np.random.default_rng(0).normal(size=(64, 7)).astype("float32") * 50  # large inputs: large logits
    out = _keras_outputs(model, X)
    if out.shape != (64, 1):
        raise Wrong(f"64 examples should give outputs of shape (64, 1), got {out.shape}")
    probabilities = bool(np.all((out >= 0) & (out <= 1)))
    if probabilities and from_logits:
        raise Wrong("the output layer applies a sigmoid but the loss has from_logits=True: the sigmoid would "
                    "be applied twice. Remove the sigmoid or use from_logits=False")
    if not probabilities and not from_logits:
        raise Wrong("the output layer returns logits (any real number) but the loss expects probabilities: "
                    "use keras.losses.BinaryCrossentropy(from_logits=True) or a sigmoid output")
    kind = "logits with from_logits=True" if from_logits else "sigmoid probabilities with from_logits=False"
    return f"compiled with Adam and binary cross-entropy on {kind}"


@exercise("4.2.3", "a callback that records every batch's loss")
def _check_batch_recorder(BatchLossRecorder) -> str:
    import keras

    if not (isinstance(BatchLossRecorder, type) and issubclass(BatchLossRecorder, keras.callbacks.Callback)):
        raise Wrong("pass the class BatchLossRecorder itself (a subclass of keras.callbacks.Callback)")
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(24, 3)).astype("float32"), rng.normal(size=(24, 1)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    recorder = BatchLossRecorder()
    history = model.fit(X, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[recorder])
    losses = getattr(recorder, "losses", None)
    if losses is None:
        raise Wrong("the callback has no attribute `losses`: create the list in on_train_begin "
                    "(self.losses = []) and append to it")
    losses = list(losses)
    if len(losses) == 2:
        raise Wrong("you recorded one loss per epoch; record one per training batch (on_train_batch_end)")
    if len(losses) != 6:
        raise Wrong(f"2 epochs of 3 batches should give 6 losses, you recorded {len(losses)}")
    try:
        values = [float(v) for v in losses]
    except (TypeError, ValueError):
        raise Wrong(f"store the numbers logs['loss'], not {type(losses[0]).__name__} objects")
    epoch_losses = history.history["loss"]
    if not np.allclose([values[2], values[5]], epoch_losses, rtol=1e-5):
        yours, history_losses = numbers([values[2], values[5]], epoch_losses)
        raise Wrong(f"the last batch loss of each epoch should equal the epoch's loss in history ({history_losses}, "
                    f"yours {yours}; the check allows {tolerance(1e-5, 1e-8)}): store logs['loss']")
    model.fit(X, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    if len(recorder.losses) != 3:
        raise Wrong(f"a second fit of one epoch should start a new list of 3 losses, found {len(recorder.losses)}: "
                    "create the list in on_train_begin, not in __init__")
    return "one loss per training batch (6 for 2 epochs of 3 batches), and a fresh list for each fit"


# --- 4.3 TensorFlow 2 ---------------------------------------------------------

@exercise("4.3.1", "a gradient with tf.GradientTape")
def _check_gradient_at(gradient_at) -> str:
    # The test functions use only Python operators, so they work on TensorFlow
    # tensors without this module importing TensorFlow.
    cases = [
        ("x**3 + 2x", lambda x: x**3 + 2 * x, lambda x: 3 * x**2 + 2),
        ("0.5 x²", lambda x: 0.5 * x * x, lambda x: x),
        ("(x - 1)² · 3", lambda x: 3 * (x - 1) ** 2, lambda x: 6 * (x - 1)),
    ]
    x = np.array([1.0, -2.0, 0.5, 3.0])
    for name, f, df in cases:
        got = gradient_at(f, x.copy())
        if got is None:
            raise Wrong("tape.gradient returned None: a constant is not watched. Call tape.watch(x) inside the "
                        "tape, or make x a tf.Variable")
        got = _to_numpy(got, "the gradient")
        if got.shape != x.shape:
            raise Wrong(f"the gradient should have the shape of x, {x.shape}, got {got.shape}")
        expected = df(x)
        if np.allclose(got, f(x)):
            raise Wrong(f"for f = {name} you returned f(x), not its gradient")
        exact = np.allclose(got, expected, rtol=1e-12, atol=1e-12)
        if np.allclose(got, expected, rtol=1e-3) and not exact:
            raise Wrong(f"for f = {name} your gradient is only approximately right: finite differences, or "
                        "float32? Keep x in float64 (tf.constant(x)) and use tf.GradientTape")
        if not exact:
            raise not_close(f"for f = {name} at x = {x.tolist()} the gradient", got, expected, rtol=1e-12, atol=1e-12)
    return "exact gradients of three functions at four points"


@exercise("4.3.2", "a TensorFlow 1 layer rewritten for TensorFlow 2")
def _check_make_layer(make_layer) -> str:
    rng = np.random.default_rng(32)
    W = rng.normal(size=(3, 4)).astype("float32")
    b = rng.normal(size=4).astype("float32")
    layer = make_layer(W, b)
    if not hasattr(layer, "experimental_get_tracing_count"):
        raise Wrong("make_layer should return a tf.function (decorate the inner function with @tf.function)")
    for n in (1, 4, 9):
        x = rng.normal(size=(n, 3)).astype("float32")
        out = _to_numpy(layer(x), "the layer's output")
        expected = np.maximum(x @ W + b, 0)
        if out.shape != expected.shape:
            raise Wrong(f"a batch of {n} should give an output of shape {expected.shape}, got {out.shape}")
        if np.allclose(out, x @ W + b, atol=1e-5) and not np.allclose(out, expected, atol=1e-5):
            raise Wrong("the ReLU is missing: tf.nn.relu(x @ W + b)")
        if not np.allclose(out, expected, atol=1e-5):
            raise Wrong(f"for a batch of {n} the output should be relu(x @ W + b); yours differs by up to "
                        f"{np.abs(out - expected).max():.3g} (the check allows {tolerance(1e-5, 1e-5)})")
    traces = layer.experimental_get_tracing_count()
    if traces > 1:
        raise Wrong(f"the function traced {traces} times for batch sizes 1, 4 and 9: give tf.function an "
                    "input_signature=[tf.TensorSpec(shape=[None, 3], dtype=tf.float32)]")
    return "relu(x @ W + b) for batches of 1, 4 and 9 rows, from a single trace"


def _trace_key(arg):
    """What a default ``tf.function`` traces on: a Python number by its value, a tensor by dtype and shape."""
    if isinstance(arg, np.ndarray):
        return ("tensor", str(arg.dtype), arg.shape)
    return ("python", type(arg).__name__, arg)


def print_counts(calls, key=_trace_key) -> tuple[int, int]:
    """(Python prints, tf.prints) of ``g`` in exercise 4.3.3 called once on each of ``calls``.

    A Python ``float`` is passed as itself, a NumPy array as ``tf.constant(array)``. The Python
    ``print`` runs once per trace (one per new signature), ``tf.print`` once per call.
    """
    return len({key(arg) for arg in calls}), len(calls)


# Mistakes a learner makes about tracing, each as the signature rule it amounts to.
_TRACING_MISTAKES = [
    (lambda a: ("tensor", a.shape) if isinstance(a, np.ndarray) else ("python", a),
     "a tensor with a new dtype (float32, float64, int32, ...) needs a new trace, even with the same shape"),
    (lambda a: ("tensor", str(a.dtype)) if isinstance(a, np.ndarray) else ("python", a),
     "a tensor with a new shape needs a new trace, even with the same dtype"),
    (lambda a: ("tensor", str(a.dtype), a.shape) if isinstance(a, np.ndarray) else ("tensor", "float32", ()),
     "a Python float is not a tensor: Python values are part of the signature, so every new value "
     "traces a graph of its own"),
    (lambda a, fresh=itertools.count(): _trace_key(a) if isinstance(a, np.ndarray) else ("python", next(fresh)),
     "a Python value seen before reuses its trace: only a new value traces again"),
]


def _hidden_print_cases() -> list[list]:
    """Fixed diagnostic sequences, then random ones the learner does not see."""
    f32, f64, i32 = np.float32, np.float64, np.int32
    cases = [
        [np.zeros((2, 3), f32), np.ones((2, 3), f64), np.zeros((2, 3), i32), np.ones((2, 3), f32)],
        [np.zeros(4, f32), np.zeros(5, f32), np.zeros((4, 1), f32), np.ones(4, f32)],
        [0.5, 0.5, 1.5, np.array(0.5, f32), np.array(4.0, f32), 2.5, 1.5],
        [np.array(1.0, f32), np.array(2.0, f32), np.array([1.0, 2.0], f32), 3.0, 3.0],
    ]
    rng = np.random.default_rng(433)
    shapes = [(), (2,), (3,), (2, 2), (1, 3)]
    dtypes = [f32, f64, i32]
    for _ in range(12):
        calls = []
        for _ in range(int(rng.integers(3, 12))):
            if rng.random() < 0.35:
                calls.append(float(rng.choice([0.5, 1.5, 2.0, 3.25])))
            else:
                shape = shapes[int(rng.integers(len(shapes)))]
                calls.append(rng.normal(size=shape).astype(dtypes[int(rng.integers(len(dtypes)))]))
        cases.append(calls)
    return cases


@exercise("4.3.3", "Python print versus tf.print in a tf.function")
def _check_print_counts(count_prints) -> str:
    if not callable(count_prints):
        raise Wrong("write a function count_prints(calls) that returns (prints, tf_prints) for any list of calls")
    cases = _hidden_print_cases()
    for calls in cases:
        got = count_prints([a.copy() if isinstance(a, np.ndarray) else a for a in calls])
        if not (isinstance(got, (tuple, list)) and len(got) == 2 and all(_is_int(a) for a in got)):
            raise Wrong(f"return a tuple of two integers (prints, tf_prints), got {got!r}")
        prints, tf_prints = (int(a) for a in got)
        expected_prints, expected_tf = print_counts(calls)
        shown = f"for a sequence of {len(calls)} calls"
        if tf_prints != expected_tf:
            if tf_prints == prints:
                raise Wrong("tf.print is an operation in the graph: it runs on every call, traced or not")
            raise Wrong(f"tf.print runs once per call: {shown} it runs {expected_tf} times, you said {tf_prints}")
        if prints == expected_prints:
            continue
        if prints == len(calls):
            raise Wrong("the Python print runs only while tracing, not on every call")
        for key, message in _TRACING_MISTAKES:
            if prints == print_counts(calls, key)[0]:
                raise Wrong(message)
        raise Wrong(f"count the traces: one per new dtype/shape of tensor, one per new Python value "
                    f"({shown} there are {expected_prints}, you said {prints})")
    return (f"right on {len(cases)} sequences of calls: tensors of several dtypes and shapes, "
            "new and repeated Python floats")


# --- 4.4 Choosing a framework -------------------------------------------------

@exercise("4.4.1", "a PyTorch Linear layer's weights in Keras layout")
def _check_torch_linear_to_keras(torch_linear_to_keras) -> str:
    rng = np.random.default_rng(41)
    for outputs, inputs in ((3, 5), (4, 4)):
        weight = rng.normal(size=(outputs, inputs)).astype("float32")
        bias = rng.normal(size=outputs).astype("float32")
        got = torch_linear_to_keras(weight.copy(), bias.copy())
        if not (isinstance(got, (list, tuple)) and len(got) == 2):
            raise Wrong("return a list of two arrays, [kernel, bias], as Dense.set_weights expects")
        kernel, b = _to_numpy(got[0], "the kernel"), _to_numpy(got[1], "the bias")
        if kernel.shape == (outputs,) and b.shape == (inputs, outputs):
            raise Wrong("the order is [kernel, bias], kernel first")
        if kernel.shape != (inputs, outputs):
            raise Wrong(f"a Keras kernel has shape (inputs, outputs) = {(inputs, outputs)}; yours has "
                        f"{kernel.shape}: transpose PyTorch's (outputs, inputs) weight")
        if outputs == inputs and np.allclose(kernel, weight) and not np.allclose(kernel, weight.T):
            raise Wrong("for a square layer your kernel equals PyTorch's weight: it must be transposed (weight.T)")
        if not np.allclose(kernel, weight.T):
            raise Wrong("the kernel should be PyTorch's weight transposed (weight.T)")
        if not np.allclose(b, bias):
            raise Wrong("the bias is copied unchanged")
    return "kernel = weight.T (checked on a square layer too) and the bias unchanged"


@exercise("4.4.2", "copy a PyTorch MLP into Keras")
def _check_copy_torch_to_keras(copy_torch_to_keras) -> str:
    import keras
    import torch
    from torch import nn

    torch.manual_seed(42)
    cases = [
        (nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), [8, 3], "relu"),
        (nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 2)), [5, 5, 2], "tanh"),
    ]
    for torch_net, units, activation in cases:
        inputs = torch_net[0].in_features
        layers = [keras.layers.Dense(u, activation=activation if i < len(units) - 1 else None)
                  for i, u in enumerate(units)]
        keras_model = keras.Sequential([keras.Input(shape=(inputs,)), *layers])
        try:
            copy_torch_to_keras(torch_net, keras_model)
        except ValueError as err:
            raise Wrong(f"Keras refused the weights ({str(err).splitlines()[0][:120]}): Dense kernels are "
                        "(inputs, outputs), so transpose each PyTorch weight")
        X = np.random.default_rng(0).normal(size=(7, inputs)).astype("float32")
        with torch.no_grad():
            expected = torch_net(torch.from_numpy(X)).numpy()
        got = _to_numpy(keras.ops.convert_to_numpy(keras_model(X)), "the Keras model's output")
        if not np.allclose(got, expected, atol=1e-5):
            diff = np.abs(got - expected).max()
            raise Wrong(f"for a {len(units)}-layer MLP the Keras model's outputs differ from PyTorch's by up to "
                        f"{diff:.3g} (the check allows {tolerance(1e-5, 1e-5)}): copy every nn.Linear, in order, "
                        "as [weight.T, bias]")
    return "a 2-layer and a 3-layer MLP (square layers included) compute identical outputs after the copy"


@exercise("4.4.3", "per-step and per-example cost by least squares")
def _check_fit_step_cost(fit_step_cost) -> str:
    rng = np.random.default_rng(43)
    num_examples = 1000
    batch_sizes = np.array([8, 32, 64, 128, 512])
    steps = np.ceil(num_examples / batch_sizes)
    a, c = 0.002, 1e-5
    exact = a * steps + c * num_examples
    noisy = exact * (1 + 0.05 * rng.normal(size=len(batch_sizes)))
    A = np.column_stack([steps, np.full(len(steps), float(num_examples))])
    reference = np.linalg.lstsq(A, noisy, rcond=None)[0]
    for seconds, expected, label in ((exact, (a, c), "exact timings"), (noisy, reference, "noisy timings")):
        got = fit_step_cost(list(batch_sizes), list(seconds), num_examples)
        if not (isinstance(got, (tuple, list, np.ndarray)) and len(got) == 2):
            raise Wrong("return a pair (a, c): seconds per step and seconds per example")
        got_a, got_c = float(got[0]), float(got[1])
        if np.isclose(got_a, 1000 * expected[0], rtol=1e-4):
            raise Wrong("a looks like milliseconds: return seconds")
        if np.isclose(got_a, expected[1], rtol=1e-3) and np.isclose(got_c, expected[0], rtol=1e-3):
            raise Wrong("a and c are swapped: return (seconds per step, seconds per example)")
        if not np.isclose(got_a, expected[0], rtol=1e-6):
            hint = "use the number of steps, ceil(num_examples / batch_size)" if np.isclose(
                got_a, expected[0], rtol=0.1) else ""
            raise not_close(f"for {label} a (seconds per step)", got_a, expected[0], rtol=1e-6, atol=1e-8, hint=hint)
        if not np.isclose(got_c, expected[1], rtol=1e-5):
            raise not_close(f"for {label} c (seconds per example)", got_c, expected[1], rtol=1e-5, atol=1e-8)
    return "recovers a and c exactly from exact timings and matches least squares on noisy ones"
