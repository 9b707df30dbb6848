"""What the reader cannot see but a model reads: hidden-text findings of the rendered files,
instructions in the preamble (watermarks, PDF metadata) and in bibliography fields, each as a
`HiddenFinding` and a diagnostic."""

from __future__ import annotations

import re
from pathlib import Path

from papercycle.latex.bibliography import BibEntry, Bibliography
from papercycle.latex.diagnostics import Diagnostic
from papercycle.latex.document import Document
from papercycle.latex.hidden import SOURCE_ONLY_METHODS, HiddenFinding, hidden_severity
from papercycle.latex.injection import injection_matches, looks_like_injection
from papercycle.latex.positions import Range
from papercycle.latex.prose import Assembly

# a % that starts a comment (not \\%) before a position on the same line
_COMMENT_START = re.compile(r"(?:[^%\\\n]|\\.)*%")


def collect(
    asm: Assembly,
    files: list[Path],
    docs: dict[Path, Document],
    bibliography: Bibliography,
    bib_scan: dict[int, tuple[BibEntry, list[tuple[str, str]]]],
) -> list[HiddenFinding]:
    """Every finding: hidden text the renderer reported, instructions in the preamble, and
    instructions in bibliography fields (`bib_scan` caches the scan per entry)."""
    out: list[HiddenFinding] = []
    seen: set[tuple] = set()
    for path, f in asm.findings:
        k = (path, f.start, f.end, f.method)
        if k in seen:
            continue
        seen.add(k)
        injection = looks_like_injection(f.text)
        out.append(
            HiddenFinding(Range(path, f.start, f.end), f.method, f.detail, f.text, injection)
        )
    # the preamble is never prose, but watermarks (\\SetWatermarkText) and PDF metadata
    # (\\hypersetup{pdfsubject=...}) reach PDF-reading models: report instructions there
    for path in files:
        doc = docs.get(path)
        if doc is None or doc.begin_document is None:
            continue
        preamble = doc.text[: doc.begin_document]
        lines: dict[int, int] = {}
        typeset: set[int] = set()  # lines with a phrase outside a % comment
        for a, b in injection_matches(preamble):
            ls = preamble.rfind("\n", 0, a) + 1
            le = preamble.find("\n", b)
            lines[ls] = max(lines.get(ls, 0), len(preamble) if le < 0 else le)
            comment = _COMMENT_START.match(preamble, ls, a)
            if comment is None:
                typeset.add(ls)
        reported = [(h.range.start, h.range.end) for h in out if h.range.path == path]
        for ls, le in sorted(lines.items()):
            if any(a < le and ls < b for a, b in reported):
                continue  # already reported as hidden text (a white \\title, ...)
            line = preamble[ls:le]
            if ls not in typeset:
                finding = ("comment", "instruction-like text in a comment")
            else:
                finding = (
                    "preamble",
                    "instruction-like text in the preamble (watermark or PDF metadata): "
                    "never typeset as prose",
                )
            out.append(HiddenFinding(Range(path, ls, le), *finding, line.strip(), True))
    # bibliography fields reach models too (the reference list, the researcher's abstracts)
    for entry in bibliography.entries.values():
        cached = bib_scan.get(id(entry))
        if cached is None or cached[0] is not entry:
            hits = [
                (name, value)
                for name, value in entry.fields.items()
                if injection_matches(value, anywhere_only=True)
            ]
            cached = bib_scan[id(entry)] = (entry, hits)
        for name, value in cached[1]:
            out.append(
                HiddenFinding(
                    entry.range,
                    "bib-field",
                    f"instruction to an AI reviewer in the {name!r} field of {entry.key!r}",
                    " ".join(value.split()),
                    True,
                )
            )
    return out


def diagnostics(hidden: list[HiddenFinding]) -> list[Diagnostic]:
    out = []
    for h in hidden:
        sev = hidden_severity(h)
        what = "instructions to an AI reviewer" if h.injection else "text a reader cannot see"
        if h.method in SOURCE_ONLY_METHODS:
            what += ", only in the source (never typeset, never sent to a model)"
        preview = (h.text[:80] + "...") if len(h.text) > 80 else h.text
        out.append(
            Diagnostic(
                sev,
                "hidden-injection" if h.injection else "hidden-text",
                f"{what} ({h.detail})" + (f": {preview!r}" if preview else ""),
                h.range,
            )
        )
    return out
