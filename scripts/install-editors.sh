#!/usr/bin/env bash
# Editors the language server's headless tests drive, from Debian: Neovim (0.7.2 on Debian 12)
# and Emacs with Eglot (emacs-nox 28.2 + elpa-eglot 1.9). Without them, tests/lsp/
# test_lsp_neovim.py and test_lsp_emacs.py are skipped with a reason. Safe to run again.
set -euo pipefail
missing=()
command -v nvim >/dev/null 2>&1 || missing+=(neovim)
command -v emacs >/dev/null 2>&1 || missing+=(emacs-nox)
ls -d /usr/share/emacs/site-lisp/elpa*/eglot-* >/dev/null 2>&1 || missing+=(elpa-eglot)
if [ ${#missing[@]} -eq 0 ]; then
    echo "editors present: $(nvim --version | head -n 1); $(emacs --version | head -n 1); eglot"
    exit 0
fi
bash "$(dirname "$0")/apt-install.sh" install-editors "${missing[@]}" || [ $? -eq 3 ]
