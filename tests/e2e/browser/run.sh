#!/bin/sh
# Runs test_webrepl.js (the board's WebREPL page in headless Chromium) for ctest, with the
# playwright-core that hookd's browser test installs (tests/hookd/browser/package-lock.json).
# SIMBOARD names the simboard binary.
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
NODE_PATH="$pw/node_modules" exec node "$here/test_webrepl.js" "$@"
