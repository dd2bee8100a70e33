"""Making a model small (section 9.7): quantisation, pruning, distillation, ONNX, latency.

    from utils import compress
    q, scale = compress.quantize_per_channel(conv.weight)          # int8 + one scale per output channel
    w_hat = compress.dequantize_per_channel(q, scale)               # |w - w_hat| <= scale / 2
    small, packed = compress.quantize_weights(net)                  # a fake-quantised copy + the int8 payload
    masks = compress.magnitude_masks(net, sparsity=0.8)             # global magnitude pruning
    compress.apply_masks(net, masks)
    loss = compress.distillation_loss(student_logits, teacher_logits, y, T=4.0, alpha=0.7)
    qnet = compress.static_quantize(net, X_calibration)             # PyTorch's eager int8 (CPU)
    path = compress.export_onnx(net, example, folder)               # silent torch.onnx.export
    compress.latency_ms(net, example)                               # {'median': ..., 'p99': ...}
    compress.flops_per_example(net, example)                        # 2 x multiply-adds of Conv2d/Linear

Everything here runs on the CPU: PyTorch's int8 kernels and ONNX Runtime's
``CPUExecutionProvider`` are CPU code, and the edge devices this section is about are
CPUs. A model on another device is copied to the CPU where needed.
"""
from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import time
import warnings
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PRUNABLE = (nn.Conv2d, nn.Linear)


# --- quantisation written by hand ----------------------------------------------------

def _qmax(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 16:
        raise ValueError(f"bits must be an integer from 2 to 16, got {bits!r}")
    return 2 ** (int(bits) - 1) - 1


def quantize_per_channel(w: torch.Tensor, bits: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric per-output-channel quantisation of a weight tensor.

    For each output channel ``c`` (dimension 0): ``scale_c = max|w_c| / qmax`` with
    ``qmax = 2**(bits-1) - 1`` (127 for 8 bits), ``q = clamp(round(w / scale_c), -qmax, qmax)``.
    Rounding is to the nearest integer (ties to even, like ``torch.round``), so the
    reconstruction error of every weight is at most ``scale_c / 2``. A channel of zeros
    gets scale 1 (any scale represents it exactly). Returns ``(q, scale)``: ``q`` int8
    (int16 above 8 bits) of the shape of ``w``, ``scale`` float32 of shape ``(C,)``.
    """
    if not isinstance(w, torch.Tensor) or not w.is_floating_point():
        raise TypeError(f"w must be a floating-point torch tensor, got {type(w).__name__}")
    if w.ndim < 1 or w.shape[0] == 0 or w.numel() == 0:
        raise ValueError(f"w must have at least one output channel and one weight, got shape {tuple(w.shape)}")
    qmax = _qmax(bits)
    w = w.detach().float()
    amax = w.reshape(w.shape[0], -1).abs().amax(dim=1)
    scale = torch.where(amax > 0, amax / qmax, torch.ones_like(amax))
    shape = (-1,) + (1,) * (w.ndim - 1)
    q = torch.clamp(torch.round(w / scale.reshape(shape)), -qmax, qmax)
    return q.to(torch.int8 if bits <= 8 else torch.int16), scale


def dequantize_per_channel(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``q * scale`` broadcast over the output channels (dimension 0): float32 weights back."""
    if q.ndim < 1 or scale.ndim != 1 or scale.shape[0] != q.shape[0]:
        raise ValueError(f"scale must have one entry per output channel: q {tuple(q.shape)}, "
                         f"scale {tuple(scale.shape)}")
    return q.float() * scale.float().reshape((-1,) + (1,) * (q.ndim - 1))


def torch_int8_per_channel(w: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor | None = None,
                           axis: int = 0) -> torch.Tensor:
    """The int8 integers of PyTorch's own ``torch.quantize_per_channel`` with the given scales.

    A reference to check a hand-written quantiser against (its deprecation warning is
    silenced: the function still computes on this torch).
    """
    if zero_point is None:
        zero_point = torch.zeros(len(scale), dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = torch.quantize_per_channel(w.detach().float().cpu(), scale.double().cpu(), zero_point.cpu(), axis,
                                       torch.qint8)
    return q.int_repr()


def quantize_weights(model: nn.Module, bits: int = 8) -> tuple[nn.Module, dict]:
    """Quantise every Conv2d/Linear weight of ``model`` per channel (a copy; ``model`` is unchanged).

    Returns ``(fake_quantised_model, packed)``: the copy computes in float32 with the
    dequantised weights (what a weights-only int8 model computes), and ``packed`` is the
    state dict to store: int8 weights plus their float32 scales, every other tensor
    (biases, batch-norm statistics) as it was.
    """
    _qmax(bits)
    model_q = copy.deepcopy(model).cpu()
    packed = {}
    quantized = {f"{name}.weight" for name, m in model_q.named_modules() if isinstance(m, PRUNABLE)}
    if not quantized:
        raise ValueError("the model has no Conv2d or Linear layer to quantise")
    for key, value in model_q.state_dict().items():
        if key in quantized:
            q, scale = quantize_per_channel(value, bits)
            packed[key + ".int"] = q
            packed[key + ".scale"] = scale
        else:
            packed[key] = value.clone()
    with torch.no_grad():
        for name, m in model_q.named_modules():
            if isinstance(m, PRUNABLE):
                m.weight.copy_(dequantize_per_channel(packed[f"{name}.weight.int"], packed[f"{name}.weight.scale"]))
    return model_q, packed


# --- sizes ---------------------------------------------------------------------------

def serialized(obj) -> bytes:
    """The bytes ``torch.save`` writes for ``obj`` (a state dict, a tensor dict)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def size_bytes(obj) -> int:
    """Size on disk of ``torch.save(obj)``, or of a file when ``obj`` is a path."""
    if isinstance(obj, (str, os.PathLike)):
        return os.path.getsize(obj)
    return len(serialized(obj))


def zipped_bytes(obj) -> int:
    """Size after zlib (level 9) of what ``torch.save`` writes, or of a file's bytes.

    ``torch.save`` stores tensors uncompressed, so a pruned model (many exact zeros) is
    as large as a dense one until it is compressed: this is that compressed size.
    """
    if isinstance(obj, (str, os.PathLike)):
        with open(obj, "rb") as f:
            data = f.read()
    else:
        data = serialized(obj)
    return len(zlib.compress(data, 9))


# --- pruning -------------------------------------------------------------------------

def prunable_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    """``{module name: weight}`` of every Conv2d and Linear layer (the weights pruning touches)."""
    return {name: m.weight for name, m in model.named_modules() if isinstance(m, PRUNABLE)}


def magnitude_masks(model: nn.Module, sparsity: float, scope: str = "global") -> dict[str, torch.Tensor]:
    """0/1 masks that zero the ``sparsity`` share of weights with the smallest magnitude.

    ``scope="global"``: one threshold over all Conv2d/Linear weights together (layers
    with many small weights lose more); ``"layer"``: each layer loses the same share.
    Exactly ``round(sparsity * n)`` weights are removed (ties broken by position, like
    ``torch.nn.utils.prune``). Biases and batch-norm parameters are never pruned.
    """
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not 0 <= sparsity < 1:
        raise ValueError(f"sparsity must be a share in [0, 1), got {sparsity!r}")
    if scope not in ("global", "layer"):
        raise ValueError(f"scope must be 'global' or 'layer', got {scope!r}")
    weights = prunable_weights(model)
    if not weights:
        raise ValueError("the model has no Conv2d or Linear layer to prune")

    def masks_for(tensors: dict) -> dict:
        flat = torch.cat([w.detach().abs().flatten().cpu() for w in tensors.values()])
        k = int(round(sparsity * flat.numel()))
        keep = torch.ones_like(flat)
        if k > 0:
            keep[torch.topk(flat, k, largest=False).indices] = 0
        out, start = {}, 0
        for name, w in tensors.items():
            out[name] = keep[start:start + w.numel()].reshape(w.shape).to(w.device)
            start += w.numel()
        return out

    if scope == "global":
        return masks_for(weights)
    masks = {}
    for name, w in weights.items():
        masks.update(masks_for({name: w}))
    return masks


def apply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Zero the pruned weights in place (call again after every fine-tuning step)."""
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, mask in masks.items():
            if name not in modules:
                raise KeyError(f"mask for {name!r}, but the model has no such layer")
            w = modules[name].weight
            if w.shape != mask.shape:
                raise ValueError(f"mask for {name} has shape {tuple(mask.shape)}, the weight {tuple(w.shape)}")
            w.mul_(mask.to(w.device, w.dtype))
    return model


def sparsity(model: nn.Module) -> float:
    """Share of exact zeros among the Conv2d/Linear weights."""
    weights = list(prunable_weights(model).values())
    if not weights:
        raise ValueError("the model has no Conv2d or Linear layer")
    return sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)


# --- distillation --------------------------------------------------------------------

def distillation_loss(student_logits, teacher_logits, y, T: float = 4.0, alpha: float = 0.7):
    """Hinton et al. (2015): ``alpha * T^2 * KL(p_T || q_T) + (1 - alpha) * CE(student, y)``.

    ``p_T = softmax(teacher / T)``, ``q_T = softmax(student / T)``; the ``T^2`` keeps the soft
    term's gradients the same size as ``T`` changes. The KL divergence is averaged over
    the batch (``reduction="batchmean"``), as the cross-entropy is.
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape")
    if not T > 0 or not 0 <= alpha <= 1:
        raise ValueError(f"need T > 0 and 0 <= alpha <= 1, got T={T}, alpha={alpha}")
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.log_softmax(teacher_logits.detach() / T, dim=1),
                    reduction="batchmean", log_target=True)
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(student_logits, y)


# --- PyTorch's own int8 --------------------------------------------------------------

class _QuantWrapper(nn.Module):
    """QuantStub -> features -> classifier -> DeQuantStub, for eager-mode quantisation."""

    def __init__(self, model):
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub

        self.quant, self.dequant = QuantStub(), DeQuantStub()
        self.features, self.classifier = copy.deepcopy(model.features), copy.deepcopy(model.classifier)

    def forward(self, x):
        # The quantised kernels (e.g. quantized_resize_cpu_) have no "deterministic" flag, so with
        # torch.use_deterministic_algorithms(True, warn_only=True) (set by seed_everything) every
        # call prints a C++ warning that Python cannot catch. They are deterministic on the CPU
        # (a resize allocates memory), so the check is switched off around the call and restored.
        enabled, warn_only = torch.are_deterministic_algorithms_enabled(), \
            torch.is_deterministic_algorithms_warn_only_enabled()
        torch.use_deterministic_algorithms(False)
        try:
            return self.dequant(self.classifier(self.features(self.quant(x))))
        finally:
            torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _fusion_groups(wrapper) -> list[list[str]]:
    """[conv, bn, relu] and [linear, relu] runs in the two Sequentials, for fuse_modules."""
    groups = []
    for part in ("features", "classifier"):
        mods = list(getattr(wrapper, part).named_children())
        i = 0
        while i < len(mods):
            kinds = [type(m) for _, m in mods[i:i + 3]]
            if kinds[:3] == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU]:
                groups.append([f"{part}.{n}" for n, _ in mods[i:i + 3]])
                i += 3
            elif kinds[:2] in ([nn.Conv2d, nn.BatchNorm2d], [nn.Conv2d, nn.ReLU], [nn.Linear, nn.ReLU]):
                groups.append([f"{part}.{n}" for n, _ in mods[i:i + 2]])
                i += 2
            else:
                i += 1
    return groups


def static_quantize(model: nn.Module, calibration: torch.Tensor, engine: str | None = None):
    """PyTorch's post-training static int8 quantisation (eager mode) of a features/classifier CNN.

    Batch norm is folded into the convolutions and ReLUs fused; the default qconfig of
    the engine (``x86`` where available) quantises weights per channel (symmetric int8)
    and activations per tensor (uint8), with activation ranges observed on
    ``calibration`` images. Returns ``(quantised model, prepared model)``: the prepared
    (observed, float) model holds the fused float weights, for comparison. CPU only.
    ``torch.ao.quantization`` is deprecated in favour of the separate ``torchao``
    package; its warnings are silenced here, its kernels still run on this torch.
    """
    from torch.ao import quantization as tq

    if not (hasattr(model, "features") and hasattr(model, "classifier")):
        raise TypeError("static_quantize expects a model with .features and .classifier "
                        f"(like utils.vision.MnistCNN), got {type(model).__name__}")
    if not isinstance(calibration, torch.Tensor) or calibration.ndim != 4 or calibration.shape[0] == 0:
        raise ValueError("calibration must be a non-empty batch of images (N, C, H, W)")
    engines = torch.backends.quantized.supported_engines
    engine = engine or next(e for e in ("x86", "fbgemm", "qnnpack") if e in engines)
    if engine not in engines:
        raise ValueError(f"quantised engine {engine!r} is not in this torch build ({engines})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.backends.quantized.engine = engine
        wrapper = _QuantWrapper(model).cpu().eval()  # copies: the caller's model stays where it is
        wrapper = tq.fuse_modules(wrapper, _fusion_groups(wrapper))
        wrapper.qconfig = tq.get_default_qconfig(engine)
        prepared = tq.prepare(wrapper)
        with torch.no_grad():
            prepared(calibration.cpu())
        quantized = tq.convert(copy.deepcopy(prepared))
    return quantized, prepared


# --- ONNX ----------------------------------------------------------------------------

@contextlib.contextmanager
def quiet():
    """Silence stdout, stderr, warnings and torch's loggers (torch.onnx prints progress lines)."""
    loggers = [logging.getLogger(n) for n in ("torch", "torch.onnx", "torch.export", "torch._dynamo", "onnxscript")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def export_onnx(model: nn.Module, example: torch.Tensor, folder, name: str = "model.onnx", dynamo: bool = False):
    """Export ``model`` (eval mode, CPU) to ``folder/name`` with a dynamic batch size; return the path.

    Write into a temporary folder (``tempfile.TemporaryDirectory()``), never into the
    repository. ``dynamo=False`` uses the TorchScript exporter (one self-contained file,
    about three times faster here); ``dynamo=True`` the newer ``torch.export`` path. Both
    print progress and warnings, which are silenced.
    """
    try:
        import onnx  # noqa: F401  (the exporter needs it)
    except ImportError as err:
        raise ImportError("exporting to ONNX needs the 'onnx' package: pip install onnx") from err
    if not os.path.isdir(folder):
        raise ValueError(f"folder {folder!r} does not exist; create it (e.g. tempfile.TemporaryDirectory())")
    model = copy.deepcopy(model).cpu().eval()
    path = os.path.join(folder, name)
    with quiet():
        torch.onnx.export(model, (example.cpu(),), path, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, dynamo=dynamo)
    return path


def onnx_session(path, threads: int | None = None):
    """An ONNX Runtime session on the CPU (``CPUExecutionProvider``) with ``threads`` threads."""
    try:
        import onnxruntime as ort
    except ImportError as err:
        raise ImportError("running ONNX models needs 'onnxruntime': pip install onnxruntime") from err
    from utils.core import num_threads

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or num_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# --- cost ----------------------------------------------------------------------------

def latency_ms(fn, x, repeats: int = 300, warmup: int = 20) -> dict[str, float]:
    """Median and 99th-percentile wall time (ms) of ``fn(x)``, timed call by call with perf_counter.

    ``fn`` is a model or any callable. Timings depend on the machine and on what else it
    runs: print them, never assert on them.
    """
    if repeats < 10:
        raise ValueError(f"repeats must be at least 10 for a 99th percentile, got {repeats}")
    times = []
    sync = torch.cuda.synchronize if isinstance(x, torch.Tensor) and x.is_cuda else (lambda: None)
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        sync()
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(x)
            sync()  # a GPU call returns before it finishes: wait for it
            times.append(time.perf_counter() - t0)
    times = np.array(times) * 1e3
    return {"median": float(np.median(times)), "p99": float(np.percentile(times, 99))}


def flops_per_example(model: nn.Module, example: torch.Tensor) -> int:
    """Forward FLOPs of one example (2 per multiply-add) in the Conv2d and Linear layers.

    Counted with forward hooks on a batch of one: a convolution does
    ``C_in/groups * kh * kw`` multiply-adds per output value, a linear layer ``in_features``.
    Batch norm, ReLU and pooling (a few operations per value) are left out.
    """
    if example.ndim < 2 or example.shape[0] != 1:
        raise ValueError(f"example must be a batch of one, got shape {tuple(example.shape)}")
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        else:
            per_out = module.in_features
        total[0] += 2 * per_out * output.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, PRUNABLE)]
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(example)
        model.train(was_training)
    finally:
        for h in handles:
            h.remove()
    return total[0]
