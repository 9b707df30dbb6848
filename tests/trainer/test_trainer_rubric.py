"""The rubric format (formats/rubric.py): schemas, grammars, parsers, grade_plan, in
both sizes (one goal and verdicts for the trainer; several goals and reasons for the co-author)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from grammar_check import llama_cpp_parses
from papercycle.formats import rubric
from papercycle.formats.rubric import Rubric, RubricLimits


def test_extraction_round_trip_and_schema():
    answer = Rubric("Deeper GNNs", ["uses residual connections", "compares with GCN"])
    text = rubric.render_extraction(answer)
    jsonschema.validate(json.loads(text), rubric.extraction_schema())
    parsed = rubric.parse_extraction("Sure.\n" + text)
    assert parsed.goal == "Deeper GNNs" and parsed.items == answer.items and not parsed.warnings


def test_extraction_tolerates_damage():
    cut = rubric.parse_extraction('{"goal":"G","rubric":["a", 3, ""')
    assert cut.goal == "G"
    assert any("incomplete" in w for w in cut.warnings)
    nothing = rubric.parse_extraction("no json here")
    assert nothing.items == [] and "no rubric JSON found" in nothing.warnings


def test_grading_grammar_fixes_the_verdict_count():
    grammar = rubric.grading_grammar(3)
    assert "{2,2}" in grammar and '"\\"yes\\""' in grammar
    with pytest.raises(ValueError):
        rubric.grading_schema(0)


def test_grade_plan_with_a_fake_model():
    seen = {}

    def generate(messages, grammar):
        seen["messages"], seen["grammar"] = messages, grammar
        return '{"verdicts":["yes","no","yes"]}'

    items = ["a baseline", "a metric", "an ablation"]
    grade = rubric.grade_plan("We compare to X.", Rubric("Goal", items), generate)
    assert grade.verdicts == [True, False, True] and grade.score == pytest.approx(2 / 3)
    assert "1. a baseline" in seen["messages"][1]["content"]
    assert "exactly 3 verdicts" in seen["messages"][0]["content"]
    assert seen["grammar"] == rubric.grading_grammar(3)


def test_grading_parser_partial_and_wrong():
    short = rubric.parse_grading('{"verdicts":["yes"]}', 2)
    assert short.verdicts == [True, None] and short.score == 1.0 and short.warnings
    odd = rubric.parse_grading('{"verdicts":["maybe","NO"]}', 2)
    assert odd.verdicts == [None, False] and odd.score == 0.0
    assert rubric.parse_grading("", 2).score is None
    assert rubric.grade_plan("p", Rubric("g", []), lambda m, g: "").score is None


def test_grade_plan_with_reasons():
    seen = {}

    def generate(messages, grammar):
        seen["messages"], seen["grammar"] = messages, grammar
        return '{"grades":[{"verdict":"no","reason":"No  baseline."},{"verdict":"yes","reason":"F1."}]}'

    grade = rubric.grade_plan(
        "p", Rubric("Goal", ["a baseline", "a metric"]), generate, reasons=True
    )
    assert grade.verdicts == [False, True] and grade.score == 0.5 and not grade.warnings
    assert grade.reasons == ["No baseline.", "F1."]
    assert "exactly 2 grades" in seen["messages"][0]["content"]
    assert seen["grammar"] == rubric.grading_grammar(2, reasons=True)
    assert json.loads(rubric.render_grading(grade))["grades"][0]["reason"] == "No baseline."


def test_several_goals_schema_holds_one_goal_answers():
    limits = RubricLimits(max_goals=2, max_items=2)
    one = json.loads(rubric.render_extraction(Rubric("G", ["a", "b"])))
    several = rubric.extraction_schema(limits, several=True)
    jsonschema.validate({"goals": [one, one]}, several)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"goals": [one, one, one]}, several)
    assert '{"goals": [{"goal"' in rubric.build_extraction_messages("P", several=True)[0]["content"]


def test_grammars_compile_in_llama_cpp(tiny_gguf):
    for grammar in (
        rubric.grading_grammar(4),
        rubric.grading_grammar(2, reasons=True, ascii_only=True),
        rubric.extraction_grammar(RubricLimits(max_items=3)),
        rubric.extraction_grammar(RubricLimits(max_goals=1), several=True, ascii_only=True),
    ):
        assert llama_cpp_parses(grammar, tiny_gguf)
