#!/usr/bin/env bash
# `make demo`: build the tiny demo model, export it to GGUF (Q4_K_M), verify it, inspect it.
# A tiny model writes noise; the point is the pipeline. See README.md for a real model.
set -euo pipefail
PAPERCYCLE="${PAPERCYCLE:-.venv/bin/papercycle}"
work="${DEMO_DIR:-.cache/demo}"
mkdir -p "$work"

if [ ! -f "$work/tiny-llama/config.json" ]; then
  echo "== building a tiny Llama (self-trained BPE vocabulary, 2 layers, a few seconds of training)"
  rm -rf "$work/tiny-llama"
  "$PAPERCYCLE" tiny "$work/tiny-llama" --arch llama --train-steps 60
fi

echo "== exporting to GGUF (Q4_K_M) with llama.cpp's own converter, then verifying"
"$PAPERCYCLE" export "$work/tiny-llama" -o "$work/tiny-llama-Q4_K_M.gguf" --quant Q4_K_M --pre-tokenizer gpt-2

echo
echo "== the GGUF's metadata"
"$PAPERCYCLE" inspect "$work/tiny-llama-Q4_K_M.gguf"
