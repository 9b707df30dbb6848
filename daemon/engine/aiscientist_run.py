"""The AI Scientist reviewer as its authors run it (SakanaAI/AI-Scientist `perform_review`):
few-shot examples, N-way ensembling with an area chair's meta review, reflection rounds.

`review.paper` params (all optional; the defaults are one plain answer, run by the ordinary
path of handlers/review.py):
- `few_shot`: paths of example papers with their reviews (engine/few_shot.py), put between the
  review form and the paper, in the authors' layout;
- `ensemble` (1-8): N independent answers (seeds `seed`, `seed`+1, ...; temperature 0.75, the
  authors', unless the model sets its own), then the meta review of those that could be read
  (the authors' area-chair prompt), whose scores are replaced by the rounded mean of the
  readable answers' in-scale scores (`formats.aiscientist.ensemble`);
- `reflections` (0-5): further rounds, each a generation with the conversation so far and the
  authors' reflection prompt (sent, as they send it, with its `{current_round}` placeholders
  unfilled); a round whose answer says "I am done" ends them. The authors count the first answer
  as a round (`num_reflections=5` is 4 further rounds): `reflections` counts further rounds.

Each generation goes through the daemon's cache, queue and cancellation (the `generate` the
request handler passes in: jobs.py) and is cached under its whole input (conversation, seed, examples), so the params are in every
key. What could not be read is never fatal: an unreadable answer is left out of the ensemble
(the result says how many were read), an unreadable meta review falls back to the first
readable answer (as the authors do), an unreadable reflection keeps the review before it (the
authors' code stops on an assertion there).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import budgets, few_shot, simulated
from papercycle.daemon.engine import review as review_engine
from papercycle.daemon.engine.prompting import ReviewError, model_identity, render_prompt
from papercycle.daemon.models.registry import ModelError
from papercycle.daemon.models.request import GenerationRequest
from papercycle.daemon.store import cache_key
from papercycle.formats import aiscientist
from papercycle.formats.chat import Message
from papercycle.formats.parse import parse_review
from papercycle.formats.review import Review
from papercycle.latex import Project

PARAMS = ("reflections", "ensemble", "few_shot")
MAX_REFLECTIONS = 5
MAX_ENSEMBLE = 8
ENSEMBLE_TEMPERATURE = 0.75
STRUCTURED_LIMITS = aiscientist.FormLimits(
    max_thought_chars=200, max_summary_chars=200, max_items=2, max_item_chars=100
)  # the authors': "Higher temperature to encourage diversity"


@dataclass(frozen=True)
class Options:
    reflections: int = 0
    ensemble: int = 1
    few_shot: tuple[str, ...] = ()

    @property
    def plain(self) -> bool:
        """One answer and no examples: the ordinary review path."""
        return self.reflections == 0 and self.ensemble == 1 and not self.few_shot


def _count(params: dict[str, Any], name: str, low: int, high: int, default: int) -> int:
    value = params.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ReviewError("bad-request", f"{name} = {value!r} is not a whole number {low}-{high}")
    return value


def read_options(params: dict[str, Any]) -> Options:
    """The params' options, or a ReviewError naming the bad one."""
    reflections = _count(params, "reflections", 0, MAX_REFLECTIONS, 0)
    ensemble = _count(params, "ensemble", 1, MAX_ENSEMBLE, 1)
    paths = params.get("few_shot") or []
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise ReviewError("bad-request", "few_shot is a list of paths (folders or files)")
    return Options(reflections, ensemble, tuple(paths))


def check_model(options: Options, model: ModelConfig) -> None:
    """Refuse the options for a model that does not write the AI Scientist's form: they are
    that reviewer's scheme, and forcing its form on another model would be made up."""
    if not options.plain and model.format != "aiscientist":
        raise ReviewError(
            "bad-request",
            f"reflections, ensemble and few_shot are the AI Scientist reviewer's (format "
            f"aiscientist); model {model.name!r} is {model.format}",
        )


def _request(model: ModelConfig, messages: list[Message], settings: dict[str, Any]):
    """A generation of the review form (settings: its own copy; the budget is bounded in it)."""
    # a grammar-forced (untrained) model gets a short thought and a short form: with the
    # default bounds a 135M model fills 400 tokens of thought before the JSON starts
    grammar = aiscientist.grammar(STRUCTURED_LIMITS, ascii_only=True) if model.structured else None
    prompt = render_prompt(model, messages)
    version = aiscientist.PROMPT_VERSION
    key = cache_key(model_identity(model), version, {**settings, "grammar": grammar}, prompt)
    return GenerationRequest(
        "paper", model, "standard", messages, prompt, grammar, settings, version, key
    )


def _read(output: str, model: ModelConfig) -> Review:
    review = parse_review(output, "aiscientist", model=model.name)
    assert isinstance(review, Review)
    return review


def _aggregated_answer(count: int, review: Review) -> str:
    """The authors' stand-in for the first answer once the ensemble is combined: the history
    the reflection rounds continue."""
    return (
        "\nTHOUGHT:\nI will start by aggregating the opinions of "
        f"{count} reviewers that I previously obtained.\n\nREVIEW JSON:\n```json\n"
        f"{json.dumps(aiscientist.to_form(review))}\n```\n"
    )


# a request's generation, finished into {"output", "cached", "generation", "complete", ...}
Generate = Callable[[GenerationRequest], Awaitable[dict[str, Any]]]
Progress = Callable[[dict[str, Any]], Awaitable[None]]  # a `progress` event's data
Trusts = Callable[[Path | None], bool]  # whether the user trusts a folder (config.py)


class Run:
    """One review.paper request in the authors' scheme, through the daemon's generations."""

    def __init__(
        self,
        generate: Generate,
        progress: Progress,
        trusts: Trusts,
        project: Project,
        model: ModelConfig,
        options: Options,
    ) -> None:
        self.generate, self.progress, self.trusts = generate, progress, trusts
        self.project, self.model = project, model
        self.options = options
        self.steps: list[dict[str, Any]] = []  # one per generation, in order
        self.cuts: list[str] = []  # what was cut, one line each
        self.incomplete: dict[str, Any] | None = None
        self.first: GenerationRequest | None = None  # the first answer's: the result's labels

    async def _generate(self, step: str, index: int, of: int, request) -> tuple[str, Review]:
        answer = await self.generate(request)
        review = _read(answer["output"], self.model)
        generation = answer.get("generation") or {}
        readable = bool(review.reports)
        self.steps.append(
            {
                "step": step,
                "index": index,
                "of": of,
                "seed": request.settings.get("seed"),
                "readable": readable,
                "cached": answer.get("cached", False),
                "finish": generation.get("finish"),
                "tokens": generation.get("tokens"),
                "generation": generation,
            }
        )
        if answer.get("complete") is False:
            cut = answer["incomplete"]
            self.cuts.append(f"AI Scientist {step} {index}/{of}: {cut['message']}")
            if self.incomplete is None:
                self.incomplete = {**cut, "message": self.cuts[-1]}
        await self.progress(
            {
                "stage": "aiscientist",
                "step": step,
                "index": index,
                "of": of,
                "readable": readable,
                "finish": generation.get("finish"),
            }
        )
        return answer["output"], review

    async def run(self, mode: str) -> dict[str, Any]:
        options, model = self.options, self.model
        text, removed = review_engine.paper_input(self.project)
        examples = few_shot.load(options.few_shot, self.project.root_dir, self.trusts)
        messages = aiscientist.build_messages(text, fewshot=[(e.paper, e.review) for e in examples])
        settings = budgets.settings_for(model, "aiscientist", "standard")
        n = options.ensemble
        if n > 1 and "temperature" not in model.sampling:
            settings["temperature"] = ENSEMBLE_TEMPERATURE
        seed = int(settings.get("seed", 0))
        samples: list[tuple[list[Message], str, Review]] = []
        for i in range(n):
            request = _request(model, messages, {**settings, "seed": seed + i})
            self.first = self.first or request
            output, review = await self._generate("sample", i + 1, n, request)
            samples.append((messages, output, review))
        readable = [review for _m, _o, review in samples if review.reports]
        warnings: list[str] = []
        meta = "none"
        if n == 1:
            current = samples[0][2]
            history = [*messages, {"role": "assistant", "content": samples[0][1]}]
        elif not readable:
            current = samples[0][2]
            history = [*messages, {"role": "assistant", "content": samples[0][1]}]
            warnings.append(f"AI Scientist ensemble: none of the {n} answers could be read")
        else:
            meta_request = _request(
                model, aiscientist.meta_review_messages(readable), dict(settings)
            )
            _output, meta_review = await self._generate("meta review", 1, 1, meta_request)
            meta = "read" if meta_review.reports else "unreadable"
            current = aiscientist.ensemble(readable, meta_review)
            warnings.append(
                f"AI Scientist ensemble: {len(readable)} of {n} answers read; meta review "
                + ("read" if meta == "read" else "unreadable: the first readable answer stands in")
                + "; scores are the rounded mean of the answers read"
            )
            history = [
                *messages,
                {"role": "assistant", "content": _aggregated_answer(n, current)},
            ]
        rounds, done = 0, False
        for j in range(options.reflections):
            turn = [
                *history,
                aiscientist.reflection_message(j + 2, options.reflections + 1, literal=True),
            ]
            try:
                output, review = await self._generate(
                    "reflection", j + 1, options.reflections, _request(model, turn, dict(settings))
                )
            except (ReviewError, ModelError) as error:
                if isinstance(error, ReviewError) and error.code != "model":
                    raise
                # the conversation outgrew the context (or the model failed): what was
                # reviewed so far stands, and the result says why the rounds stopped
                warnings.append(f"AI Scientist reflection {j + 1} not run: {error}")
                break
            rounds += 1
            history = [*turn, {"role": "assistant", "content": output}]
            if review.reports:
                current = review
            else:
                warnings.append(
                    f"AI Scientist reflection {j + 1}/{options.reflections}: nothing readable "
                    f"({'; '.join(review.warnings[:2])}); the review before it stands"
                )
            if aiscientist.reflection_done(output):
                done = True
                break
        return self._result(mode, removed, current, warnings, examples, meta, rounds, done)

    def _result(self, mode, removed, review, warnings, examples, meta, rounds, done) -> dict:
        options = self.options
        asked = None if mode == "standard" else mode
        first = self.first
        assert first is not None
        first.removed_instructions = removed
        first.mode_asked = asked
        result = review_engine.review_result(self.project, first, review)
        result["simulated"] = simulated.findings(self.project)
        result["warnings"] = [*self.cuts, *warnings, *result["warnings"]]
        result["complete"] = self.incomplete is None
        if self.incomplete is not None:
            result["incomplete"] = self.incomplete
        result["cached"] = all(step["cached"] for step in self.steps)
        result["generation"] = self.steps[-1]["generation"]
        samples = [s for s in self.steps if s["step"] == "sample"]
        result["aiscientist"] = {
            "ensemble": options.ensemble,
            "answers_read": sum(s["readable"] for s in samples),
            "meta_review": meta,
            "reflections": options.reflections,
            "reflections_run": rounds,
            "converged": done,
            "few_shot": [e.name for e in examples],
            "steps": [{k: v for k, v in s.items() if k != "generation"} for s in self.steps],
        }
        return result
