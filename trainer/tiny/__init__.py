"""Tiny models built offline (a self-trained BPE vocabulary, 2 layers) for tests and the demo.

Random or briefly trained weights produce noise; tests use them for structure and fidelity
(tokenization, logits after conversion), never for wording.
"""

from papercycle.trainer.tiny.builder import ARCHITECTURES, TinyModelSpec, build_tiny_model
from papercycle.trainer.tiny.lora import build_tiny_lora

__all__ = ["ARCHITECTURES", "TinyModelSpec", "build_tiny_lora", "build_tiny_model"]
