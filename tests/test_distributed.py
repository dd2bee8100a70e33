"""utils.distributed: the launcher, the hand-written ring all-reduce, DDP equality, memory arithmetic.

The launch tests start real worker processes (about 3 s of CPU each, mostly importing torch),
so they are few: a ring and DDP in one launch of 3 ranks, and the failure paths.
"""
import socket

import pytest
import torch

from utils import distributed as D
from utils import sizing


# --- memory arithmetic (no processes) ----------------------------------------------------------

@pytest.mark.parametrize("stage, gb", [(0, 120.0), (1, 31.40625), (2, 16.640625), (3, 1.875)])
def test_memory_per_gpu_reproduces_the_zero_paper(stage, gb):
    # Rajbhandari et al. (2020), figure 1: 7.5B parameters, 64-way data parallelism, Adam, mixed precision
    assert sum(D.memory_per_gpu(7.5e9, 64, zero_stage=stage).values()) / 1e9 == pytest.approx(gb, rel=1e-12)


def test_memory_per_gpu_without_sharding_is_section_1_1s_accounting():
    n = 124_439_808
    assert sum(D.memory_per_gpu(n, 8).values()) == sizing.training_memory_bytes(n, "bf16")
    assert sum(D.memory_per_gpu(n, 1, zero_stage=3).values()) == sizing.training_memory_bytes(n, "bf16")
    assert sum(D.memory_per_gpu(n, 8, dtype="fp32").values()) == 16 * n


def test_tensor_and_pipeline_parallelism_divide_the_model():
    n = 70e9
    whole = sum(D.memory_per_gpu(n, 64).values())
    assert sum(D.memory_per_gpu(n, 64, tensor_parallel=8).values()) == pytest.approx(whole / 8)
    assert sum(D.memory_per_gpu(n, 64, tensor_parallel=4, pipeline_parallel=4).values()) == pytest.approx(whole / 16)
    # ZeRO shards over the data-parallel replicas only: 64 / (8 x 2) = 4 of them
    z3 = sum(D.memory_per_gpu(n, 64, zero_stage=3, tensor_parallel=8, pipeline_parallel=2).values())
    assert z3 == pytest.approx(whole / 16 / 4)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_params=1e9, n_gpus=12, tensor_parallel=8), "multiple of"),
    (dict(n_params=1e9, n_gpus=8, zero_stage=4), "zero_stage"),
    (dict(n_params=1e9, n_gpus=8, zero_stage=True), "zero_stage"),
    (dict(n_params=-1, n_gpus=8), "positive"),
    (dict(n_params=1e9, n_gpus=0), "at least 1"),
])
def test_memory_per_gpu_rejects_bad_input(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        D.memory_per_gpu(**kwargs)


# --- small helpers ------------------------------------------------------------------------------

def test_free_port_is_bindable():
    port = D.free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((D.HOST, port))


def test_torchrun_command_names_every_machine_setting():
    cmd = D.torchrun_command("ddp", "/shared/x", nnodes=2, nproc_per_node=8, node_rank=1, master_addr="10.0.0.1")
    assert cmd[0] == "torchrun" and "--nnodes=2" in cmd and "--node-rank=1" in cmd
    assert "--master-addr=10.0.0.1" in cmd and cmd[-4:] == ["utils.distributed", "ddp", "--dir", "/shared/x"]
    with pytest.raises(ValueError, match="node_rank"):
        D.torchrun_command("ddp", nnodes=2, node_rank=2)


def test_train_single_matches_a_plain_loop_and_max_difference_checks_keys():
    torch.manual_seed(0)
    X, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    model = D.make_mlp([4, 5, 3])
    run = dict(sizes=[4, 5, 3], state=model.state_dict(), X=X, y=y, batches=torch.arange(16).view(2, 8),
               lr=0.1, optimizer="sgd")
    out = D.train_single(run)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for idx in run["batches"]:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
        opt.step()
    assert D.max_difference(out["state"], model.state_dict()) == 0.0
    with pytest.raises(ValueError, match="different parameters"):
        D.max_difference(out["state"], {"x": torch.zeros(1)})
    with pytest.raises(ValueError, match="equal slices"):
        D.train_steps(model, opt, X, y, torch.arange(15).view(1, 15), rank=0, world_size=2)


def test_launch_rejects_unknown_tasks_before_starting_anything():
    with pytest.raises(ValueError, match="unknown task"):
        D.launch("train_everything", 2)
    with pytest.raises(ValueError, match="at least 1"):
        D.launch("ring", 0)


# --- real processes -------------------------------------------------------------------------------

def test_ring_all_reduce_and_ddp_on_three_ranks():
    """One launch, two tasks: the ring equals all_reduce and the sum; DDP equals one process."""
    n = 10  # chunks of 4, 3 and 3 numbers
    torch.manual_seed(0)
    X, y = torch.randn(64, 8), torch.randint(0, 4, (64,))
    model = D.make_mlp([8, 16, 4])
    batches = torch.stack([torch.randperm(64)[:18] for _ in range(5)])  # global batches of 18 = 3 x 6
    runs = {opt: dict(sizes=[8, 16, 4], state=model.state_dict(), X=X, y=y, batches=batches, lr=0.05,
                      optimizer=opt) for opt in ("sgd", "zero1")}
    results = D.launch("ring,ddp", world_size=3, inputs={"ring": {"n": n}, "ddp": {"runs": runs}}, timeout=120)
    for integer, name in ((False, "random"), (True, "integer")):
        expected = sum(D.rank_tensor(r, n, integer=integer) for r in range(3))
        for res in results:
            assert torch.allclose(res["ring"][f"{name}_ring"], expected, atol=1e-12, rtol=0)
            assert torch.allclose(res["ring"][f"{name}_ring"], res["ring"][f"{name}_all_reduce"], atol=1e-12, rtol=0)
    assert results[0]["ring"]["random_bytes_sent"] == (4 + 3 + 3 + 4) * 8  # rank 0: chunks 0, 2, then 1, 0
    for opt, run in runs.items():
        single = D.train_single(run)
        assert D.max_difference(results[0]["ddp"][opt]["state"], single["state"]) <= 1e-6
        for other in results[1:]:
            assert D.max_difference(results[0]["ddp"][opt]["state"], other["ddp"][opt]["state"]) == 0.0
    zero = [r["ddp"]["zero1"]["optimizer_state_bytes"] for r in results]
    assert sum(zero) == D.train_single(runs["zero1"])["optimizer_state_bytes"] and max(zero) < sum(zero)


def test_a_failing_worker_stops_all_and_shows_its_error():
    with pytest.raises(RuntimeError, match="cannot be cut into 2 chunks"):
        D.launch("ring", world_size=2, inputs={"n": 1}, timeout=120)


def test_a_run_past_its_time_limit_is_stopped_with_a_clear_error():
    with pytest.raises(TimeoutError, match="still running after"):
        D.launch("ring", world_size=2, inputs={"n": 10}, timeout=0.5)
