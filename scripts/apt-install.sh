#!/usr/bin/env bash
# Install Debian packages for the test suite: `apt-install.sh WHO PACKAGE...` (WHO names the
# caller in messages). Installs with apt-get as root or through sudo, running `apt-get update`
# only when the first try fails. Exit status: 0 installed (or nothing to do), 3 when it cannot
# install here (no apt-get, not root and no sudo: the message says what to install; callers
# whose tests skip without the packages ignore it), apt-get's status when apt-get fails.
set -euo pipefail
who="$1"
shift
[ $# -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$who: no apt-get here; install $* yourself (the tests that need them skip)" >&2
    exit 3
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "$who: not root and no sudo; install $* yourself (the tests that need them skip)" >&2
        exit 3
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "$who: apt-get install $*"
$SUDO apt-get install -y --no-install-recommends "$@" || {
    $SUDO apt-get update && $SUDO apt-get install -y --no-install-recommends "$@"
}
