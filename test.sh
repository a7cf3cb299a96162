#!/usr/bin/env bash
# The test command: installs missing Debian packages, builds everything with warnings as
# errors, and runs the whole test suite through ctest. .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh deploy/debian-packages.txt deploy/debian-test-packages.txt
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_WERROR=ON >/dev/null
cmake --build build-test -j2
ctest --test-dir build-test --output-on-failure -j2 --timeout 600 "$@"
