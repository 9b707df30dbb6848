#!/usr/bin/env bash
# Editors the language server's headless tests drive: Debian's Neovim (0.7.2 on Debian 12).
# Without it, tests/lsp/test_lsp_neovim.py is skipped with a reason. Safe to run again.
set -euo pipefail
if command -v nvim >/dev/null 2>&1; then
    echo "nvim present: $(nvim --version | head -n 1)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-editors: no apt-get here; install Neovim >= 0.7 yourself (the test skips without it)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-editors: not root and no sudo; skipping (the Neovim test will be skipped)" >&2
        exit 0
    fi
fi
$SUDO apt-get install -y --no-install-recommends neovim || {
    $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends neovim
}
nvim --version | head -n 1
