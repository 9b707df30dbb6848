"""Co-author fixtures: a daemon home whose config has a researcher, a grader and a DeepReviewer
model (all the tiny random-weight GGUF, `structured`: grammars force the layouts), and a
small paper with a .bib."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from daemon_helpers import serve_home
from home_helpers import model_entry

PAPER = r"""\documentclass{article}
\usepackage{xcolor}
\usepackage{natbib}
\title{Sparse Routing for Small Models}
\begin{document}
\maketitle
\begin{abstract}
We route tokens through a sparse set of experts and train faster.
\end{abstract}
\section{Introduction}
Routing tokens sparsely reduces compute \citep{shazeer2017outrageously}.

Mixture of experts layers scale models cheaply.
\section{Related Work}
% notes: mixture of experts, sparse attention
\section{Method}
Each token picks one expert by a learned gate.
\section{Experiments}
\section{Conclusion}
\bibliographystyle{plainnat}
\bibliography{refs}
\end{document}
"""
BIB = r"""@article{shazeer2017outrageously,
  title = {Outrageously Large Neural Networks: The Sparsely-Gated Mixture-of-Experts Layer},
  author = {Shazeer, Noam and others},
  year = {2017},
  abstract = {We introduce a sparsely-gated mixture of experts layer with thousands of experts and a trainable gating network.}
}

@article{fedus2022switch,
  title = {Switch Transformers: Scaling to Trillion Parameter Models with Simple and Efficient Sparsity},
  author = {Fedus, William and Zoph, Barret and Shazeer, Noam},
  year = {2022},
  abstract = {Switch routing sends each token to a single expert, which simplifies mixture of experts routing and reduces communication.}
}

@article{child2019sparse,
  title = {Generating Long Sequences with Sparse Transformers},
  author = {Child, Rewon and others},
  year = {2019},
  abstract = {Sparse factorizations of the attention matrix reduce the cost of attention.}
}
"""


def models(gguf: Path, max_tokens: int) -> str:
    return "".join(
        model_entry(gguf, name, fmt, tokens, role)
        for name, role, fmt, tokens in (
            ("researcher", "researcher", "section", max_tokens),
            ("grader", "grader", "section", 400),
            ("deep", "reviewer", "deepreviewer", 620),
            ("writer", "researcher", "section", 1000),  # a whole paper: draft --paper
        )
    )


@pytest.fixture(scope="module")
def coauthor_home(tiny_gguf):
    root = Path(tempfile.mkdtemp(prefix="pc-co-"))
    (root / "config").mkdir()
    (root / "config" / "config.toml").write_text(models(tiny_gguf, 80))
    yield from serve_home(root)


@pytest.fixture
def small_paper(tmp_path) -> Path:
    base = tmp_path / "paper"
    base.mkdir()
    (base / "main.tex").write_text(PAPER)
    (base / "refs.bib").write_text(BIB)
    return base / "main.tex"
