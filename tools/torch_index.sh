#!/usr/bin/env bash
# Which PyTorch build `make setup` installs. Prints the extra pip arguments for torch, or nothing.
#
# On Linux, PyPI's torch wheel is the CUDA build (several GB). A Linux machine without an
# NVIDIA GPU (no nvidia-smi) gets PyTorch's CPU package index added, so pip picks the
# 2.13.0+cpu wheel (about 0.2 GB). macOS and Windows wheels are CPU-sized already.
#   TORCH_BUILD=auto     (default) as above
#   TORCH_BUILD=cpu      always add the CPU index
#   TORCH_BUILD=default  never: plain PyPI (for a machine with an NVIDIA GPU, or a mirror)
set -u
build=${TORCH_BUILD:-auto}
cpu_index=(--extra-index-url https://download.pytorch.org/whl/cpu)
case "$build" in
  cpu) echo "${cpu_index[@]}" ;;
  default) ;;
  auto)
    if [ "$(uname -s)" = Linux ] && ! command -v nvidia-smi >/dev/null 2>&1; then
      echo "${cpu_index[@]}"
    fi ;;
  *) echo "TORCH_BUILD must be auto, cpu or default, got '$build'" >&2; exit 2 ;;
esac
