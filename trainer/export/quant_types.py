"""Output types of `papercycle export` and their llama.cpp file types (enum llama_ftype)."""

QUANT_TYPES = {"f32": 0, "f16": 1, "Q8_0": 7, "Q4_K_M": 15, "Q5_K_M": 17}

# Minimum greedy top-1 agreement with the HF model over all probe positions.
MIN_TOP1_AGREEMENT = {"f32": 0.99, "f16": 0.99, "Q8_0": 0.95, "Q5_K_M": 0.92, "Q4_K_M": 0.90}


def normalize_quant(name: str) -> str:
    for known in QUANT_TYPES:
        if known.lower() == name.lower():
            return known
    raise ValueError(f"unknown quantization {name!r} (choose from {', '.join(QUANT_TYPES)})")
