"""The section review's grammar: built from its schema by our own GBNF builder, accepted by
llama.cpp, and, driving a tiny random-weight model, always producing schema-valid answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from grammar_check import llama_cpp_parses
from papercycle.formats import gbnf, parse_review, section
from papercycle.formats.section import SectionLimits

jsonschema = pytest.importorskip("jsonschema")

# Small bounds keep the generations fast: random weights write noise up to every bound. At
# least one comment, so that every sample goes through the comment rules. 50 samples (~340
# tokens each at ~1.3 ms a token with the grammar) see every comment count and every rule.
SAMPLES = 50
LIMITS = SectionLimits(
    max_comments=3, min_comments=1, max_quote_chars=40, max_comment_chars=60, max_rewrite_chars=40
)
SECTION_TEXT = (
    'We train on "toy" data only. The loss uses a C:\\path\\to\\weights backslash.\n'
    "Results improve by 3%! Is that significant? We think so."
)


def test_builder_writes_bounds_and_enumerations() -> None:
    grammar = gbnf.grammar_from_schema(
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 2, "maximum": 4},
                "tags": {
                    "type": "array",
                    "items": {"enum": ["a", "b"]},
                    "minItems": 1,
                    "maxItems": 3,
                },
                "note": {"type": ["string", "null"], "maxLength": 5},
            },
            "required": ["n", "tags", "note"],
            "additionalProperties": False,
        }
    )
    assert 'root-n ::= "2" | "3" | "4"' in grammar
    assert 'root-tags ::= "[" root-tags-item ( "," root-tags-item ){0,2} "]"' in grammar
    assert "char{0,5}" in grammar
    assert grammar.startswith('root ::= "{\\"n\\":" root-n ",\\"tags\\":" root-tags ')


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 1},  # unbounded: llama-cpp-python would ignore it
        {"type": "string"},  # no maxLength
        {"type": "array", "items": {"type": "boolean"}},  # no maxItems
        {
            "type": "object",
            "properties": {"a": {"type": "null"}},
            "required": [],
            "additionalProperties": False,
        },
        {"type": "object", "properties": {}, "required": []},  # additional properties allowed
        {"type": "number"},
        {"type": "string", "maxLength": 3, "pattern": "a+"},  # a keyword it cannot enforce
    ],
)
def test_builder_refuses_what_it_cannot_enforce(schema: dict) -> None:
    with pytest.raises(gbnf.UnsupportedSchema):
        gbnf.grammar_from_schema(schema)


def test_literals_escape_quotes_backslashes_and_control_characters() -> None:
    assert gbnf.literal('a"b\\c\nd\x01') == '"a\\"b\\\\c\\nd\\x01"'


def test_llama_cpp_accepts_the_default_and_the_quote_grammars(tiny_gguf: Path) -> None:
    for text in (
        section.grammar(),
        section.grammar(LIMITS, section.quotable_sentences(SECTION_TEXT, LIMITS)),
    ):
        assert llama_cpp_parses(text, tiny_gguf)


def test_llama_cpp_refuses_a_broken_grammar(tiny_gguf: Path) -> None:
    """The check above can fail: the same grammar with a rule undefined, a parenthesis left
    open or a bad escape does not parse in llama.cpp."""
    text = section.grammar()
    rules = [line for line in text.splitlines() if "::=" in line]
    assert len(rules) > 1
    without_last_rule = "\n".join(line for line in text.splitlines() if line != rules[-1])
    for broken in (
        without_last_rule,
        text.replace("::=", "::= (", 1),
        text + '\nextra ::= "\\q"\n',
    ):
        assert broken != text
        assert not llama_cpp_parses(broken, tiny_gguf)


def test_quotable_sentences_are_exact_excerpts() -> None:
    sentences = section.quotable_sentences(SECTION_TEXT, LIMITS)
    assert sentences[0] == 'We train on "toy" data only.'
    assert "Is that significant?" in sentences
    assert all(s in SECTION_TEXT and len(s) <= LIMITS.max_quote_chars for s in sentences)


@pytest.fixture(scope="module")
def tiny_llama(tiny_gguf: Path):
    llama_cpp = pytest.importorskip("llama_cpp")
    # one thread: as fast for a tiny model, and no thread waits on a descheduled peer
    return llama_cpp.Llama(
        model_path=str(tiny_gguf), n_ctx=2048, n_threads=1, n_threads_batch=1, verbose=False
    )


def _generate(tiny_llama, grammar_text: str, seed: int) -> str:
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(grammar_text, verbose=False)
    prompt = f"Review this section.\n\n{SECTION_TEXT}\n\nJSON:"
    result = tiny_llama.create_completion(
        prompt, max_tokens=1500, temperature=1.5, top_k=0, top_p=1.0, seed=seed, grammar=grammar
    )
    choice = result["choices"][0]
    assert choice["finish_reason"] == "stop", "the grammar must let the answer end"
    return choice["text"]


def test_grammar_output_always_validates(tiny_llama) -> None:
    schema = section.schema(LIMITS)
    grammar_text = section.grammar(LIMITS)
    seen_comment_counts = set()
    for seed in range(SAMPLES):
        text = _generate(tiny_llama, grammar_text, seed)
        answer = json.loads(text)
        jsonschema.validate(answer, schema)
        assert answer["scores"] and all(1 <= v <= 4 for v in answer["scores"].values())
        review = parse_review(text, "section")
        assert review.warnings == []
        assert len(review.comments) == len(answer["comments"])
        seen_comment_counts.add(len(answer["comments"]))
    # Noise explores the bounds: not every answer is the shortest one.
    assert len(seen_comment_counts) > 1


def test_constrained_quotes_are_sentences_of_the_section(tiny_llama) -> None:
    sentences = section.quotable_sentences(SECTION_TEXT, LIMITS)
    schema = section.schema(LIMITS, sentences)
    grammar_text = section.grammar(LIMITS, sentences)
    quoted = 0
    for seed in range(20):
        text = _generate(tiny_llama, grammar_text, 1000 + seed)
        jsonschema.validate(json.loads(text), schema)
        review = section.parse(text, section_text=SECTION_TEXT, limits=LIMITS)
        assert review.warnings == []
        assert all(c.quote in sentences for c in review.comments)
        quoted += len(review.comments)
    assert quoted > 0


def test_ascii_grammar_writes_valid_utf8_bytes(tiny_llama) -> None:
    """Read the raw bytes (llama-cpp-python's text drops invalid UTF-8 silently): with
    `ascii_only` no byte sequence llama.cpp lets through can be invalid."""
    from llama_cpp import LlamaGrammar

    prompt = tiny_llama.tokenize(b"Review this section.\n\nJSON:")
    schema = section.schema(LIMITS)
    for seed in range(20):
        grammar = LlamaGrammar.from_string(section.grammar(LIMITS, ascii_only=True), verbose=False)
        tiny_llama.set_seed(seed)
        tiny_llama.reset()
        tokens = []
        for token in tiny_llama.generate(prompt, temp=1.5, top_k=0, top_p=1.0, grammar=grammar):
            if token == tiny_llama.token_eos():
                break
            tokens.append(token)
            assert len(tokens) < 1500
        answer = json.loads(tiny_llama.detokenize(tokens).decode("utf-8"))
        jsonschema.validate(answer, schema)


def test_ai_scientist_form_grammar_output_always_parses(tiny_llama) -> None:
    """The form's integer scales (1-4, 1-10, 1-5) are exactly what llama-cpp-python's own
    schema converter would leave unbounded."""
    from papercycle.formats import aiscientist

    limits = aiscientist.FormLimits(
        max_thought_chars=30, max_summary_chars=30, max_items=2, max_item_chars=20
    )
    grammar_text = aiscientist.grammar(limits)
    schema = aiscientist.form_schema(limits)
    for seed in range(20):
        text = _generate(tiny_llama, grammar_text, 2000 + seed)
        review = aiscientist.parse(text)
        assert review.warnings == []
        form = json.loads(text.split("```json\n", 1)[1].removesuffix("\n```"))
        jsonschema.validate(form, schema)
        for name, (low, high) in aiscientist.FORM_SCORES.values():
            assert low <= review.reports[0].scores()[name] <= high
        assert review.decision.verdict == form["Decision"]
