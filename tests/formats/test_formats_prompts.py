"""Prompt builders: exact strings (checked against the quoted formats in review-formats.md),
messages rather than strings, versions that move with the text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from papercycle.formats import aiscientist, cyclereviewer, deepreviewer, section
from papercycle.formats.chat import ChatTemplate, prompt_version
from papercycle.formats.review import Review, ReviewerReport, Score


@pytest.fixture(scope="module")
def quoted_blocks(shared_dir: Path) -> list[str]:
    """The fenced blocks of review-formats.md, where the exact prompt strings are quoted."""
    text = (shared_dir / "docs" / "review-formats.md").read_text(encoding="utf-8")
    return re.findall(r"```\n(.*?)\n```", text, re.DOTALL)


def test_cyclereviewer_prompt_is_the_package_string(quoted_blocks: list[str]) -> None:
    (quoted,) = [
        json.loads(b) for b in quoted_blocks if b.startswith('"You are an expert academic')
    ]
    assert quoted == cyclereviewer.SYSTEM_PROMPT
    assert "\n    \n            1. Summary" in cyclereviewer.SYSTEM_PROMPT


def test_cyclereviewer_clean_variant_and_messages() -> None:
    clean = cyclereviewer.SYSTEM_PROMPT_CLEAN
    assert "aspects:\n\n1. Summary: Briefly" in clean
    assert (
        "\n9. Meta Review: Provide overall assessment and recommendation (Accept/Reject).\n\n"
        in clean
    )
    assert clean.endswith("evaluation.\n\nYou need to fill out **4** review opinions.")
    messages = cyclereviewer.build_messages("PAPER", variant="clean")
    assert messages == [
        {"role": "system", "content": clean},
        {"role": "user", "content": "PAPER"},
    ]
    with pytest.raises(ValueError, match="variant"):
        cyclereviewer.build_messages("PAPER", variant="other")


def test_deepreviewer_prompts_are_the_package_strings(quoted_blocks: list[str]) -> None:
    quoted = {
        mode: next(
            b for b in quoted_blocks if f"Your thinking mode is {mode.capitalize()} Mode" in b
        )
        for mode in deepreviewer.MODES
    }
    for mode, text in quoted.items():
        assert deepreviewer.system_prompt(mode, reviewer_num=7) == text.replace(
            "{reviewer_num}", "7"
        )
    standard = deepreviewer.system_prompt("standard", 4)
    assert "simulating 4 different reviewers" in standard
    assert "review results.When you simulate" in standard  # the package's missing space
    assert "review results.When you simulate" in deepreviewer.system_prompt("best", 4)


def test_deepreviewer_best_mode_evaluation_variant() -> None:
    package = deepreviewer.system_prompt("best", 4)
    evaluation = deepreviewer.system_prompt("best", 4, variant="eval")
    assert evaluation.startswith("Your thinking mode is Best Mode. In this mode,")
    assert "review results. When you simulate" in evaluation
    prefix = "You are an expert academic reviewer tasked with providing a thorough and balanced evaluation of research papers. "
    assert evaluation == package.removeprefix(prefix).replace("results.When", "results. When")
    with pytest.raises(ValueError):
        deepreviewer.system_prompt("fast", variant="eval")
    with pytest.raises(ValueError, match="mode"):
        deepreviewer.build_messages("PAPER", mode="Best Mode")


def test_best_mode_second_turn_in_the_evaluation_data_layout() -> None:
    first = deepreviewer.build_messages("PAPER", mode="best")
    answers = [
        deepreviewer.RetrievedAnswer(
            "Q one?", "[0] Title: A Text: alpha\n[1] Title: B Text: beta", "Answer one."
        ),
        deepreviewer.RetrievedAnswer("Q two?", None, None),
    ]
    messages = deepreviewer.best_mode_followup(first, "STEP ONE", answers)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "STEP ONE"
    assert messages[3]["content"] == (
        "## Question 1\n\nQ one?\n\n### Passage\n\n"
        "[0] Title: A **--**Text: alpha\n[1] Title: B **--**Text: beta\n\n"
        "### Answer\n\nAnswer one.\n\n**********\n\n"
        "## Question 2\n\nQ two?\n\n### Passage\n\n\n\n### Answer\n\n\n\n**********\n\n"
    )
    package = deepreviewer.format_answers(answers, style="package")
    assert package == (
        "## Question 1:\nQ one?\n\n### Retrieved Passages:\n[0] Title: A Text: alpha\n"
        "[1] Title: B Text: beta\n\n### Answer from OpenScholar:\nAnswer one.\n\n**********\n\n"
        "## Question 2:\nQ two?\n\n### Retrieved Passages:\nNo information retrieved.\n\n"
        "### Answer from OpenScholar:\nNo answer retrieved.\n\n**********"
    )


def test_ai_scientist_review_request() -> None:
    messages = aiscientist.build_messages("PAPER TEXT")
    assert messages[0]["content"] == (
        "You are an AI researcher who is reviewing a paper that was submitted to a prestigious "
        "ML venue.Be critical and cautious in your decision.If a paper is bad or you are unsure, "
        "give it bad scores and reject it."
    )
    user = messages[1]["content"]
    assert user.startswith("\n## Review Form\n")
    assert user.endswith("\nHere is the paper you are asked to review:\n```\nPAPER TEXT\n```")
    assert '- "Overall": A rating from 1 to 10 (very strong reject to award quality).' in user
    fewshot = aiscientist.build_messages("P", reviewer="pos", fewshot=[("EX PAPER", "EX REVIEW")])
    assert "Below are some sample reviews" in fewshot[1]["content"]
    assert "Paper:\n\n```\nEX PAPER\n```\n\nReview:\n\n```\nEX REVIEW\n```" in fewshot[1]["content"]


def test_ai_scientist_reflection_rounds() -> None:
    filled = aiscientist.reflection_message(2, 3)
    assert filled["role"] == "user"
    assert filled["content"].startswith("Round 2/3.\nIn your thoughts")
    literal = aiscientist.reflection_message(2, 3, literal=True)
    assert literal["content"].startswith("Round {current_round}/{num_reflections}.")
    assert aiscientist.reflection_done("All good. I am done\nREVIEW JSON: {}")


def _form_review(**scores: int) -> Review:
    report = ReviewerReport()
    for name, value in scores.items():
        aiscientist._set_score(report, name, Score.of(value))
    return Review(format="aiscientist", reports=[report])


def test_ai_scientist_ensemble_meta_scores_are_rounded_means() -> None:
    reviews = [
        _form_review(rating=4, soundness=2, confidence=5, originality=3),
        _form_review(rating=7, soundness=3, confidence=4, originality=3),
        _form_review(rating=5, soundness=3, confidence=11, originality=2),  # 11: out of scale
    ]
    chair = _form_review(rating=9, soundness=1, confidence=1, originality=1)
    chair.reports[0].summary = "The area chair's summary."
    merged = aiscientist.ensemble(reviews, chair)
    assert merged.reports == [r.reports[0] for r in reviews]
    assert merged.meta.summary == "The area chair's summary."
    assert merged.meta.rating.value == 5  # mean 5.33
    assert merged.meta.soundness.value == 3  # mean 2.67
    assert merged.meta.confidence.value == 4  # mean of 5 and 4 = 4.5 -> 4 (half to even)
    assert merged.meta.other_scores["originality"].value == 3  # 2.67
    messages = aiscientist.meta_review_messages(reviews)
    assert "reviewed by 3 reviewers" in messages[0]["content"]
    assert "\nReview 2/3:\n```\n{" in messages[1]["content"]


def test_prompt_versions_follow_the_text() -> None:
    assert (
        prompt_version(cyclereviewer.SYSTEM_PROMPT, cyclereviewer.SYSTEM_PROMPT_CLEAN)
        == cyclereviewer.PROMPT_VERSION
    )
    changed = cyclereviewer.SYSTEM_PROMPT.replace("**4**", "**3**")
    assert (
        prompt_version(changed, cyclereviewer.SYSTEM_PROMPT_CLEAN) != cyclereviewer.PROMPT_VERSION
    )
    # Pinned: a change to any prompt text must be a conscious version bump here.
    assert {
        "cyclereviewer": cyclereviewer.PROMPT_VERSION,
        "deepreviewer": deepreviewer.PROMPT_VERSION,
        "aiscientist": aiscientist.PROMPT_VERSION,
        "section": section.PROMPT_VERSION,
    } == PINNED_VERSIONS


PINNED_VERSIONS = {
    "cyclereviewer": "14f8146ac209",
    "deepreviewer": "8e41bb182e6d",
    "aiscientist": "0363c47da260",
    "section": "7d7a84b4612f",
}

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
    " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def test_chat_template_renders_messages() -> None:
    pytest.importorskip("llama_cpp")
    messages = cyclereviewer.build_messages("PAPER")
    prompt = ChatTemplate(CHATML).render(messages)
    assert prompt == (
        f"<|im_start|>system\n{cyclereviewer.SYSTEM_PROMPT}<|im_end|>\n"
        "<|im_start|>user\nPAPER<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chat_template_from_gguf(tiny_gguf: Path) -> None:
    pytest.importorskip("gguf")
    pytest.importorskip("llama_cpp")
    template = ChatTemplate.from_gguf(tiny_gguf)
    assert "im_start" in template.template
    prompt = template.render(section.build_messages("Some text.", "Intro"))
    assert prompt.rstrip().endswith("assistant")
    assert "Section: Intro\n\nSome text." in prompt
    assert template.eos_token and template.eos_token in template.template
    # Best Mode's second call carries the model's first answer as an assistant turn.
    followup = deepreviewer.best_mode_followup(
        deepreviewer.build_messages("PAPER", "best"),
        "STEP ONE",
        [deepreviewer.RetrievedAnswer("Q?", "P", "A")],
    )
    rendered = template.render(followup)
    assert rendered.index("PAPER") < rendered.index("STEP ONE") < rendered.index("## Question 1")
    override = ChatTemplate.from_gguf(tiny_gguf, override="{{ messages[1]['content'] }}")
    assert override.render(section.build_messages("X", "T")) == "Section: T\n\nX"
