#!/usr/bin/env bash
# The container checks CI runs after ./test.sh: builds the image from the unchanged
# Dockerfile, smoke-tests it (version, start, health, graceful stop) and runs the compose
# stack until its checker sees Prometheus scrape records from sluiced.
#
# Needs root and podman; on a build machine without a registry, the workplace's
# prepare-containers tool (in ../shared/tools, beside the repository) installs podman and
# makes debian:bookworm-slim locally. Set SLUICE_SKIP_CONTAINERS=1 to skip.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SLUICE_SKIP_CONTAINERS:-0}" == 1 ]]; then
  echo "container checks skipped (SLUICE_SKIP_CONTAINERS=1)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "container checks skipped: they need root (rootful podman)"
  exit 0
fi
prepare=../shared/tools/prepare-containers
if [[ -f "$prepare" ]]; then
  bash "$prepare"
fi
# crun refuses hosts with hybrid cgroups (v1 controllers beside v2); runc runs there.
if ! command -v runc >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc >/dev/null
fi
conf=$(mktemp)
if [[ -f /etc/containers/containers.conf ]]; then cat /etc/containers/containers.conf >"$conf"; fi
printf '\n[engine]\nruntime = "runc"\n' >>"$conf"
export CONTAINERS_CONF="$conf"

image=localhost/sluice:latest
name="sluice-smoke-$$"
project="sluice-ci-$$"
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman-compose -p "$project" down -v >/dev/null 2>&1 || true
  rm -f "$conf"
}
trap cleanup EXIT

echo "== podman build"
# The docker format keeps HEALTHCHECK (the OCI image format has no place for it).
podman build --format docker --pull=never -t "$image" .

echo "== smoke: version"
podman run --rm "$image" --version | grep -q '^sluiced '

echo "== smoke: start, health, stop"
podman run -d --name "$name" "$image" >/dev/null
healthy=0
for _ in $(seq 1 60); do
  if podman healthcheck run "$name" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 1
done
if [[ $healthy -ne 1 ]]; then
  podman logs "$name" >&2
  echo "the container never became healthy" >&2
  exit 1
fi
podman exec "$name" sluice send --level info --logger smoke --message "hello from the smoke test" | grep -q "accepted 1"
podman stop -t 40 "$name" >/dev/null
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
if [[ "$exit_code" != 0 ]]; then
  podman logs "$name" >&2
  echo "sluiced exited with $exit_code on SIGTERM, expected 0" >&2
  exit 1
fi
podman logs "$name" 2>&1 | grep -q "sluiced: stopped"

echo "== compose: sluiced (TLS, admin token) + producer + prometheus + checker"
deploy/compose/make-demo-secrets.sh
podman-compose -p "$project" up --build --abort-on-container-exit --exit-code-from checker
echo "container checks passed"
