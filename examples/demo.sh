#!/usr/bin/env bash
# `make demo`: review examples/paper with the embedded default model, SmolLM2-135M-Instruct (a
# real pretrained model `make install` brings, read in place from its package), through the
# daemon: section comments at file:line:col and a whole-paper review without a grammar, shown
# as it parsed. SmolLM2 is a tiny general model, not a trained reviewer: the point is that
# every path works with a real tokenizer, template and language. See README.md for a real
# reviewer.
set -euo pipefail
PAPERCYCLE="${PAPERCYCLE:-.venv/bin/papercycle}"
PY="${PY:-.venv/bin/python}"
work="${DEMO_DIR:-.cache/demo}"
mkdir -p "$work"
# The demo's own config, daemon, socket and cache: your real ones are not touched.
export PAPERCYCLE_HOME="$(cd "$work" && pwd)/home"
model=smollm2-135m-instruct

echo "== registering $model from the built-in catalogue (no grammar: its own words and layout)"
"$PAPERCYCLE" models add reviewer "$model" --max-tokens 256 --force
gguf="$("$PAPERCYCLE" models info "$model" --json | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["path"])')"
echo "== and the same file as a section reviewer (our section format: a grammar forces the JSON"
echo "   structure and quotes of real sentences; the words are the model's own)"
"$PAPERCYCLE" models add smollm2-sections "$gguf" --review-format section --max-tokens 320 --force

echo
echo "== starting the daemon"
"$PAPERCYCLE" daemon start
trap '"$PAPERCYCLE" daemon stop >/dev/null 2>&1 || true' EXIT

echo
echo "== one review per section, written by SmolLM2-135M-Instruct (file:line:col: severity: [category] message)"
"$PAPERCYCLE" review examples/paper --mode sections --model smollm2-sections || true

echo
echo "== whole-paper review, DeepReviewer Fast prompt, no grammar, written by SmolLM2-135M-Instruct"
"$PAPERCYCLE" review examples/paper --mode fast --model "$model" || true
echo
echo "== what it wrote, and what of it could be read"
"$PAPERCYCLE" review examples/paper --mode fast --model "$model" --json 2>/dev/null \
  | "$PY" examples/show_review.py

echo
echo "== again: answered from the cache (still marked incomplete if it was cut)"
time "$PAPERCYCLE" review examples/paper --mode sections --model smollm2-sections --json >/dev/null 2>&1

echo
"$PAPERCYCLE" daemon status
echo
"$PAPERCYCLE" daemon stop
trap - EXIT

cat <<'NOTE'

== NOTE: these comments were written by SmolLM2-135M-Instruct, a 135M general instruct model,
   not a trained reviewer: they show that every path (prompt, chat template, generation,
   parsing, anchoring to file:line:col, hidden-text findings, budgets, the cache) works with a
   real model, not what a reviewer would say. A real reviewer would change the paper's claims,
   evidence and presentation; for that, get a reviewer by name (the catalogue says its size,
   RAM and licence before anything is downloaded) and review with it:
     papercycle models catalogue
     papercycle models pull deepreviewer-7b --quant Q4_K_M
     papercycle review main.tex --mode standard
   or export your own fine-tune (papercycle export CHECKPOINT -o x.gguf --quant Q4_K_M, then
   papercycle models add NAME x.gguf --review-format deepreviewer),
   or serve it from a GPU box (llama-server, vLLM) and add it with --url http://HOST:PORT/v1.
NOTE
