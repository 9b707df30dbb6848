"""`papercycle eval`: produce outputs, parse them with the daemon's parsers, compute the
metrics, write the report."""

from __future__ import annotations

from pathlib import Path

from papercycle.formats import parse_review
from papercycle.trainer.data import load_papers
from papercycle.trainer.data.targets import reviewer_prompt
from papercycle.trainer.eval import report
from papercycle.trainer.eval.predict import generator_for, read_outputs
from papercycle.trainer.eval.researcher import evaluate_researcher
from papercycle.trainer.eval.reviewer import baselines, evaluate_reviewer
from papercycle.trainer.reward.review_grammar import cyclereviewer_grammar


def run_baselines(
    data: Path, adapter: str, out: Path, split: str = "all"
) -> tuple[dict, list[Path]]:
    papers = load_papers(adapter, data, split)
    result = baselines(papers)
    md = report.baselines_markdown(result, f"Human baselines: {data.name} ({len(papers)} papers)")
    return result, report.write_report(out, "baselines", result, md)


def run_reviewer_eval(
    data: Path,
    adapter: str,
    out: Path,
    *,
    model: Path | None = None,
    predictions: Path | None = None,
    format: str = "cyclereviewer",
    split: str = "test",
    test_fraction: float = 0.1,
    limit: int | None = None,
    samples: int = 1,
    grammar: bool = False,
    grammar_reviewers: int = 4,
    max_paper_chars: int = 48000,
    n_ctx: int = 16384,
    temperature: float = 0.4,
    max_tokens: int = 7000,
    say=print,
) -> tuple[dict, list[Path]]:
    papers = load_papers(adapter, data, split, test_fraction)[:limit]
    outputs: dict[str, list[str]]
    if predictions is not None:
        outputs = read_outputs(predictions)
    elif model is not None:
        outputs = {}
        gbnf = (
            cyclereviewer_grammar(grammar_reviewers)
            if grammar and format == "cyclereviewer"
            else None
        )
        with generator_for(
            model, n_ctx=n_ctx, temperature=temperature, max_tokens=max_tokens
        ) as generate:
            for i, paper in enumerate(papers):
                messages = reviewer_prompt(paper.text[:max_paper_chars], format)
                outputs[paper.id] = generate(messages, samples, i, gbnf)
                say(f"reviewed {i + 1}/{len(papers)}: {paper.id}")
    else:
        raise ValueError("give a model (GGUF or HF checkpoint) or a predictions file")
    reviews = {
        pid: [parse_review(t, format=format) for t in texts] for pid, texts in outputs.items()
    }
    result = evaluate_reviewer(papers, reviews)
    result["data"], result["split"] = str(data), split
    result["model"] = str(model or predictions)
    md = report.reviewer_markdown(
        result, f"Reviewer evaluation: {Path(result['model']).name} on {data.name} ({split})"
    )
    return result, report.write_report(out, "reviewer", result, md, report.reviewer_plots(result))


def run_researcher_eval(
    prompts: Path,
    model: Path,
    reviewer: Path,
    out: Path,
    *,
    reviewer_format: str = "cyclereviewer",
    reviewer_samples: int = 3,
    reviewer_grammar: bool = False,
    reviewer_temperature: float = 0.4,
    reviewer_max_tokens: int = 7000,
    limit: int | None = None,
    max_tokens: int = 19000,
    temperature: float = 0.4,
    n_ctx: int = 32768,
    say=print,
) -> tuple[dict, list[Path]]:
    from papercycle.trainer.generation.client import LlamaGenerator
    from papercycle.trainer.recipes.simpo import load_prompts
    from papercycle.trainer.reward.reviewer_score import ReviewerScorer

    batch = load_prompts(prompts)[:limit]
    with generator_for(
        model, n_ctx=n_ctx, temperature=temperature, max_tokens=max_tokens
    ) as generate:
        papers = [generate(p["messages"], 1, i, None)[0] for i, p in enumerate(batch)]
    say(f"generated {len(papers)} papers")
    with LlamaGenerator(reviewer, n_ctx=n_ctx) as llama:
        scorer = ReviewerScorer(
            llama, format=reviewer_format, samples=reviewer_samples, grammar=reviewer_grammar,
            temperature=reviewer_temperature, max_tokens=reviewer_max_tokens,
        )  # fmt: skip
        scores = [scorer.score(text, seed=i) for i, text in enumerate(papers)]
    result = evaluate_researcher(scores)
    result["model"], result["reviewer"] = str(model), str(reviewer)
    md = report.researcher_markdown(
        result, f"Researcher evaluation: {model.name} under {reviewer.name}"
    )
    return result, report.write_report(
        out, "researcher", result, md, report.researcher_plots(result)
    )
