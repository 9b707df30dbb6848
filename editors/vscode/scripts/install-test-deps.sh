#!/usr/bin/env bash
# Everything the VS Code extension's tests need, none of it downloaded from outside the npm
# registry and Debian: Debian packages (Chromium for playwright-core, ripgrep for code-server,
# headers for code-server's native modules), the extension's npm dependencies (package-lock.json),
# and code-server 4.100.3 (VS Code 1.100.3, the newest that runs on node 20) into
# $PAPERCYCLE_CODE_SERVER_DIR (default: <repo>/.cache/code-server-4.100.3, ignored by git).
# Safe to run again: every step is skipped when its result is already there.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CODE_SERVER_VERSION=4.100.3
CS_DIR="${PAPERCYCLE_CODE_SERVER_DIR:-$REPO/.cache/code-server-$CODE_SERVER_VERSION}"
DEBS="chromium ripgrep libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config g++ make"

missing=""
for pkg in $DEBS; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
# shellcheck disable=SC2086
bash "$REPO/scripts/apt-install.sh" vscode-test-deps $missing

echo "== npm ci (editors/vscode)"
if [ ! -f "$HERE/node_modules/.package-lock.json" ] || [ "$HERE/package-lock.json" -nt "$HERE/node_modules/.package-lock.json" ]; then
    (cd "$HERE" && npm ci --no-audit --no-fund)
fi

if [ ! -x "$CS_DIR/node_modules/.bin/code-server" ]; then
    echo "== code-server $CODE_SERVER_VERSION into $CS_DIR"
    # @vscode/ripgrep downloads its binary from GitHub at install time: seed its cache with
    # Debian's ripgrep instead (the file name it looks for is fixed by its version).
    tmp="${TMPDIR:-/tmp}"
    cache="$tmp/vscode-ripgrep-cache-1.15.11"
    tarball="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
    if [ ! -f "$tarball" ]; then
        mkdir -p "$cache/stage"
        cp "$(command -v rg)" "$cache/stage/rg"
        tar -C "$cache/stage" -czf "$tarball" rg
        rm -rf "$cache/stage"
    fi
    mkdir -p "$CS_DIR"
    [ -f "$CS_DIR/package.json" ] || echo '{"name": "papercycle-code-server", "private": true}' > "$CS_DIR/package.json"
    (cd "$CS_DIR" && npm_config_unsafe_perm=true npm_config_yes=true \
        npm install --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION")
fi
"$CS_DIR/node_modules/.bin/code-server" --version | head -n 1
