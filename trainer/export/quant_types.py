"""Output types of `papercycle export` and their llama.cpp file types (enum llama_ftype)."""

QUANT_TYPES = {"f32": 0, "f16": 1, "Q8_0": 7, "Q4_K_M": 15, "Q5_K_M": 17}

# Minimum greedy top-1 agreement with the HF model over all probe positions.
MIN_TOP1_AGREEMENT = {"f32": 0.99, "f16": 0.99, "Q8_0": 0.95, "Q5_K_M": 0.92, "Q4_K_M": 0.90}
# The same against a 16-bit reference (the HF model run in bfloat16/float16 to fit a laptop's
# RAM): every activation is rounded to 8 (bf16) or 11 (f16) bits of mantissa, so positions
# where the top two logits are near-tied may flip in the reference itself. Allowance: 2 points
# below the float32 minimum, the size of bf16's own disagreement with float32 on Llama-class
# models. max|dlogit| is reported, never a pass criterion, in either precision.
MIN_TOP1_AGREEMENT_16BIT = {k: round(v - 0.02, 2) for k, v in MIN_TOP1_AGREEMENT.items()}


def min_top1(quant: str, reference_dtype: str) -> float:
    table = MIN_TOP1_AGREEMENT if reference_dtype == "float32" else MIN_TOP1_AGREEMENT_16BIT
    return table[quant]


def normalize_quant(name: str) -> str:
    for known in QUANT_TYPES:
        if known.lower() == name.lower():
            return known
    raise ValueError(f"unknown quantization {name!r} (choose from {', '.join(QUANT_TYPES)})")
