"""Pretrain section 6.6's small BERT once and ship it in models/ (run from the repository root).

    OMP_NUM_THREADS=1 .venv/bin/python tools/pretrain_bert.py            # the recipe in utils.qa
    OMP_NUM_THREADS=1 .venv/bin/python tools/pretrain_bert.py --steps 100 --out /tmp/x.pt   # a trial

The recipe (data split, vocabulary size, model shape, steps, batch, learning rate, seeds) is
``utils.qa.PRETRAIN_RECIPE``; its hash with the torch version names the file
(``models/bert_pd1998_<hash>.pt``), and ``utils.qa.pretrained_encoder()`` refuses a file made by
another recipe. Training is masked language modelling (BERT's 15% / 80-10-10 masking,
``qa.bert_mask``) on windows of the training days' articles (``qa.pretraining_windows``), AdamW
with a cosine schedule, on one CPU thread, seeded. Weights are stored in float16; the metadata
records the CPU seconds, the loss curve and the masked-character accuracy on the validation days.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from utils import gpt, qa  # noqa: E402


def held_out_accuracy(encoder, X, tags, sp, V, first_normal, seed=7):
    """Masked-character accuracy and loss (nats) on held-out windows, one fixed masking."""
    inp, lab = qa.bert_mask(X, np.random.default_rng(seed), sp["mask"], V, first_normal)
    encoder.eval()
    correct, total, nll = 0, 0, 0.0
    with torch.no_grad():
        for i in range(0, len(X), 256):
            logits, targets = encoder.mlm_logits(torch.from_numpy(inp[i:i + 256]), torch.from_numpy(lab[i:i + 256]),
                                                 torch.from_numpy(tags[i:i + 256]))
            correct += int((logits.argmax(1) == targets).sum())
            nll += float(torch.nn.functional.cross_entropy(logits, targets, reduction="sum"))
            total += len(targets)
    encoder.train()
    return correct / total, nll / total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, help="override the recipe's steps (a trial; the file name changes)")
    ap.add_argument("--n-layer", type=int)
    ap.add_argument("--n-embd", type=int)
    ap.add_argument("--lr", type=float)
    ap.add_argument("--out", help="write here instead of models/bert_pd1998_<hash>.pt")
    ap.add_argument("--eval-every", type=int, default=250)
    args = ap.parse_args(argv)

    recipe = copy.deepcopy(qa.PRETRAIN_RECIPE)
    if args.steps:
        recipe["train"]["steps"] = args.steps
    if args.n_layer:
        recipe["model"]["n_layer"] = args.n_layer
    if args.n_embd:
        recipe["model"]["n_embd"] = args.n_embd
    if args.lr:
        recipe["train"]["lr"] = args.lr
    tr, d = recipe["train"], recipe["data"]
    torch.set_num_threads(tr["threads"])
    torch.set_flush_denormal(True)

    articles, (train_idx, val_idx, _), vocab, sp, first_normal = qa.corpus_setup(d)
    V, T = d["vocab_size"], d["T"]
    X, tags = qa.pretraining_windows([articles[i] for i in train_idx], vocab.stoi, sp, T,
                                     max_headline=d["max_headline"], min_chars=d["min_chars"])
    Xv, tags_v = qa.pretraining_windows([articles[i] for i in val_idx], vocab.stoi, sp, T,
                                        max_headline=d["max_headline"], min_chars=d["min_chars"])
    print(f"recipe {qa.recipe_hash(recipe)}: train windows {X.shape}, validation windows {Xv.shape}", flush=True)

    torch.manual_seed(tr["seed"])
    encoder = qa.Encoder(qa.encoder_config(recipe), num_tags=recipe["model"]["num_tags"])
    opt = torch.optim.AdamW(encoder.parameters(), lr=tr["lr"], weight_decay=tr["weight_decay"])
    mask_rng = np.random.default_rng(tr["mask_seed"])
    losses, curve = [], []
    train_cpu, cpu0 = 0.0, time.process_time()
    for step in range(tr["steps"]):
        lr = gpt.cosine_lr(step, tr["lr"], min(tr["warmup"], tr["steps"] // 5), tr["steps"], min_lr=tr["lr"] * tr["min_lr_ratio"])
        for group in opt.param_groups:
            group["lr"] = lr
        rows = mask_rng.integers(0, len(X), tr["batch"])
        inp, lab = qa.bert_mask(X[rows], mask_rng, sp["mask"], V, first_normal, p=tr["mask_p"])
        loss = encoder.mlm_loss(torch.from_numpy(inp), torch.from_numpy(lab), torch.from_numpy(tags[rows]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if (step + 1) % args.eval_every == 0 or step + 1 == tr["steps"]:
            train_cpu += time.process_time() - cpu0  # evaluation time is not training time
            acc, nll = held_out_accuracy(encoder, Xv[::4], tags_v[::4], sp, V, first_normal)
            cpu0 = time.process_time()
            curve.append((step + 1, acc, nll))
            print(f"step {step + 1}: train loss {np.mean(losses[-50:]):.3f}, held-out acc {acc:.3f} "
                  f"loss {nll:.3f}, {train_cpu:.0f} s CPU", flush=True)
    cpu = train_cpu
    acc, nll = held_out_accuracy(encoder, Xv, tags_v, sp, V, first_normal)
    meta = {"recipe": recipe, "hash": qa.recipe_hash(recipe), "torch": torch.__version__,
            "train_cpu_s": round(cpu, 1), "steps": tr["steps"], "epochs": tr["steps"] * tr["batch"] / len(X),
            "train_windows": int(len(X)), "val_accuracy": acc, "val_loss": nll,
            "curve": curve, "losses": [round(x, 4) for x in losses], "vocab": list(vocab.itos)}
    out = Path(args.out) if args.out else qa.pretrained_path(recipe)
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() for k, v in encoder.state_dict().items()}
    torch.save({"state": state, "meta": meta}, out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {tr['steps']} steps in {cpu:.0f} s CPU, "
          f"validation masked-character accuracy {acc:.3f}, loss {nll:.3f} nats", flush=True)


if __name__ == "__main__":
    main()
