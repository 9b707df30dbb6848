"""Hugging Face checkpoint → GGUF (llama.cpp's converter), quantization and verification.

Nothing here imports torch at module level: `llama_worker` runs in its own process with
llama.cpp only, because torch and llama.cpp in one process fight over OpenMP threads.
"""
