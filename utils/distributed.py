"""Distributed training on one machine, for real: a launcher, DDP, and a ring all-reduce by hand.

Section 9.3. The code that runs inside the worker processes lives here, not in a notebook,
so that one file runs under the course's launcher on this machine and under ``torchrun`` on
many machines. A worker is started as::

    python -m utils.distributed TASK --dir DIR

and, like every program ``torchrun`` starts, it learns who it is from the environment
(``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), joins the process group
(gloo backend, which runs on CPUs), reads its inputs from ``DIR/inputs.pt`` and writes its
results to ``DIR/rank{RANK}.pt``. From a notebook::

    from utils import distributed as D
    results = D.launch("ring", world_size=2, inputs={"n": 1000})   # one dict per rank

:func:`launch` sets those variables itself (it is a two-line ``torchrun``); :func:`torchrun`
runs the same task through PyTorch's real launcher. Both pick a free port on 127.0.0.1,
stop every worker they started when one fails or the time limit passes, and raise an error
that shows the failing worker's log.

Tasks (``TASKS``): ``ddp`` (data-parallel training with DistributedDataParallel, optionally
with the ZeRO-1 optimizer), ``ring`` (the hand-written ring all-reduce against
``dist.all_reduce``) and ``timing`` (all-reduce time against message and bucket size).
The memory arithmetic of data, tensor and pipeline parallelism and ZeRO is
:func:`memory_per_gpu`, built on :mod:`utils.sizing` (section 1.1).
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent  # the repository: workers import utils from here


# --- launching ----------------------------------------------------------------------------

def free_port(host: str = HOST) -> int:
    """A TCP port that is free on ``host`` right now.

    Like ``tools/free_port.py`` we bind a socket to find out; here the operating system
    picks the number (port 0), so two notebooks started together do not both scan from the
    same first port. Another program could still take it before rank 0 binds it: :func:`launch`
    retries with a new port when the workers report that the address is in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _worker_env(threads: int, port: int, world_size: int) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), MASTER_ADDR=HOST,
               MASTER_PORT=str(port), WORLD_SIZE=str(world_size), LOCAL_WORLD_SIZE=str(world_size))
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _tail(path: Path, n: int = 2500) -> str:
    try:
        return path.read_text(errors="replace")[-n:]
    except OSError:
        return "(no log)"


def _stop(procs) -> None:
    """End the processes we started, then reap them.

    Each was started in a new session, so its process group holds exactly it and the
    children it started (``torchrun``'s workers): we end that group, by its id.
    """
    import signal

    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):  # already gone; killpg is POSIX only
            if p.poll() is None:
                p.kill()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def _supervise(procs, logs, timeout: float) -> None:
    """Wait for every process; on a failure or the deadline, stop them all and raise."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            codes = [p.poll() for p in procs]
            failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
            if failed:
                i = failed[0]
                raise RuntimeError(f"worker {i} of {len(procs)} exited with code {codes[i]}; the others were "
                                   f"stopped. Its log ends with:\n{_tail(logs[i])}")
            if all(c == 0 for c in codes):
                return
            if time.monotonic() > deadline:
                hung = [i for i, c in enumerate(codes) if c is None]
                raise TimeoutError(f"workers {hung} were still running after {timeout:.0f} s (a hung collective: "
                                   f"every rank must call the same collectives in the same order); all were "
                                   f"stopped. Log of worker {hung[0]}:\n{_tail(logs[hung[0]])}")
            time.sleep(0.02)
    finally:
        _stop(procs)


def _results(folder: Path, world_size: int) -> list[dict]:
    import torch

    out = []
    for rank in range(world_size):
        path = folder / f"rank{rank}.pt"
        if not path.exists():
            raise RuntimeError(f"rank {rank} exited without writing {path.name}")
        out.append(torch.load(path, weights_only=True))
    return out


def _task_names(task: str) -> list[str]:
    """``"ring,timing"`` -> ``["ring", "timing"]``, each checked against ``TASKS``."""
    if not isinstance(task, str) or not task:
        raise TypeError(f"task must be a task name such as 'ddp' (or several joined by commas), got {task!r}")
    names = task.split(",")
    unknown = [t for t in names if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown task {unknown[0]!r}; the workers know {', '.join(TASKS)}")
    return names


def _run(task: str, world_size: int, inputs: dict | None, timeout: float, threads: int, commands) -> list[dict]:
    """Write the inputs, start ``commands(folder, port)`` (a list of (argv, env)), collect results."""
    import torch

    _task_names(task)
    _count(world_size, "world_size")
    _count(threads, "threads")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    inputs = dict(inputs or {})
    inputs.setdefault("timeout_s", float(timeout))
    folder = Path(tempfile.mkdtemp(prefix=f"course-dist-{task}-"))
    try:
        torch.save(inputs, folder / "inputs.pt")
        for attempt in range(3):
            port = free_port()
            procs, logs = [], []
            for i, (argv, env) in enumerate(commands(folder, port)):
                logs.append(folder / f"log{attempt}-{i}.txt")
                with open(logs[-1], "w") as log:
                    procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                  cwd=ROOT, start_new_session=True))
            try:
                _supervise(procs, logs, timeout)
                return _results(folder, world_size)
            except RuntimeError as err:  # a port taken between free_port() and the bind: try another
                if attempt == 2 or "ddress already in use" not in str(err):
                    raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def launch(task: str, world_size: int = 2, inputs: dict | None = None, timeout: float = 120,
           threads: int = 1) -> list[dict]:
    """Run ``task`` in ``world_size`` processes on this machine; return each rank's results.

    What ``torchrun --nproc-per-node W`` does, in a few lines: one ``python -m
    utils.distributed TASK`` per rank, with ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and a
    free ``MASTER_PORT`` in its environment and ``threads`` CPU threads. ``inputs`` (tensors,
    numbers, lists, strings) reach every rank through a file in a temporary folder that is
    deleted afterwards. A worker that fails, or a run longer than ``timeout`` seconds, stops
    all workers and raises with the log of the one that went wrong.

    ``task`` may name several tasks joined by commas (``"ring,timing"``): they run one after
    the other in the same processes, ``inputs`` holds one dict per task, and each rank's
    result is a dict per task.
    """
    def commands(folder, port):
        env = _worker_env(threads, port, world_size)
        return [([sys.executable, "-m", "utils.distributed", task, "--dir", str(folder)],
                 {**env, "RANK": str(r), "LOCAL_RANK": str(r)}) for r in range(world_size)]

    return _run(task, world_size, inputs, timeout, threads, commands)


def torchrun_command(task: str, folder: str = "DIR", nnodes: int = 1, nproc_per_node: int = 2,
                     node_rank: int = 0, master_addr: str = HOST, master_port: int = 29500) -> list[str]:
    """The ``torchrun`` command line that runs ``task`` on ``nnodes`` machines.

    Run the same command on every machine, changing only ``--node-rank`` (0 on the machine
    whose address is ``master_addr``). ``--dir`` must be a folder every machine can read
    (a shared file system) for the inputs.
    """
    _count(nnodes, "nnodes")
    _count(nproc_per_node, "nproc_per_node")
    if not 0 <= node_rank < nnodes:
        raise ValueError(f"node_rank must be in 0..{nnodes - 1}, got {node_rank}")
    return ["torchrun", f"--nnodes={nnodes}", f"--nproc-per-node={nproc_per_node}", f"--node-rank={node_rank}",
            f"--master-addr={master_addr}", f"--master-port={master_port}",
            "-m", "utils.distributed", task, "--dir", str(folder)]


def torchrun(task: str, nproc_per_node: int = 2, inputs: dict | None = None, timeout: float = 120,
             threads: int = 1) -> list[dict]:
    """Run ``task`` on this machine through PyTorch's own launcher (``torchrun``, one node).

    The workers are the same as under :func:`launch`; only who sets their environment
    changes. Returns each rank's results.
    """
    def commands(folder, port):
        argv = torchrun_command(task, folder, nnodes=1, nproc_per_node=nproc_per_node, master_port=port)
        argv = [sys.executable, "-m", "torch.distributed.run", "--max-restarts=0", *argv[1:]]
        env = _worker_env(threads, port, nproc_per_node)
        for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
            env.pop(key, None)  # torchrun sets these for its workers
        return [(argv, env)]

    return _run(task, nproc_per_node, inputs, timeout, threads, commands)


# --- the ring all-reduce ------------------------------------------------------------------

def ring_all_reduce(tensor) -> int:
    """Sum ``tensor`` over all ranks, in place, with point-to-point messages only; return bytes sent.

    The tensor is cut into ``W`` chunks (W = world size). **Reduce-scatter**: in ``W - 1``
    steps each rank sends one chunk to its right neighbour and adds the chunk arriving from
    its left one; afterwards rank ``r`` holds the complete sum of chunk ``(r + 1) % W``.
    **All-gather**: in ``W - 1`` more steps the complete chunks travel once around the ring.
    Each rank sends ``2 (W - 1) / W`` times the tensor's bytes, whatever ``W`` is: the ring
    is bandwidth-optimal (Patarasuk and Yuan, 2009).
    """
    import torch
    import torch.distributed as dist

    if not isinstance(tensor, torch.Tensor) or not tensor.is_contiguous():
        raise ValueError("ring_all_reduce needs a contiguous torch.Tensor (call .contiguous() first)")
    rank, world = dist.get_rank(), dist.get_world_size()
    if world == 1:
        return 0
    if tensor.numel() < world:
        raise ValueError(f"a tensor of {tensor.numel()} elements cannot be cut into {world} chunks")
    chunks = list(tensor.view(-1).tensor_split(world))  # views: writing a chunk writes the tensor
    right, left = (rank + 1) % world, (rank - 1) % world
    incoming = torch.empty_like(chunks[0])  # the first chunk is the largest
    sent = 0
    for step in range(world - 1):  # reduce-scatter
        send_i, recv_i = (rank - step) % world, (rank - step - 1) % world
        request = dist.isend(chunks[send_i], right)
        buf = incoming[: chunks[recv_i].numel()]
        dist.recv(buf, left)
        request.wait()
        chunks[recv_i].add_(buf)
        sent += chunks[send_i].numel() * tensor.element_size()
    for step in range(world - 1):  # all-gather
        send_i, recv_i = (rank - step + 1) % world, (rank - step) % world
        request = dist.isend(chunks[send_i], right)
        dist.recv(chunks[recv_i], left)
        request.wait()
        sent += chunks[send_i].numel() * tensor.element_size()
    return sent


def rank_tensor(rank: int, n: int, seed: int = 0, integer: bool = False, dtype=None):
    """The tensor rank ``rank`` contributes in the ``ring`` task (the notebook rebuilds it to check)."""
    import torch

    g = torch.Generator().manual_seed(seed * 1000 + rank)
    if integer:  # small integers: every summation order gives exactly the same float sum
        return torch.randint(-1000, 1000, (n,), generator=g).to(dtype or torch.float32)
    return torch.randn(n, generator=g, dtype=dtype or torch.float64)


# --- data-parallel training -----------------------------------------------------------------

def make_mlp(sizes, dtype=None):
    """The small network the ``ddp`` task trains: Linear-Tanh-...-Linear with widths ``sizes``."""
    import torch
    from torch import nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, dtype=dtype or torch.float32))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def make_optimizer(params, name: str, lr: float, distributed: bool = False):
    """SGD with momentum 0.9, Adam, or (``"zero1"``) Adam whose states are sharded across ranks."""
    import torch

    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if name == "adam" or (name == "zero1" and not distributed):  # ZeRO-1 computes exactly Adam
        return torch.optim.Adam(params, lr=lr)
    if name == "zero1":
        from torch.distributed.optim import ZeroRedundancyOptimizer

        return ZeroRedundancyOptimizer(params, optimizer_class=torch.optim.Adam, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; use 'sgd', 'adam' or 'zero1'")


def optimizer_state_bytes(opt) -> int:
    """Bytes of optimizer state (e.g. Adam's m and v) that this process holds."""
    import torch

    local = getattr(opt, "optim", opt)  # ZeroRedundancyOptimizer keeps its shard in .optim
    return sum(v.numel() * v.element_size() for state in local.state.values()
               for v in state.values() if isinstance(v, torch.Tensor) and v.dim() > 0)


def train_steps(model, opt, X, y, batches, rank: int = 0, world_size: int = 1) -> list[float]:
    """Run one optimizer step per row of ``batches`` (indices of a *global* batch).

    Rank ``r`` of ``W`` uses the ``r``-th of ``W`` equal slices of each global batch, so the
    ranks together see exactly the examples one process would see. The loss is the mean
    cross-entropy of the rank's slice; DDP averages the ranks' gradients, so the update
    equals one process's update on the whole batch. Returns the loss of each step.
    """
    import torch.nn.functional as F

    if batches.shape[1] % world_size:
        raise ValueError(f"a global batch of {batches.shape[1]} cannot be split into {world_size} equal slices")
    losses = []
    for idx in batches:
        part = idx.tensor_split(world_size)[rank]
        opt.zero_grad()
        loss = F.cross_entropy(model(X[part]), y[part])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _task_ddp(inputs: dict, rank: int, world: int) -> dict:
    if "runs" in inputs:  # several trainings in one launch: {"runs": {name: inputs}}
        return {name: _task_ddp(run, rank, world) for name, run in inputs["runs"].items()}
    import torch
    from torch.nn.parallel import DistributedDataParallel as DDP

    model = make_mlp(inputs["sizes"], dtype=inputs["X"].dtype)
    model.load_state_dict(inputs["state"])  # every rank starts from the same weights
    ddp = DDP(model, bucket_cap_mb=inputs.get("bucket_cap_mb", 25))
    opt = make_optimizer(ddp.parameters(), inputs.get("optimizer", "sgd"), inputs["lr"], distributed=True)
    losses = train_steps(ddp, opt, inputs["X"], inputs["y"], inputs["batches"], rank, world)
    return {"state": {k: v.detach().clone() for k, v in model.state_dict().items()}, "losses": losses,
            "optimizer_state_bytes": optimizer_state_bytes(opt)}


def train_single(inputs: dict) -> dict:
    """What the ``ddp`` task computes, in this one process on the combined batches."""
    model = make_mlp(inputs["sizes"], dtype=inputs["X"].dtype)
    model.load_state_dict(inputs["state"])
    opt = make_optimizer(model.parameters(), inputs.get("optimizer", "sgd"), inputs["lr"])
    losses = train_steps(model, opt, inputs["X"], inputs["y"], inputs["batches"])
    return {"state": {k: v.detach().clone() for k, v in model.state_dict().items()}, "losses": losses,
            "optimizer_state_bytes": optimizer_state_bytes(opt)}


def max_difference(state_a: dict, state_b: dict) -> float:
    """Largest absolute difference between two state dicts with the same keys."""
    if state_a.keys() != state_b.keys():
        raise ValueError(f"the two models have different parameters: {sorted(state_a)} vs {sorted(state_b)}")
    return max(float((state_a[k].double() - state_b[k].double()).abs().max()) for k in state_a)


# --- the ring task and the timing task --------------------------------------------------------

def _task_ring(inputs: dict, rank: int, world: int) -> dict:
    import torch
    import torch.distributed as dist

    out = {}
    for name, integer in (("random", False), ("integer", True)):
        x = rank_tensor(rank, inputs["n"], inputs.get("seed", 0), integer)
        mine, theirs = x.clone(), x.clone()
        out[f"{name}_bytes_sent"] = ring_all_reduce(mine)
        dist.all_reduce(theirs)
        out[f"{name}_ring"], out[f"{name}_all_reduce"] = mine, theirs
    return out


def _timed(fn, repeats: int) -> list[float]:
    import torch.distributed as dist

    times = []
    for _ in range(repeats):
        dist.barrier()  # start together, so one rank's waiting is not counted as transfer time
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def _task_timing(inputs: dict, rank: int, world: int) -> dict:
    import torch
    import torch.distributed as dist

    repeats = inputs.get("repeats", 5)
    out = {"sizes": list(inputs["sizes"]), "all_reduce": [], "ring": []}
    for n in inputs["sizes"]:
        x = torch.ones(n)
        dist.all_reduce(x)  # warm-up: the first message of a size sets up buffers
        out["all_reduce"].append(_timed(lambda: dist.all_reduce(x), repeats))
        out["ring"].append(_timed(lambda: ring_all_reduce(x), repeats) if n >= world else [math.nan] * repeats)
    total = inputs["bucket_total"]
    grads = torch.ones(total)
    out["bucket_sizes"], out["bucket_times"] = list(inputs["bucket_sizes"]), []
    for b in inputs["bucket_sizes"]:
        buckets = grads.split(b)  # what DDP does: gradients packed into buckets of b numbers

        def reduce_all():
            for bucket in buckets:
                dist.all_reduce(bucket)

        out["bucket_times"].append(_timed(reduce_all, inputs.get("bucket_repeats", 3)))
    return out


TASKS = {"ddp": _task_ddp, "ring": _task_ring, "timing": _task_timing}


def worker(argv=None) -> None:
    """Entry point of one worker process (``python -m utils.distributed TASK --dir DIR``)."""
    import torch
    import torch.distributed as dist

    parser = argparse.ArgumentParser(description="one worker of a course distributed task")
    parser.add_argument("task", help=f"one of {', '.join(TASKS)}, or several joined by commas")
    parser.add_argument("--dir", required=True, help="folder with inputs.pt; results go to rank{RANK}.pt")
    args = parser.parse_args(argv)
    missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise SystemExit(f"{', '.join(missing)} not set: start workers with utils.distributed.launch or torchrun")
    folder = Path(args.dir)
    inputs = torch.load(folder / "inputs.pt", weights_only=True)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    dist.init_process_group("gloo", timeout=timedelta(seconds=inputs.get("timeout_s", 60)))
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        names = _task_names(args.task)
        if len(names) == 1:
            result = TASKS[names[0]](inputs, rank, world)
        else:  # several tasks in one process group (starting Python and torch costs seconds)
            result = {name: TASKS[name](inputs[name], rank, world) for name in names}
        dist.barrier()  # nobody leaves while another rank may still need it
        tmp = folder / f"rank{rank}.pt.tmp"
        torch.save(result, tmp)
        tmp.replace(folder / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


# --- memory arithmetic ----------------------------------------------------------------------

def memory_per_gpu(n_params, n_gpus: int, zero_stage: int = 0, tensor_parallel: int = 1,
                   pipeline_parallel: int = 1, dtype: str = "bf16", optimizer: str = "adam") -> dict[str, float]:
    """Bytes of model state (weights, gradients, optimizer states) on each GPU.

    Section 1.1's accounting (:func:`utils.sizing.training_memory_breakdown`: 16 bytes per
    parameter for Adam in mixed precision), split three ways:

    - tensor parallelism (``tensor_parallel`` GPUs cut every weight matrix) and pipeline
      parallelism (``pipeline_parallel`` GPUs each hold a slice of the layers) give each
      GPU ``1 / (tensor_parallel * pipeline_parallel)`` of the model;
    - the remaining factor ``d = n_gpus / (tensor_parallel * pipeline_parallel)`` is data
      parallelism: ``d`` replicas. ZeRO (Rajbhandari et al., 2020) shards across them the
      optimizer states (stage 1), also the gradients (stage 2), also the weights (stage 3).

    Activations and temporary buffers come on top (they depend on batch and context).
    """
    from utils import sizing

    n_gpus = _count(n_gpus, "n_gpus")
    tp = _count(tensor_parallel, "tensor_parallel")
    pp = _count(pipeline_parallel, "pipeline_parallel")
    if isinstance(zero_stage, bool) or zero_stage not in (0, 1, 2, 3):
        raise ValueError(f"zero_stage must be 0 (no sharding), 1, 2 or 3, got {zero_stage!r}")
    if n_gpus % (tp * pp):
        raise ValueError(f"n_gpus={n_gpus} must be a multiple of tensor_parallel x pipeline_parallel = {tp * pp}")
    d = n_gpus // (tp * pp)
    parts = sizing.training_memory_breakdown(sizing._positive(n_params, "n_params") / (tp * pp), dtype, optimizer)
    weights, grads = parts.pop("weights"), parts.pop("gradients")
    states = sum(parts.values())  # fp32 master weights and Adam's m and v
    return {"weights": weights / (d if zero_stage >= 3 else 1),
            "gradients": grads / (d if zero_stage >= 2 else 1),
            "optimizer states": states / (d if zero_stage >= 1 else 1)}


if __name__ == "__main__":
    worker()
