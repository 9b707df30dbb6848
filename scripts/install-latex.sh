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
packages=(texlive-latex-base texlive-latex-recommended)
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-latex: no apt-get here; install ${packages[*]} yourself (the compile test skips without them)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-latex: not root and no sudo; ${packages[*]} not installed (the compile test skips)" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends "${packages[@]}" || {
    $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "${packages[@]}"
}
echo "installed: ${packages[*]}"
