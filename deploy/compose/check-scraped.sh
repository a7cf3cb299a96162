#!/bin/sh
# The compose stack's checker: exits 0 once Prometheus has scraped a non-zero
# sluice_ingest_records_received_total from sluiced, 1 after two minutes without.
query='sum(sluice_ingest_records_received_total)'
for attempt in $(seq 1 60); do
  body=$(curl -fsS "http://prometheus:9090/api/v1/query" --data-urlencode "query=${query}" 2>/dev/null || true)
  value=$(printf '%s' "$body" | sed -n 's/.*"value":\[[^,]*,"\([0-9.e+]*\)"\].*/\1/p')
  if [ -n "$value" ] && [ "$value" != "0" ]; then
    echo "checker: Prometheus sees ${value} records received by sluiced"
    exit 0
  fi
  sleep 2
done
echo "checker: Prometheus never saw sluice_ingest_records_received_total > 0" >&2
exit 1
