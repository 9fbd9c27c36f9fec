#!/bin/sh
# Runs a page the board serves in headless Chromium for ctest: test_webrepl.js (WebREPL), or
# the script named first (test_portal.js: the set-up page), with the playwright-core that
# hookd's browser test installs (tests/hookd/browser/package-lock.json). SIMBOARD names the
# simboard binary (and HOOKD hookd's, for test_portal.js).
set -e
here=$(cd "$(dirname "$0")" && pwd)
pw="$here/../../hookd/browser"
if [ ! -x /usr/bin/chromium ]; then
    echo "run.sh: /usr/bin/chromium is missing: install it (scripts/deps.sh installs it)" >&2
    exit 1
fi
if [ ! -d "$pw/node_modules/playwright-core" ]; then
    if ! command -v npm >/dev/null; then
        echo "run.sh: npm is missing (Debian: apt-get install npm) to install playwright-core" >&2
        exit 1
    fi
    (cd "$pw" && npm ci --no-audit --no-fund --loglevel=error)
fi
script=test_webrepl.js
case "${1:-}" in *.js) script=$1; shift ;; esac
NODE_PATH="$pw/node_modules" exec node "$here/$script" "$@"
