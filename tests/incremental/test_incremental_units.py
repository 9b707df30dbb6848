"""Units of the incremental machinery: content-keyed sections, the "changed enough" rule,
which files are watched, background work giving way to urgent work."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from incremental_helpers import ten_sections
from papercycle.daemon.config import ModelConfig
from papercycle.daemon.engine import incremental as inc
from papercycle.daemon.engine import review_units
from papercycle.daemon.models.backend import Generation
from papercycle.daemon.scheduler import PRIORITIES, Scheduler
from papercycle.daemon.watch import relevant
from papercycle.latex import Project
from waiting import eventually


def _units(tmp_path, text):
    (tmp_path / "main.tex").write_text(text)
    return Project.build(tmp_path / "main.tex")


def test_units_keyed_by_content_not_number(tmp_path):
    project = _units(tmp_path, ten_sections())
    before = review_units.units(project)
    assert [u.ident for u in before][:2] == ["section:Topic 0#0", "section:Topic 1#0"]
    assert not before[0].body.startswith("1 Topic")  # the heading number is not in it
    # moved: same keys, renumbered
    project.update(tmp_path / "main.tex", ten_sections(order=[9, *range(9)]))
    after = review_units.units(project)
    assert {u.key for u in after} == {u.key for u in before}
    change = inc.diff(before, after)
    assert change.to_review == [] and change.moved == ["section:Topic 9#0"]
    # the prompt of a moved section is the same: its cached review is found again
    model = ModelConfig(
        name="m",
        backend="http",
        url="u",
        api_model="a",
        structured=True,
        format="section",
        sampling={"max_tokens": 10},
    )
    key = {u.ident: inc.prepare_unit(project, model, u).key for u in after}
    project.update(tmp_path / "main.tex", ten_sections())
    again = {u.ident: inc.prepare_unit(project, model, u).key for u in review_units.units(project)}
    assert key == again


def test_subsections_are_their_own_units(tmp_path):
    text = ten_sections({2: "Intro of two.\n\\subsection{Detail}\nDetail text here."})
    project = _units(tmp_path, text)
    units = {u.ident: u for u in review_units.units(project)}
    assert "Detail text" not in units["section:Topic 2#0"].body
    assert "Detail text" in units["subsection:Detail#0"].body
    before = list(units.values())
    project.update(tmp_path / "main.tex", text.replace("Detail text here.", "Other detail."))
    change = inc.diff(before, review_units.units(project))
    assert [u.ident for u in change.changed] == ["subsection:Detail#0"]


def test_changed_enough(tmp_path):
    project = _units(tmp_path, ten_sections())
    base = {u.ident: u.body for u in review_units.units(project)}
    project.update(
        tmp_path / "main.tex",
        ten_sections(
            {
                4: "Section 4 studies topic number 4 in depth. We measure effect 4 on one small dataset only."
            }
        ),
    )
    share, structural = inc.changed_share(base, review_units.units(project))
    assert 0 < share < 0.05 and not structural
    assert not inc.needs_paper_review(base, review_units.units(project), 0.05)
    project.update(
        tmp_path / "main.tex",
        ten_sections(
            {
                4: "Completely new words replace all of it now, a long rewrite of this one section body."
            }
        ),
    )
    assert inc.needs_paper_review(base, review_units.units(project), 0.05)
    project.update(tmp_path / "main.tex", ten_sections(order=list(range(9))))
    assert inc.changed_share(base, review_units.units(project))[1]  # a section removed
    assert inc.needs_paper_review(None, [], 0.05)


def test_attention_order(tmp_path):
    project = _units(tmp_path, ten_sections())
    units = review_units.units(project)
    text = ten_sections()
    at = inc.unit_at(project, units, str(tmp_path / "main.tex"), text.index("topic number 6"))
    assert at is not None and at.ident == "section:Topic 6#0"
    order = inc.attention_order([units[1], units[6], units[8]], at.ident)
    assert [u.ident for u in order] == [
        "section:Topic 6#0",
        "section:Topic 1#0",
        "section:Topic 8#0",
    ]


def test_relevant_files():
    for name in ("main.tex", "refs.bib", "macros.sty", "acm.cls", "latexmkrc", ".papercycle.toml"):
        assert relevant(f"/p/{name}"), name
    for name in (
        "main.tex~",
        ".#main.tex",
        ".main.tex.swp",
        "4913",
        "main.pdf",
        "main.aux",
        "main.tex.tmp",
    ):
        assert not relevant(f"/p/{name}"), name
    assert not relevant("/p/.git/main.tex")


class _Backend:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.memory_bytes = 0
        self.n_ctx = 100

    def generate(self, prompt, messages, settings, grammar, on_token, cancel, on_event=None):
        self.calls.append(prompt)
        if prompt == "paper":
            # a long prompt: gives way as soon as something more urgent waits
            for _ in range(2000):
                if cancel.yield_now():
                    return Generation("", 10, 0, "yielded", 0.0, prompt_evaluated=5)
                import time

                time.sleep(0.001)
            return Generation("review", 10, 1, "stop", 0.0, prompt_evaluated=5)
        return Generation("ok", 1, 1, "stop", 0.0, prompt_evaluated=1)


async def test_background_gives_way_to_urgent_work():
    backend = _Backend()
    registry = SimpleNamespace(
        acquire=lambda model, on_event: SimpleNamespace(backend=backend),
        release=lambda entry: None,
    )
    scheduler = Scheduler(registry, 16)
    runner = asyncio.create_task(scheduler.run())
    model = SimpleNamespace(name="m", backend="llama")

    def request(prompt):
        return SimpleNamespace(
            key=prompt,
            prompt=prompt,
            messages=[],
            settings={},
            grammar=None,
            model=model,
            kind="paper",
            section=None,
        )

    try:
        paper = scheduler.submit(request("paper"), PRIORITIES["background"], "a", lambda *_: None)
        await eventually(
            lambda: backend.calls == ["paper"], "the paper generating", lambda: backend.calls
        )
        section = scheduler.submit(request("section"), PRIORITIES["save"], "b", lambda *_: None)
        done = await asyncio.wait_for(section.done, 30)
        assert done.text == "ok"
        result = await asyncio.wait_for(paper.done, 30)
        assert result.text == "review" and paper.yields == 1
        assert result.prompt_evaluated == 10  # before and after giving way
        assert backend.calls == ["paper", "section", "paper"]
    finally:
        scheduler.cancel_all("test over")
        runner.cancel()
        scheduler.shutdown()
