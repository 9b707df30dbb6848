"""The llama.cpp side of export, run as `python -m papercycle.trainer.export.llama_worker`.

Commands (one JSON object on stdout; errors as {"error": "..."} with exit status 1):
  quantize IN OUT FTYPE            quantize a GGUF with llama_model_quantize
  compare REQUEST.json             tokenize probes and compare logits with the HF model's

This process never imports torch (see papercycle.trainer.export).
"""

from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

import numpy as np


def quantize(source: str, target: str, ftype: int) -> dict:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    status = llama_cpp.llama_model_quantize(source.encode(), target.encode(), ctypes.byref(params))
    if status != 0:
        return {"error": f"llama_model_quantize returned {status}"}
    return {"ok": True}


def compare(request_path: str) -> dict:
    """Tokenize each probe with llama.cpp and run the HF token ids through the GGUF model."""
    import llama_cpp

    request = json.loads(Path(request_path).read_text())
    hf_logits = np.load(request["hf_logits"])
    llm = llama_cpp.Llama(
        model_path=request["gguf"],
        lora_path=request.get("lora"),
        n_ctx=request["n_ctx"],
        n_batch=request["n_ctx"],
        logits_all=True,
        n_gpu_layers=0,
        # An f32 KV cache, so the comparison measures the conversion, not the cache's precision.
        type_k=llama_cpp.GGML_TYPE_F32,
        type_v=llama_cpp.GGML_TYPE_F32,
        verbose=False,
    )
    results = []
    for index, probe in enumerate(request["probes"]):
        llama_ids = llm.tokenize(probe["text"].encode(), add_bos=True, special=True)
        hf_ids = probe["hf_ids"]
        llm.reset()
        llm.eval(hf_ids)
        logits = np.asarray(llm.scores[: len(hf_ids)], dtype=np.float32)
        reference = hf_logits[f"probe{index}"]
        results.append(
            {
                "name": probe["name"],
                "llama_ids": llama_ids,
                "llama_pieces": [_piece(llm, token) for token in llama_ids],
                "max_abs_dlogit": float(np.max(np.abs(logits - reference))),
                "top1_agree": int(np.sum(logits.argmax(-1) == reference.argmax(-1))),
                "positions": len(hf_ids),
            }
        )
    return {"metadata": dict(llm.metadata), "probes": results}


def _piece(llm, token: int) -> str:
    return llm.detokenize([token], special=True).decode("utf-8", errors="backslashreplace")


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    try:
        if command == "quantize":
            result = quantize(args[0], args[1], int(args[2]))
        elif command == "compare":
            result = compare(args[0])
        else:
            result = {"error": f"unknown command {command}"}
    except Exception as error:  # reported to the parent as one line, never a traceback
        result = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps(result))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
