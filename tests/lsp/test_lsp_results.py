"""The typed views of the daemon's results (lsp/results.py): fields read once at the edge, and
an answer with fields of the wrong type reads as absent fields, never an exception."""

from __future__ import annotations

from pathlib import Path

from papercycle.lsp.findings import from_result
from papercycle.lsp.results import (
    DraftResult,
    PaperEvent,
    ReviewResult,
    SectionsChanged,
    comments_event,
    versions_of,
)
from papercycle.lsp.reviews import ProjectReviews, notices


def test_a_section_result_reads_as_typed_fields_and_becomes_findings():
    wire = {
        "kind": "section",
        "model": "m",
        "section": {"name": "Section 2 Method", "range": {"path": "/p/a.tex", "start": 3}},
        "scores": {"clarity": 3, "soundness": "high"},
        "comments": [
            {
                "category": "evidence",
                "severity": "major",
                "text": "No evidence.",
                "quote": "It works.",
                "reviewer": True,
                "anchor": {
                    "method": "quote",
                    "range": {"path": "/p/a.tex", "start": 10, "end": 19},
                },
            },
            {"text": "unanchored", "anchor": {"range": {"path": "/p/a.tex", "start": "x"}}},
        ],
        "generation": {"tokens": 7, "finish": "length"},
    }
    result = ReviewResult.from_wire(wire)
    assert result.section_name == "Section 2 Method"
    assert result.scores == {"clarity": 3}  # a score that is not a number is left out
    first, second = result.comments
    assert (first.category, first.quote, first.method, first.reviewer) == (
        "evidence",
        "It works.",
        "quote",
        None,
    )
    assert second.range is None and second.category == "comment"
    (finding,) = from_result(result, {Path("/p/a.tex"): 5})
    assert (finding.start, finding.end, finding.base_version) == (10, 19, 5)
    assert finding.related[0][:3] == (Path("/p/a.tex"), 3, 0)
    (cut,) = notices(result, "the review of Method")
    assert "cut off after 7 tokens" in cut


def test_results_of_the_wrong_shape_read_as_empty():
    for wire in (None, [], "text", {"comments": "no", "section": 3, "scores": [1]}):
        result = ReviewResult.from_wire(wire)
        assert result.comments == [] and result.scores == {} and result.section is None
        assert from_result(result, {}) == []
    bad = {"text": 5, "range": {"path": "/a.tex", "start": 9, "end": 2}, "warnings": "w"}
    draft = DraftResult.from_wire(bad)
    assert (draft.text, draft.range, draft.warnings) == ("5", None, [])
    assert versions_of({"versions": {"/a.tex": "7", "/b.tex": 3}}) == {
        Path("/a.tex"): None,
        Path("/b.tex"): 3,
    }


def test_a_paper_review_summary_and_a_stale_comments_event():
    paper = PaperEvent.from_wire(
        {
            "reviewed_revision": 4,
            "result": {
                "kind": "paper",
                "scores": {"rating": 5.5},
                "decision": "Reject",
                "review": {"reports": [{"rating": {"value": 6}}, "not a report"]},
            },
        }
    )
    reviews = ProjectReviews(Path("/p/main.tex"), paper=paper.result)
    summary = reviews.summary()
    assert paper.reviewed_revision == 4 and summary is not None
    assert (summary["rating"], summary["decision"], summary["ratings"]) == (
        5.5,
        "Reject",
        [6, None],
    )

    stale = comments_event(
        {
            "section": {"id": "section:Method#0", "name": "Method"},
            "stale": True,
            "comments": [
                {"text": "kept", "anchor": {"method": "quote"}},
                {"text": "withheld", "anchor": {"method": "keywords"}},
            ],
        },
        "section model",
    )
    assert stale.stale and [c.text for c in stale.comments] == ["kept"]
    assert stale.section is not None and stale.section.id == "section:Method#0"
    changed = SectionsChanged.from_wire(
        {"origin": "disk", "added": [{"id": "a"}], "changed": ["junk", {"id": "b"}], "order": 1}
    )
    assert [s.id for s in changed.reviewed] == ["a", "b"] and changed.order == []
