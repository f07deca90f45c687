#!/bin/sh
# Makes the virtualenv that bench/compare.py runs in (default .build-bench/venv, ignored by
# git): PyTorch, safetensors, numpy. PyTorch is only for these side-by-side benchmarks; Graft
# never needs it. Tries, in order, until `import torch` works on the CPU:
#   1. $TORCH_SPEC if set (e.g. TORCH_SPEC='torch==2.13.0+cpu' or a wheel's path), without deps;
#   2. a torch wheel from pip's local find-links only (--no-index; e.g. a CPU build in /opt/wheels);
#   3. PyPI's torch without its dependencies (the CUDA build; its import needs the CUDA
#      libraries, so this fails on a CPU-only machine: then)
#   4. PyPI's torch with all its dependencies (several GB of CUDA packages).
set -eu
VENV=${VENV:-.build-bench/venv}
PY="$VENV/bin/python"
PIP="$VENV/bin/pip"
PURE_DEPS="numpy safetensors filelock typing-extensions sympy networkx jinja2 fsspec"

works() { "$PY" -c 'import torch, safetensors, numpy; torch.zeros(1).sum()' >/dev/null 2>&1; }

[ -x "$PY" ] || python3 -m venv "$VENV"
if works; then exit 0; fi
"$PIP" install -q $PURE_DEPS
try() { echo "bench/setup-venv.sh: pip install $*"; "$PIP" install -q "$@" || true; works; }
if [ -n "${TORCH_SPEC:-}" ] && try --no-deps "$TORCH_SPEC"; then exit 0; fi
if try --no-deps --no-index torch; then exit 0; fi
if try --no-deps torch; then exit 0; fi
"$PIP" uninstall -q -y torch || true
if try torch; then exit 0; fi
echo "bench/setup-venv.sh: could not install a PyTorch that imports on this machine" >&2
exit 1
