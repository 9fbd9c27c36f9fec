#!/bin/sh
# Runs test_web.js (hookd's web page in headless Chromium) for ctest: installs playwright-core
# from package-lock.json first when node_modules is missing. HOOKD names the hookd binary.
set -e
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
    echo "run.sh: /usr/bin/chromium is missing: install it (scripts/deps.sh installs it)" >&2
    exit 1
fi
if [ ! -d node_modules/playwright-core ]; then
    if ! command -v npm >/dev/null; then
        echo "run.sh: npm is missing (Debian: apt-get install npm) to install playwright-core" >&2
        exit 1
    fi
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node test_web.js "$@"
