#!/bin/sh
# Runs node_client_test.mjs for ctest: installs the pinned npm packages (npm ci, from
# package-lock.json) into node_modules/ here when they are missing or older than the lock
# file, then runs the test with the given arguments (--sluiced PATH --protos DIR).
# Exits 77 — ctest reports the test as skipped — when node or npm is not installed.
set -eu
cd "$(dirname "$0")"
if ! command -v node >/dev/null 2>&1; then
  echo "SKIPPED: node is not installed (Debian: apt-get install nodejs npm)"
  exit 77
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "SKIPPED: npm is not installed, so @grpc/grpc-js cannot be installed (Debian: apt-get install npm)"
    exit 77
  fi
  npm ci --no-audit --no-fund
fi
exec node node_client_test.mjs "$@"
