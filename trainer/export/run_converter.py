"""Entry point of the converter subprocess: run one of llama.cpp's converter scripts.

Usage: python run_converter.py LLAMA_CPP_DIR SCRIPT [--pre-tokenizer NAME] -- ARGS...

`--pre-tokenizer` replaces the converter's hash lookup of the BPE pre-tokenizer by a declared
name. That lookup hashes token ids of a fixed string, so every self-trained vocabulary misses
it; the declaration is checked afterwards by verification, which compares token ids.
This file is run as a script (no papercycle imports): torch and the converter live here only.
"""

import runpy
import sys


def main(argv: list[str]) -> None:
    split = argv.index("--")
    own, script_args = argv[:split], argv[split + 1 :]
    llama_cpp_dir, script = own[0], own[1]
    pre_tokenizer = own[own.index("--pre-tokenizer") + 1] if "--pre-tokenizer" in own else None

    sys.path[:0] = [llama_cpp_dir, f"{llama_cpp_dir}/gguf-py"]
    if pre_tokenizer is not None:
        from conversion.base import TextModel

        TextModel.get_vocab_base_pre = lambda self, tokenizer: pre_tokenizer
    sys.argv = [script, *script_args]
    runpy.run_path(f"{llama_cpp_dir}/{script}", run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
