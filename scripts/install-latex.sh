#!/usr/bin/env bash
# A LaTeX toolchain for the test that compiles what `papercycle draft --paper` writes (pdflatex,
# bibtex and the packages of its preamble: natbib, booktabs, xcolor, amsmath): Debian's
# texlive-latex-base and texlive-latex-recommended, without the recommended extras. Without
# them, tests/coauthor/test_coauthor_compile.py skips with the reason. Safe to run again.
set -euo pipefail
if command -v pdflatex >/dev/null 2>&1 && command -v bibtex >/dev/null 2>&1 \
    && kpsewhich booktabs.sty xcolor.sty natbib.sty >/dev/null 2>&1; then
    echo "LaTeX present: $(pdflatex --version | head -n 1)"
    exit 0
fi
bash "$(dirname "$0")/apt-install.sh" install-latex texlive-latex-base texlive-latex-recommended || [ $? -eq 3 ]
