"""llama.cpp generation in its own process: `python -m papercycle.trainer.generation.worker GGUF`.

Reads one JSON request per line on stdin and answers one JSON line on stdout:
  {"messages": [...], "n": 2, "temperature": 0.4, "top_p": 0.95, "max_tokens": 64,
   "seed": 0, "grammar": "<GBNF or null>"}  ->  {"texts": [...], "prompt_tokens": N}
Errors are answered as {"error": "..."}; the process keeps serving.

The prompt is rendered with the chat template stored in the GGUF, through the daemon's
`ChatTemplate`, so a model is sampled exactly as the daemon will serve it. This process
never imports torch: the trainer's torch and llama.cpp would fight over OpenMP threads.
"""

from __future__ import annotations

import json
import sys


def serve(model_path: str, n_ctx: int) -> None:
    import llama_cpp
    from papercycle.formats.chat import ChatTemplate

    llm = llama_cpp.Llama(model_path=model_path, n_ctx=n_ctx, n_gpu_layers=0, verbose=False, seed=0)
    template = ChatTemplate.from_gguf(model_path)
    grammars: dict[str, llama_cpp.LlamaGrammar] = {}
    print(json.dumps({"ready": True, "n_ctx": llm.n_ctx()}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = _generate(llm, template, grammars, json.loads(line))
        except Exception as error:  # answered as one line; the parent decides
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer, ensure_ascii=False), flush=True)


def _generate(llm, template, grammars, request: dict) -> dict:
    import llama_cpp
    from papercycle.daemon.models.bos import prompt_tokens

    prompt = request.get("prompt")
    if prompt is None:
        prompt = template.render(request["messages"], add_generation_prompt=True)
    prompt = prompt + request.get("prefill", "")
    # the daemon's BOS rule: the template's own BOS, or the metadata's when it wrote none
    tokens = prompt_tokens(llm, prompt)
    max_tokens = int(request.get("max_tokens", 128))
    if len(tokens) + max_tokens > llm.n_ctx():
        return {
            "error": f"prompt of {len(tokens)} tokens + {max_tokens} new tokens does not fit "
            f"the context of {llm.n_ctx()} (truncate the paper)"
        }
    grammar = None
    if request.get("grammar"):
        text = request["grammar"]
        if text not in grammars:
            grammars[text] = llama_cpp.LlamaGrammar.from_string(text, verbose=False)
        grammar = grammars[text]
    texts, completion_tokens = [], 0
    seed = int(request.get("seed", 0))
    for i in range(int(request.get("n", 1))):
        llm.reset()
        output = llm.create_completion(
            tokens,
            max_tokens=max_tokens,
            temperature=float(request.get("temperature", 0.4)),
            top_p=float(request.get("top_p", 0.95)),
            seed=seed + i,
            grammar=grammar,
        )
        texts.append(output["choices"][0]["text"])
        completion_tokens += output["usage"]["completion_tokens"]
    return {"texts": texts, "prompt_tokens": len(tokens), "completion_tokens": completion_tokens}


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2048)
