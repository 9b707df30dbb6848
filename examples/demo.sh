#!/usr/bin/env bash
# `make demo`: build the tiny demo reviewer, start the daemon, review examples/paper, print the
# result, stop. A tiny model writes noise; the point is the pipeline. See README.md for a real
# reviewer.
set -euo pipefail
PAPERCYCLE="${PAPERCYCLE:-.venv/bin/papercycle}"
work="${DEMO_DIR:-.cache/demo}"
mkdir -p "$work"
# The demo's own config, daemon, socket and cache: your real ones are not touched.
export PAPERCYCLE_HOME="$(cd "$work" && pwd)/home"
gguf="$work/tiny-llama-Q4_K_M.gguf"

if [ ! -f "$work/tiny-llama/config.json" ]; then
  echo "== building a tiny Llama (self-trained BPE vocabulary, 2 layers, a few seconds of training)"
  rm -rf "$work/tiny-llama"
  "$PAPERCYCLE" tiny "$work/tiny-llama" --arch llama --train-steps 60
fi
if [ ! -f "$gguf" ]; then
  echo "== exporting it to GGUF (Q4_K_M) with llama.cpp's own converter, verified against the checkpoint"
  "$PAPERCYCLE" export "$work/tiny-llama" -o "$gguf" --quant Q4_K_M --pre-tokenizer gpt-2
fi

echo
echo "== registering it as two reviewers (a full-paper CycleReviewer-format one, a section one)"
# --structured: a grammar forces the format's layout, because an untrained model's free text
# would parse to nothing. A real reviewer is added without it.
"$PAPERCYCLE" models add demo-reviewer "$gguf" --format cyclereviewer --structured --n-ctx 2048 --max-tokens 600 --force
"$PAPERCYCLE" models add demo-section "$gguf" --format section --structured --n-ctx 2048 --max-tokens 1000 --force

echo
echo "== starting the daemon"
"$PAPERCYCLE" daemon start
trap '"$PAPERCYCLE" daemon stop >/dev/null 2>&1 || true' EXIT

echo
echo "== whole-paper review: the paper does not fit a 2048-token context, and the daemon says so"
"$PAPERCYCLE" review examples/paper --model demo-reviewer || true

echo
echo "== one review per section (file:line:col: severity: [category] message); a tiny model writes noise, see the note at the end"
"$PAPERCYCLE" review examples/paper --mode sections --model demo-section

echo
echo "== again: answered from the cache"
time "$PAPERCYCLE" review examples/paper --mode sections --model demo-section --format json >/dev/null

echo
"$PAPERCYCLE" daemon status
echo
"$PAPERCYCLE" daemon stop
trap - EXIT

cat <<'NOTE'

== NOTE: the comments above are noise. The demo model is a 2-layer network with random-ish
   weights; a grammar forces the review layout (headings, scores, quotes of real sentences) so
   the whole path runs: prompt, generation, parsing, anchoring to file:line:col, hidden-text
   findings, cache. For real reviews, export a reviewer checkpoint (CycleReviewer, DeepReviewer,
   or your fine-tune) and register it without --structured:
     papercycle export /models/DeepReviewer-7B -o deepreviewer-7b-Q4_K_M.gguf --quant Q4_K_M
     papercycle models add deepreviewer deepreviewer-7b-Q4_K_M.gguf --format deepreviewer --n-ctx 16384
     papercycle review main.tex --mode standard
   or serve it from a GPU box (llama-server, vLLM) and add it with --url http://HOST:PORT/v1.
NOTE
