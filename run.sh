#!/usr/bin/env bash
# The run command: installs missing Debian packages, builds, and starts sluiced with the
# default config (deploy/sluiced.yaml). Extra arguments go to sluiced, e.g.
#   ./run.sh --ingest_listen 127.0.0.1:0
set -euo pipefail
cd "$(dirname "$0")"
deploy/install-deps.sh deploy/debian-packages.txt
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLUICE_BUILD_TESTS=OFF >/dev/null
cmake --build build -j2 --target sluiced sluice
echo "sluiced and sluice are in build/bin. In a second shell: export PATH=\"$PWD/build/bin:\$PATH\"; sluice --help"
exec build/bin/sluiced --config deploy/sluiced.yaml "$@"
