"""What the server needs of the paper's structure, computed by the project model in a worker
thread (never in a request handler): headings with their ranges (code lens, hover, section
commands), the title and \\documentclass (scores hover), and hidden-text / bibliography
findings, simulated-result markers. Handlers only read the last immutable `Outline` snapshot.

The language server keeps this project model of its own (lsp/README.md "Choices"): the
library `papercycle.latex`, used through its public API, in-process."""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from papercycle.latex import Project, ProjectError
from papercycle.latex.simulated_markers import project_markers
from papercycle.lsp.findings import Finding, finding_key, from_project

log = logging.getLogger("papercycle.lsp")

REVIEWABLE = {"abstract", "part", "chapter", "section", "subsection", "subsubsection"}
_DOCCLASS = re.compile(r"\\documentclass\b")


@dataclass(frozen=True)
class Heading:
    kind: str
    title: str
    number: str | None
    name: str  # display name, as the daemon's section results carry it
    path: Path
    start: int  # the heading command
    end: int
    anchor: int  # an offset inside the heading's title (selects the section in the daemon)


@dataclass
class Outline:
    root_dir: Path
    root_path: Path
    files: list[Path]
    headings: list[Heading] = field(default_factory=list)
    title: Heading | None = None
    documentclass: tuple[Path, int, int] | None = None
    findings: list[Finding] = field(default_factory=list)
    texts: dict[Path, str] = field(default_factory=dict)  # the text each file had

    def heading_at(self, path: Path, offset: int) -> Heading | None:
        """The heading whose line holds `offset`."""
        text = self.texts.get(path, "")
        for h in self.headings:
            if h.path != path:
                continue
            line_start = text.rfind("\n", 0, h.start) + 1
            line_end = text.find("\n", h.end)
            line_end = len(text) if line_end == -1 else line_end
            if line_start <= offset <= line_end:
                return h
        return None

    def section_of(self, path: Path, offset: int) -> Heading | None:
        """The last reviewable heading at or before `offset` in `path`."""
        best = None
        for h in self.headings:
            if h.path == path and h.start <= offset and h.kind in REVIEWABLE:
                best = h
        return best


class Outlines:
    """One project model per root, updated in one worker thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="project")
        self._projects: dict[Path, Project] = {}  # root path -> its model
        self._root_of: dict[Path, Path] = {}  # file -> root path
        self.latest: dict[Path, Outline] = {}  # root path -> outline

    def for_path(self, path: Path) -> Outline | None:
        root = self._root_of.get(path)
        return None if root is None else self.latest.get(root)

    async def refresh(
        self,
        path: Path,
        buffers: dict[Path, str],
        versions: dict[Path, int | None],
        reload: bool = False,
    ) -> Outline | None:
        """`reload`: files changed on disk (outside the editor): read them again."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._refresh, path, buffers, versions, reload
        )

    def _refresh(
        self,
        path: Path,
        buffers: dict[Path, str],
        versions: dict[Path, int | None],
        reload: bool = False,
    ) -> Outline | None:
        root = self._root_of.get(path)
        project = self._projects.get(root) if root else None
        try:
            if project is None:
                project = Project.build(path)
                if path in buffers:
                    project.update(path, buffers[path])
            elif reload:
                project.reload()
        except ProjectError as error:
            log.info("no LaTeX project at %s: %s", path, error)
            return None
        for file, text in buffers.items():
            if file == path or file in project.files:
                project.update(file, text)
        root = Path(project.root_path)
        self._projects[root] = project
        for file in project.files:
            self._root_of[Path(file)] = root
        self._root_of[path] = root
        outline = snapshot(project, versions)
        self.latest[root] = outline
        return outline

    def forget(self, path: Path) -> None:
        """An editor closed `path`: its project reads it from disk again."""
        root = self._root_of.get(path)
        project = self._projects.get(root) if root else None
        if project is not None:
            self._executor.submit(project.update, path, None)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def snapshot(project: Project, versions: dict[Path, int | None]) -> Outline:
    files = [Path(f) for f in project.files]
    texts = {f: project.file_text(f) or "" for f in files}
    outline = Outline(Path(project.root_dir), Path(project.root_path), files, texts=texts)
    for node in project.structure.root.walk():
        if node.kind == "document" or node.range is None:
            continue
        anchor_range = node.title_range or node.range
        heading = Heading(
            node.kind,
            node.title,
            node.number,
            node.display_name(),
            Path(node.range.path),
            node.range.start,
            node.range.end,
            anchor_range.start,
        )
        if node.kind == "title":
            outline.title = heading
        elif node.kind in REVIEWABLE:
            outline.headings.append(heading)
    root_text = texts.get(outline.root_path, "")
    match = _DOCCLASS.search(root_text)
    if match:
        outline.documentclass = (outline.root_path, match.start(), match.end())
    outline.findings = from_project(project.diagnostics, versions) + simulated_findings(
        project, versions
    )
    return outline


def simulated_findings(project: Project, versions: dict[Path, int | None]) -> list[Finding]:
    """Simulated-result markers the co-author leaves in a draft (`\\papercyclesimulated{...}`,
    `% papercycle: simulated`): errors until the author replaces them with measured results."""
    out = []
    for marker in project_markers(project):
        path = Path(marker.path)
        message = (
            "simulated result: written by a model, not measured; replace it with a measured "
            "one, then remove the marker"
        )
        out.append(
            Finding(
                key=finding_key("simulated-results", f"{marker.kind}:{marker.text}"),
                origin="project",
                category="simulated-results",
                severity="error",
                message=message,
                path=path,
                start=marker.offset,
                end=marker.offset + len(marker.text),
                base_version=versions.get(path),
            )
        )
    return out
