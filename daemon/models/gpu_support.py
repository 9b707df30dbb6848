"""Whether this llama.cpp build can offload layers to a GPU (CUDA, Metal, Vulkan, ...).

llama-cpp-python compiles llama.cpp on install; without a `CMAKE_ARGS` that enables a GPU
backend the build is CPU-only, and `n_gpu_layers` is then silently ignored: a model the user
meant for the GPU runs on the CPU, many times slower, with no word said. The daemon log,
`papercycle doctor` and `papercycle models add` say it in one line instead, with the fix.
"""

from __future__ import annotations

import functools

# The reinstall that builds llama.cpp with a GPU backend (README "Get started"): the same
# pinned version, rebuilt from source rather than taken from pip's cache of the CPU build
REBUILD_HINT = (
    'reinstall llama-cpp-python with a GPU backend: CMAKE_ARGS="-DGGML_CUDA=on" '
    '(NVIDIA) or "-DGGML_METAL=on" (Apple) pip install --force-reinstall --no-cache-dir '
    "--no-deps llama-cpp-python==0.3.36"
)


@functools.cache
def gpu_offload_supported() -> bool:
    """llama.cpp's own answer (`llama_supports_gpu_offload`): a GPU backend was compiled in."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


def gpu_layers_problem(n_gpu_layers: int, name: str = "") -> str | None:
    """One line when `n_gpu_layers` asks for a GPU this llama.cpp build cannot use, else None."""
    if n_gpu_layers == 0 or gpu_offload_supported():
        return None
    who = f"model {name!r}: " if name else ""
    return (
        f"{who}n_gpu_layers = {n_gpu_layers} but this llama.cpp build has no GPU backend "
        f"(CPU only): the model runs on the CPU; {REBUILD_HINT}"
    )
