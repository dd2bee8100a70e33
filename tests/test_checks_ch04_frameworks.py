"""Each checker of chapter 4 (frameworks) accepts the reference answer and rejects plausible mistakes.

The three contract tests come from ``tests/checker_contract.py``. Keras runs on its PyTorch backend here, as in the course's kernel; its config
stays in build/keras. TensorFlow is imported only by the 4.3 tests that need it.
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_HOME", str(ROOT / "build" / "keras"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from checker_contract import contract_tests  # noqa: E402
from utils.checks.ch04_frameworks import _hidden_print_cases  # noqa: E402


# --- reference answers ----------------------------------------------------------

def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def make_mlp(sizes):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [nn.Linear(n_in, n_out)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers)


def train_step(net, X, y, loss_fn, optimizer):
    loss = loss_fn(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def evaluate_accuracy(net, loader):
    was_training = net.training
    net.eval()
    correct = count = 0
    with torch.no_grad():
        for X, y in loader:
            correct += (net(X).argmax(dim=1) == y).sum().item()
            count += len(y)
    net.train(was_training)
    return correct / count


def make_digit_model(hidden=32, last_activation=None):
    return keras.Sequential([keras.Input(shape=(64,)), keras.layers.Dense(hidden, activation="relu"),
                             keras.layers.Dense(10, activation=last_activation)])


def make_binary_classifier(num_features, sigmoid=False, from_logits=True, compile=True):
    model = keras.Sequential([keras.Input(shape=(num_features,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid" if sigmoid else None)])
    if compile:
        model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.BinaryCrossentropy(from_logits=from_logits))
    return model


class BatchLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


class EpochLossRecorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.losses = []

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(float(logs["loss"]))


class ListInInit(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def gradient_at(f, x):
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()


def gradient_unwatched(f, x):
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def finite_differences(f, x, h=1e-5):
    return np.array([(f(x + h * e) - f(x - h * e)).sum() / (2 * h) for e in np.eye(len(x))])


def make_layer(W, b, signature=True, relu=True):
    import tensorflow as tf

    spec = [tf.TensorSpec(shape=[None, 3], dtype=tf.float32)] if signature else None

    @tf.function(input_signature=spec)
    def layer(x):
        y = tf.matmul(x, tf.constant(W)) + tf.constant(b)
        return tf.nn.relu(y) if relu else y

    return layer


def count_prints(calls, shape=True, dtype=True, python_values=True, python_reuse=True, per_call=False,
                 tf_per_trace=False):
    """Exercise 4.3.3: (Python prints, tf.prints); the flags turn the tracing rule into a mistake."""
    keys = []
    for i, arg in enumerate(calls):
        if isinstance(arg, np.ndarray):
            keys.append(("tensor", str(arg.dtype) if dtype else None, arg.shape if shape else None))
        elif not python_values:
            keys.append(("tensor", "float32" if dtype else None, () if shape else None))
        else:
            keys.append(("python", arg if python_reuse else i))
    prints = len(calls) if per_call else len(set(keys))
    return prints, prints if tf_per_trace else len(calls)


def torch_linear_to_keras(weight, bias):
    return [weight.T.copy(), bias.copy()]


def copy_torch_to_keras(torch_net, keras_model, transpose=True):
    linears = [m for m in torch_net if isinstance(m, nn.Linear)]
    denses = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.Dense)]
    for linear, dense in zip(linears, denses):
        W = linear.weight.detach().numpy()
        dense.set_weights([W.T if transpose else W, linear.bias.detach().numpy()])


def fit_step_cost(batch_sizes, seconds, num_examples, use_ceil=True):
    b = np.asarray(batch_sizes, dtype=float)
    steps = np.ceil(num_examples / b) if use_ceil else num_examples / b
    A = np.column_stack([steps, np.full(len(b), float(num_examples))])
    a, c = np.linalg.lstsq(A, np.asarray(seconds, dtype=float), rcond=None)[0]
    return a, c


REFERENCE = {
    "4.1.1": count_parameters, "4.1.2": make_mlp, "4.1.3": train_step, "4.1.4": evaluate_accuracy,
    "4.2.1": make_digit_model, "4.2.2": make_binary_classifier, "4.2.3": BatchLossRecorder,
    "4.3.1": gradient_at, "4.3.2": make_layer, "4.3.3": count_prints,
    "4.4.1": torch_linear_to_keras, "4.4.2": copy_torch_to_keras, "4.4.3": fit_step_cost,
}


# --- plausible mistakes ---------------------------------------------------------

def count_all(model):
    return sum(p.numel() for p in model.parameters())


def count_state(model):
    return sum(t.numel() for t in model.state_dict().values())


def count_tensors(model):
    return len([p for p in model.parameters() if p.requires_grad])


def mlp_relu_at_end(sizes):
    return nn.Sequential(*[m for a, b in zip(sizes[:-1], sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())])


def mlp_no_relu(sizes):
    return nn.Sequential(*[nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])])


def step_no_zero_grad(net, X, y, loss_fn, optimizer):
    loss = loss_fn(net(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def step_no_step(net, X, y, loss_fn, optimizer):
    loss = loss_fn(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    return loss.item()


def step_returns_tensor(net, X, y, loss_fn, optimizer):
    train_step(net, X, y, loss_fn, optimizer)
    return loss_fn(net(X), y)


def accuracy_train_mode(net, loader):
    correct = count = 0
    with torch.no_grad():
        for X, y in loader:
            correct += (net(X).argmax(dim=1) == y).sum().item()
            count += len(y)
    return correct / count


def accuracy_mean_of_batches(net, loader):
    net.eval()
    with torch.no_grad():
        values = [(net(X).argmax(dim=1) == y).float().mean().item() for X, y in loader]
    net.train()
    return float(np.mean(values))


def accuracy_with_graph(net, loader):
    net.eval()
    correct = count = 0
    for X, y in loader:
        correct += (net(X).argmax(dim=1) == y).sum().item()
        count += len(y)
    net.train()
    return correct / count


def accuracy_left_in_eval(net, loader):
    net.eval()
    with torch.no_grad():
        correct = sum((net(X).argmax(dim=1) == y).sum().item() for X, y in loader)
    return correct / len(loader.dataset)


def accuracy_percent(net, loader):
    return 100 * evaluate_accuracy(net, loader)


WRONG = [
    ("4.1.1", count_all, "frozen"),
    ("4.1.1", count_state, "buffers"),
    ("4.1.1", count_tensors, "numel"),
    ("4.1.1", lambda model: float(count_parameters(model)), "integer"),
    ("4.1.2", mlp_relu_at_end, "ends with a ReLU"),
    ("4.1.2", mlp_no_relu, "ReLU(s) between"),
    ("4.1.2", lambda sizes: make_mlp(sizes[::-1]), "Linear layers"),
    ("4.1.3", step_no_zero_grad, "zero_grad"),
    ("4.1.3", step_no_step, "optimizer.step()"),
    ("4.1.3", step_returns_tensor, "loss.item()"),
    ("4.1.4", accuracy_train_mode, "net.eval()"),
    ("4.1.4", accuracy_mean_of_batches, "last batch is smaller"),
    ("4.1.4", accuracy_with_graph, "torch.no_grad()"),
    ("4.1.4", accuracy_left_in_eval, "training mode"),
    ("4.1.4", accuracy_percent, "not a percentage"),
    ("4.2.1", lambda: make_digit_model(hidden=64), "32 and 10 units"),
    ("4.2.1", lambda: make_digit_model(last_activation="softmax"), "probabilities (softmax)"),
    ("4.2.1", lambda: make_digit_model(last_activation="relu"), "never negative"),
    ("4.2.1", lambda: nn.Linear(64, 10), "keras model"),
    ("4.2.2", lambda n: make_binary_classifier(n, from_logits=False), "expects probabilities"),
    ("4.2.2", lambda n: make_binary_classifier(n, sigmoid=True, from_logits=True), "applied twice"),
    ("4.2.2", lambda n: make_binary_classifier(n, compile=False), "not compiled"),
    ("4.2.3", EpochLossRecorder, "one loss per epoch"),
    ("4.2.3", ListInInit, "on_train_begin"),
    ("4.2.3", BatchLossRecorder(), "the class BatchLossRecorder itself"),
    ("4.3.1", gradient_unwatched, "watch"),
    ("4.3.1", finite_differences, "approximately right"),
    ("4.3.1", lambda f, x: f(x), "not its gradient"),
    ("4.3.2", lambda W, b: make_layer(W, b, signature=False), "input_signature"),
    ("4.3.2", lambda W, b: make_layer(W, b, relu=False), "ReLU is missing"),
    ("4.3.2", lambda W, b: (lambda x: np.maximum(x @ W + b, 0)), "tf.function"),
    ("4.3.3", lambda calls: count_prints(calls, per_call=True), "only while tracing"),
    ("4.3.3", lambda calls: count_prints(calls, tf_per_trace=True), "every call"),
    ("4.3.3", lambda calls: count_prints(calls, dtype=False), "new dtype"),
    ("4.3.3", lambda calls: count_prints(calls, shape=False), "new shape"),
    ("4.3.3", lambda calls: count_prints(calls, python_values=False), "Python values are part of the signature"),
    ("4.3.3", lambda calls: count_prints(calls, python_reuse=False), "reuses its trace"),
    ("4.3.3", lambda calls: count_prints(calls)[0], "tuple of two integers"),
    ("4.3.3", (3, 5), "write a function"),
    ("4.4.1", lambda w, b: [w.copy(), b.copy()], "transpose"),
    ("4.4.1", lambda w, b: [b.copy(), w.T.copy()], "kernel first"),
    ("4.4.2", lambda t, k: copy_torch_to_keras(t, k, transpose=False), "transpose"),
    ("4.4.2", lambda t, k: None, "differ from PyTorch's"),
    ("4.4.3", lambda b, s, n: tuple(reversed(fit_step_cost(b, s, n))), "swapped"),
    ("4.4.3", lambda b, s, n: (1000 * fit_step_cost(b, s, n)[0], fit_step_cost(b, s, n)[1]), "milliseconds"),
    ("4.4.3", lambda b, s, n: fit_step_cost(b, s, n, use_ceil=False), "ceil"),
]


class StubRecorder(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        raise NotImplementedError


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG, stubs={"4.2.3": StubRecorder})


def test_print_count_rule_is_tensorflows():
    """The 4.3.3 checker's tracing rule agrees with TensorFlow itself on every hidden sequence."""
    import tensorflow as tf

    for calls in _hidden_print_cases():
        traces = []

        @tf.function
        def g(x):
            traces.append(1)
            return x

        for arg in calls:
            g(tf.constant(arg) if isinstance(arg, np.ndarray) else arg)
        assert (len(traces), len(calls)) == count_prints(calls), calls


def test_checker_module_imports_no_framework():
    """The checkers are imported by every notebook: they must not import keras or tensorflow themselves."""
    source = (ROOT / "utils" / "checks" / "ch04_frameworks.py").read_text()
    top_level = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not any(name in line for line in top_level for name in ("torch", "keras", "tensorflow")), top_level
