"""A GGUF as the base of a recipe: `model: gguf:<path or catalogue name>`.

transformers reads a GGUF (`gguf_file=`) and dequantizes it; the weights, the tokenizer and
the chat template all come from that one file. The result is written once as a Hugging Face
checkpoint under the run's output directory (`base-from-gguf/`), so everything after it
(trl, resumption, export's tokenizer checks) sees an ordinary checkpoint, and a second run
or a resumed one reuses it. A user who has only a GGUF can fine-tune it.
"""

from __future__ import annotations

import json
from pathlib import Path

from papercycle.trainer.config import ConfigError

PREFIX = "gguf:"
MARKER = "papercycle-gguf-base.json"

# SFT's assistant-only loss needs the template to mark assistant turns with
# `{% generation %}`; a GGUF's ChatML template does not. This one renders the same text.
CHATML_TRAINING_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by "
    "Hugging Face<|im_end|>\\n' }}{% endif %}"
    "{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def is_gguf_base(model: Path | str) -> bool:
    return str(model).startswith(PREFIX)


def spec_of(value: str, base_dir: Path | None) -> str:
    """`gguf:<x>` with a relative path <x> made absolute (a catalogue name stays a name)."""
    rest = value[len(PREFIX) :].strip()
    looks_like_path = "/" in rest or rest.endswith(".gguf")
    if looks_like_path:
        path = Path(rest).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return PREFIX + str(path)
    return PREFIX + rest


def gguf_path(model: Path | str) -> Path:
    """The GGUF file a `gguf:` base names; one line when it cannot be found."""
    rest = str(model)[len(PREFIX) :]
    if "/" in rest or rest.endswith(".gguf"):
        path = Path(rest)
        if not path.is_file():
            raise ConfigError(f"model: {path} does not exist (expected a .gguf file)")
        return path
    from papercycle.daemon.models.catalogue import CatalogueError, find

    try:
        return find(rest).path()
    except CatalogueError as error:
        raise ConfigError(f"model: {error}") from None


def base_checkpoint_dir(output_dir: Path) -> Path:
    return Path(output_dir) / "base-from-gguf"


def materialize(model: Path | str, output_dir: Path, say=print) -> Path:
    """The Hugging Face checkpoint of the GGUF base `model`, written once under output_dir."""
    source = gguf_path(model)
    target = base_checkpoint_dir(output_dir)
    stamp = {"gguf": str(source.resolve()), "size": source.stat().st_size}
    marker = target / MARKER
    if marker.is_file() and json.loads(marker.read_text()) == stamp:
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    say(f"base: dequantizing {source.name} to a Hugging Face checkpoint in {target}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
        model_hf = AutoModelForCausalLM.from_pretrained(
            source.parent, gguf_file=source.name, dtype=torch.float32
        )
    except (ValueError, OSError, KeyError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigError(f"model: transformers cannot load {source} ({first})") from None
    template = tokenizer.chat_template or ""
    if "<|im_start|>" in template and "{% generation %}" not in template:
        tokenizer.chat_template = CHATML_TRAINING_TEMPLATE
    # The weights are already dequantized to fp32; transformers still marks the model as
    # "quantized with gguf" and refuses to save it. It is a plain checkpoint now.
    model_hf.hf_quantizer = None
    model_hf.is_quantized = False
    if hasattr(model_hf.config, "quantization_config"):
        del model_hf.config.quantization_config
    target.mkdir(parents=True, exist_ok=True)
    model_hf.save_pretrained(target)
    tokenizer.save_pretrained(target)
    marker.write_text(json.dumps(stamp))
    return target
