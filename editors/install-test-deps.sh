#!/usr/bin/env bash
# What the editor tests (tests/editors/) need, installed only where missing (safe to run again):
# Debian's Neovim, Emacs + Eglot (+ AUCTeX), Chromium, and the npm packages of editors/web and
# editors/overleaf (then their builds)
# from the committed lockfile. Without a piece, its test is skipped with the reason.
set -euo pipefail
cd "$(dirname "$0")"

need=()
command -v nvim >/dev/null 2>&1 || need+=(neovim)
command -v emacs >/dev/null 2>&1 || need+=(emacs-nox)
if ! emacs --batch -q --eval '(kill-emacs (if (locate-library "eglot") 0 1))' >/dev/null 2>&1; then
    need+=(elpa-eglot)  # built into Emacs 29+; Debian 12's Emacs 28 needs the package
fi
if ! emacs --batch -q --eval '(kill-emacs (if (locate-library "tex-site") 0 1))' >/dev/null 2>&1; then
    need+=(auctex)  # the AUCTeX variant of the Emacs test
fi
command -v chromium >/dev/null 2>&1 || need+=(chromium)

bash ../scripts/apt-install.sh install-test-deps ${need[@]+"${need[@]}"} || [ $? -eq 3 ]

if command -v npm >/dev/null 2>&1; then
    for dir in web overleaf; do
        [ -f "$dir/package-lock.json" ] || continue
        # npm ci only when the lockfile changed since the last install
        if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
            (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        fi
        if grep -q '"build"' "$dir/package.json"; then
            (cd "$dir" && npm run --silent build)
        fi
    done
else
    echo "install-test-deps: npm not found: the browser editor tests will be skipped" >&2
fi
