"""Each checker of section 9.3 accepts the reference answer and rejects plausible mistakes."""
import math

from checker_contract import contract_tests

from utils import distributed as D


def ring_bytes_sent(n_bytes, world_size):
    return 2 * (world_size - 1) * n_bytes / world_size


def bucketed_time(total_bytes, bucket_bytes, alpha, beta):
    return math.ceil(total_bytes / bucket_bytes) * alpha + total_bytes * beta


def bubble_fraction(stages, micro_batches):
    return (stages - 1) / (micro_batches + stages - 1)


def smallest_zero_stage(n_params, n_gpus, gpu_bytes):
    for stage in range(4):
        if sum(D.memory_per_gpu(n_params, n_gpus, zero_stage=stage).values()) <= gpu_bytes:
            return stage
    return None


REFERENCE = {"9.3.1": ring_bytes_sent, "9.3.2": bucketed_time, "9.3.3": bubble_fraction,
             "9.3.4": smallest_zero_stage}


def strictly_less(n_params, n_gpus, gpu_bytes):
    for stage in range(4):
        if sum(D.memory_per_gpu(n_params, n_gpus, zero_stage=stage).values()) < gpu_bytes:
            return stage
    return None


def largest_stage(n_params, n_gpus, gpu_bytes):
    for stage in (3, 2, 1, 0):
        if sum(D.memory_per_gpu(n_params, n_gpus, zero_stage=stage).values()) <= gpu_bytes:
            return stage
    return None


def weights_only(n_params, n_gpus, gpu_bytes):
    for stage in range(4):
        if D.memory_per_gpu(n_params, n_gpus, zero_stage=stage)["weights"] <= gpu_bytes:
            return stage
    return None


def always_three(n_params, n_gpus, gpu_bytes):
    return 3


WRONG = [
    ("9.3.1", lambda n, w: (w - 1) * n / w, "reduce-scatter alone"),
    ("9.3.1", lambda n, w: 2 * n, "2 (W - 1) steps"),
    ("9.3.1", lambda n, w: 2 * (w - 1) * n, "not the whole tensor"),
    ("9.3.1", lambda n, w: (w - 1) * n, "naive all-reduce"),
    ("9.3.1", lambda n, w: 2 * (w - 1) * n / w if w > 1 else n, "sends nothing"),
    ("9.3.1", lambda n, w: float("nan"), "dividing by zero"),
    ("9.3.2", lambda t, b, a, be: (t // b) * a + t * be, "round the number of buckets up"),
    ("9.3.2", lambda t, b, a, be: t / b * a + t * be, "whole number"),
    ("9.3.2", lambda t, b, a, be: t * be, "pays the latency"),
    ("9.3.2", lambda t, b, a, be: a + t * be, "that is one message"),
    ("9.3.2", lambda t, b, a, be: math.ceil(t / b) * (a + b * be), "partly filled"),
    ("9.3.2", lambda t, b, a, be: "fast", "should be a number"),
    ("9.3.3", lambda p, m: (p - 1) / m, "idle time divided by busy time"),
    ("9.3.3", lambda p, m: (p - 1) / (m + p), "the span is m + p - 1"),
    ("9.3.3", lambda p, m: m / (m + p - 1), "busy share"),
    ("9.3.3", lambda p, m: 0.5, "busy m units"),
    ("9.3.4", strictly_less, "fills the GPU exactly fits"),
    ("9.3.4", largest_stage, "smallest"),
    ("9.3.4", weights_only, "sum weights, gradients and optimizer states"),
    ("9.3.4", always_three, "smallest"),
    ("9.3.4", lambda n, g, m: 4, "stages 0 (none) to 3"),
    ("9.3.4", lambda n, g, m: "ZeRO-1", "should be a stage number"),
    ("9.3.4", lambda n, g, m: True, "should be a stage number"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
