"""Helpers for the course "Deep learning and large AI models, computed".

Modules (import what you need, e.g. ``from utils import core, plot``):

- ``utils.core``: seeding (:func:`seed_everything`) and the device helper (:func:`get_device`).
- ``utils.plot``: the course's matplotlib style and small figure helpers.
- ``utils.train``: one training loop with a progress bar, returning the history.
- ``utils.data``: the registry of offline datasets (source, licence and size of each).
- ``utils.sizing``: parameter, memory, FLOP and training-time arithmetic (chapter 1.1).
- ``utils.linalg``: power iteration and PCA (chapter 2.1).
- ``utils.autograd``: the scalar reverse-mode autograd engine ``Value`` (chapter 2.2).
- ``utils.prob``: softmax, cross-entropy, Markov chains and character n-grams (chapter 2.3).
- ``utils.nn``: NumPy layers, losses, optimisers and the gradient check (chapter 3.1).
- ``utils.conv``: convolution by im2col, Conv2D, pooling, Flatten (chapter 3.2).
- ``utils.rnn``: RNN, LSTM and GRU with backpropagation through time (chapter 3.3).
- ``utils.gan``: mixture-of-Gaussians data and mode coverage (chapter 3.4).
- ``utils.attention``: attention, multi-head attention, LayerNorm, positional encodings and a
  pre-LN Transformer block (chapter 3.5).
- ``utils.vision``: the MNIST-5k split, the course CNN, augmentation and the cached judge
  classifier (chapter 5.1).
- ``utils.detection``: synthetic digit scenes, IoU, NMS, mAP, a centre-point detector and an
  IoU tracker with constant-velocity prediction, MOTA and IDF1 (chapter 5.2).
- ``utils.generative``: class accuracy, coverage and diversity of generated images, masks and
  PSNR (chapter 5.3).
- ``utils.style``: random multi-scale feature networks, Gram matrices and style/content losses
  (chapter 5.4).
- ``utils.text``: tokenisers, the vocabulary ``Vocab`` and padding (chapter 6).
- ``utils.embeddings``: co-occurrence, PPMI, SVD embeddings, skip-gram with negative sampling,
  neighbours and the pair test (chapter 6.1).
- ``utils.textclf``: n-grams, leakage counts, length-bucketed batches, masked pooling, TextCNN,
  metrics and occlusion (chapter 6.2).
- ``utils.seq2seq``: the date corpus, a GRU encoder-decoder with additive/dot attention, greedy
  and beam decoding, BLEU and exact match (chapter 6.3).
- ``utils.gpt``: a small decoder-only Transformer with sampling (chapter 6.4).
- ``utils.summarize``: article segmentation, ROUGE, lead and TextRank baselines, deletion-based
  compression (chapter 6.5).
- ``utils.recsys``: the time split, rating matrix, RMSE and ranking metrics of chapter 7.
- ``utils.cf``: biases, similarities, kNN collaborative filtering, content-based profiles,
  coverage and diversity, MMR re-ranking (chapter 7.1).
- ``utils.mf``: biased matrix factorization (gradient and ALS), BPR, sampled negatives and an
  NCF-style model (chapter 7.2).
- ``utils.realtime``: fold-in updates, per-event co-occurrence, fast top-k and stream replay
  (chapter 7.3).
- ``utils.qa``: BERT-style masking, cloze questions from headlines, span extraction, SQuAD exact
  match and F1, BM25 retrieval (chapter 6.6).
- ``utils.clinical``: screening metrics (ROC, calibration, PPV against prevalence, net benefit),
  Hounsfield units and windowing, Dice, Kaplan-Meier (chapter 8.1).
- ``utils.finance``: KS and cost-based cut-offs, scorecard reasons, walk-forward backtests with
  costs and block bootstrap, seasonal-naive and Erlang C, lexicon tone (chapter 8.2).
- ``utils.scaling``: scaling-law fits (power law, Chinchilla form) and the compute optimum (chapter 9.1).
- ``utils.lora``: LoRA from scratch: inject, merge, count parameters and optimizer memory (chapter 9.2).
- ``utils.distributed``: multi-process launcher, hand-written ring all-reduce, DDP/ZeRO tasks and
  memory per GPU (chapter 9.3).
- ``utils.widgets``: interactive figures that also show a static figure.
- ``utils.checks``: exercise checkers that say what is wrong.
"""

__version__ = "0.1.0"
