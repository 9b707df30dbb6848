"""`papercycle tiny`: build a tiny model (self-trained BPE vocabulary, 2 layers) offline."""

from __future__ import annotations

from pathlib import Path

import click
from papercycle.cli.errors import UserError


@click.command()
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--arch",
    type=click.Choice(["llama", "qwen2", "mistral", "phi3"]),
    default="llama",
    show_default=True,
    help="Model architecture.",
)
@click.option(
    "--train-steps",
    default=60,
    show_default=True,
    help="Steps of training (about 0.1 s each): enough for its GGUF to pass export's "
    "verification; 0 leaves random weights (export them with --no-verify).",
)
@click.option("--seed", default=0, show_default=True, help="Random seed (weights, data).")
def tiny(out: Path, arch: str, train_steps: int, seed: int) -> None:
    """Build a tiny Hugging Face model in OUT, for tests and the demo (it writes noise).

    \b
    Examples:
      papercycle tiny /tmp/tiny-hf && papercycle export /tmp/tiny-hf -o /tmp/tiny-hf.gguf
      papercycle tiny /tmp/tiny-hf --arch qwen2 --train-steps 200
    """
    from papercycle.trainer.tiny import TinyModelSpec, build_tiny_model
    from tqdm import tqdm

    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: directory exists and is not empty")
    spec = TinyModelSpec(arch=arch, train_steps=train_steps, seed=seed)
    with tqdm(
        total=train_steps, desc="training", disable=None if train_steps else True, leave=False
    ) as bar:

        def progress(step, total, loss, seconds):
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.2f}")

        build_tiny_model(out, spec, progress)
    # the checkpoint records its pre-tokenizer (papercycle-tiny.json): export reads it there
    click.echo(f"wrote a tiny {arch} model to {out}; export it with:")
    if train_steps:
        click.echo(f"  papercycle export {out} -o {out}.gguf --quant Q4_K_M")
    else:
        click.echo(
            f"  papercycle export {out} -o {out}.gguf --quant Q4_K_M --no-verify"
            "    # random weights: their flat logits cannot pass verification"
        )
