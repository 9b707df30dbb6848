"""Benchmark the LaTeX project model: full build of a large generated project (60 files,
~300 KB of text, 300 citations) and an incremental update after editing one file.

    .venv/bin/python bench/project_model.py [--repeat N] [--out bench/results/project_model.json]

Targets (issue 4): full build <= 300 ms, incremental update <= 30 ms on the dev machine.
Wall-clock medians are reported with CPU-time medians and the load average: on a shared,
loaded machine the wall clock can be twice the CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORDS = [
    "model",
    "training",
    "data",
    "loss",
    "results",
    "method",
    "baseline",
    "gradient",
    "network",
    "layer",
    "attention",
    "performance",
    "dataset",
    "learning",
    "validation",
    "we",
    "show",
    "that",
    "our",
    "approach",
    "improves",
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "with",
    "on",
    "is",
    "are",
    "this",
    "these",
    "evaluation",
    "experiments",
    "accuracy",
    "robust",
    "efficient",
]


def generate(
    base: Path, n_files: int = 60, target_bytes: int = 300_000, n_cites: int = 300, seed: int = 0
) -> Path:
    rng = random.Random(seed)
    # prose with a realistic vocabulary: frequent function words plus a long tail of rarer ones
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zen", "pra", "sti", "qua", "der"]
    rare = sorted(
        {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(4000)}
    )

    def word() -> str:
        return rng.choice(WORDS) if rng.random() < 0.6 else rng.choice(rare)

    keys = [f"ref{i:03d}" for i in range(n_cites)]
    bib = "\n".join(
        f"@article{{{k},\n  title = {{Paper number {i} on {rng.choice(WORDS)} {rng.choice(WORDS)}}},\n"
        f"  author = {{Author, A{i} and Other, B}},\n  journal = {{Journal {i % 17}}},\n"
        f"  year = {{{1990 + i % 35}}},\n  abstract = {{An abstract for entry {i}.}}\n}}\n"
        for i, k in enumerate(keys)
    )
    (base / "refs.bib").write_text(bib)
    n_sections = n_files - 1
    per_file = target_bytes // n_sections
    cite_iter = iter(keys * 2)
    cites_per_file = -(-n_cites // n_sections)
    cites_done = [0]
    names = []
    for s in range(n_sections):
        parts = [f"\\section{{Section {s} about {rng.choice(WORDS)}}}\\label{{sec:{s}}}\n"]
        size = 0
        para = 0
        cites_left = cites_per_file
        while size < per_file:
            para += 1
            words = " ".join(word() for _ in range(70))
            extra = ""
            if cites_left > 0 and cites_done[0] < n_cites:
                cites_done[0] += 1
                extra += f" \\citep{{{next(cite_iter)}}}"
                cites_left -= 1
            if para % 4 == 0:
                extra += (
                    f" as in Section~\\ref{{sec:{rng.randrange(n_sections)}}} and $x_{{{para}}}^2$"
                )
            if para % 5 == 0:
                extra += " \\emph{emphasised} and \\textbf{bold} % a comment\n"
            text = f"{words}{extra}.\n\n"
            if para % 6 == 0:
                text += (
                    f"\\begin{{equation}}\n  f_{{{para}}}(x) = \\sum_i w_i x_i \\label{{eq:{s}-{para}}}\n"
                    "\\end{equation}\n"
                )
            if para % 9 == 0:
                text += (
                    f"\\begin{{figure}}[t]\\centering\\includegraphics{{fig{s}-{para}.png}}\n"
                    f"\\caption{{Figure {s}.{para}: {words[:60]}}}\\label{{fig:{s}-{para}}}\n\\end{{figure}}\n"
                )
            if para % 7 == 0:
                text += f"\\subsection{{Part {para}}}\n"
            parts.append(text)
            size += len(text)
        name = f"sections/s{s:02d}.tex"
        (base / name).parent.mkdir(exist_ok=True)
        (base / name).write_text("".join(parts))
        names.append(name)
    main = (
        "\\documentclass{article}\n\\usepackage{amsmath,graphicx,xcolor}\n"
        "\\newcommand{\\method}{BenchNet}\n\\title{A Large Benchmark Paper}\n\\begin{document}\n"
        "\\maketitle\n\\begin{abstract}We benchmark \\method{}.\\end{abstract}\n"
        + "".join(f"\\input{{{n.removesuffix('.tex')}}}\n" for n in names)
        + "\\bibliographystyle{plain}\n\\bibliography{refs}\n\\end{document}\n"
    )
    (base / "main.tex").write_text(main)
    return base


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "project_model.json"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    from papercycle.latex import Project

    import_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        base = generate(Path(tmp))
        tex_files = sorted(base.rglob("*.tex"))
        tex_bytes = sum(p.stat().st_size for p in tex_files)
        # warm-up: first use loads pylatexenc's symbol tables and bibtexparser
        Project.build(base)
        full, full_cpu = [], []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            p = Project.build(base)
            full.append(time.perf_counter() - t)
            full_cpu.append(time.process_time() - c)
        n_cites = len(p.structure.citations)
        edited = base / "sections" / "s30.tex"
        original = edited.read_text()
        incr, incr_cpu = [], []
        for i in range(args.repeat):
            text = original.replace("model", f"model{i}", 3) + f"\nAn added sentence number {i}.\n"
            t, c = time.perf_counter(), time.process_time()
            p.update(edited, text)
            incr.append(time.perf_counter() - t)
            incr_cpu.append(time.process_time() - c)
            assert f"An added sentence number {i}." in p.visible.text
        q = "An added sentence number"
        t = time.perf_counter()
        match = p.find_quote(q)
        quote_exact_s = time.perf_counter() - t
        text = p.visible.text
        fuzzy_quotes = []
        for k in range(20_000, 300_000, 40_000):
            words = text[k : k + 300].split()[2:26]
            del words[5]  # a reviewer's paraphrase: a word dropped, a typo, two words swapped
            words[3] = words[3][:-1] + "x"
            words[8], words[9] = words[9], words[8]
            fuzzy_quotes.append(" ".join(words))
        t = time.perf_counter()
        first = p.find_quote(fuzzy_quotes[0])  # builds the normalized index (numpy) once
        quote_first_s = time.perf_counter() - t
        fuzzy_times = []
        found = [first is not None]
        for fq in fuzzy_quotes[1:]:
            t = time.perf_counter()
            found.append(p.find_quote(fq) is not None)
            fuzzy_times.append(time.perf_counter() - t)
        result = {
            "machine": {
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
            },
            "project": {
                "tex_files": len(tex_files),
                "tex_bytes": tex_bytes,
                "citations": n_cites,
                "bib_entries": len(p.bibliography.entries),
                "visible_chars": len(p.visible.text),
                "sections": len(p.structure.sections()),
                "source_map_segments": len(p.visible.source_map),
            },
            "import_s": round(import_s, 4),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
            "full_build_ms": {
                "median": round(statistics.median(full) * 1000, 1),
                "cpu_median": round(statistics.median(full_cpu) * 1000, 1),
                "min": round(min(full) * 1000, 1),
                "max": round(max(full) * 1000, 1),
                "target": 300,
            },
            "incremental_update_ms": {
                "median": round(statistics.median(incr) * 1000, 1),
                "cpu_median": round(statistics.median(incr_cpu) * 1000, 1),
                "min": round(min(incr) * 1000, 1),
                "max": round(max(incr) * 1000, 1),
                "target": 30,
            },
            "find_quote_exact_ms": round(quote_exact_s * 1000, 2),
            "find_quote_first_fuzzy_ms": round(quote_first_s * 1000, 2),
            "find_quote_fuzzy_ms": round(statistics.median(fuzzy_times) * 1000, 2),
            "fuzzy_quotes_found": f"{sum(found)}/{len(found)}",
            "exact_quote_found": match is not None,
            "repeat": args.repeat,
        }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
