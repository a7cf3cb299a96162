#!/usr/bin/env bash
# Regenerates the seed corpus of the fuzz targets in tests/fuzz/corpus/: serialized
# messages written here in protobuf text format (encoded with protoc against the repo's
# protos) and a few YAML configs from deploy/ and docs/. The output is committed; run this
# again only when the seeds or the protos change. Usage: tests/fuzz/make_corpus.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/fuzz/corpus
protos=protos

# seed <target> <name> <message type> <proto file>, text format on stdin.
seed() {
  mkdir -p "$out/$1"
  protoc --proto_path="$protos" --encode="$3" "$4" >"$out/$1/$2"
}

native() { seed native_request "$1" sluice.v1.LogBatch sluice/v1/logs.proto; }
otlp() {
  seed otlp_request "$1" opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest \
    opentelemetry/proto/collector/logs/v1/logs_service.proto
}

rm -rf "$out/native_request" "$out/otlp_request" "$out/config"

native two_records <<'EOF'
sequence: 1
records { time_unix_nano: 1795000000123456789 level: LEVEL_INFO logger: "checkout.db"
  message: "order placed" fields { key: "order" int_value: 42 }
  fields { key: "user" string_value: "ada lovelace" } }
records { level: LEVEL_ERROR logger: "payments" message: "card declined"
  fields { key: "ok" bool_value: false } fields { key: "amount" double_value: 12.5 } }
EOF
native every_field_type <<'EOF'
sequence: 7
records { time_unix_nano: 1 level: LEVEL_WARN logger: "a" message: "typed"
  fields { key: "s" string_value: "x=y \"quoted\" back\\slash" } fields { key: "i" int_value: -9223372036854775808 }
  fields { key: "d" double_value: nan } fields { key: "inf" double_value: -inf }
  fields { key: "b" bool_value: true } fields { key: "raw" bytes_value: "\000\377\001" }
  fields { key: "empty" string_value: "" } fields { key: "novalue" }
  trace_id: "\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020"
  span_id: "\001\002\003\004\005\006\007\010" }
EOF
native overrides_and_record_keys <<'EOF'
records { level: LEVEL_DEBUG logger: "checkout" message: "filtered by the checkout rule" }
records { level: LEVEL_FATAL logger: "checkout.db" message: "kept"
  fields { key: "env" string_value: "prod" } fields { key: "message" string_value: "shadow" }
  fields { key: "trace_id" string_value: "forged" } fields { key: "env" string_value: "last" }
  trace_id: "\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020" }
EOF
native rejected <<'EOF'
records { level: 42 message: "invalid level" }
records { level: LEVEL_INFO message: "short trace id" trace_id: "\001\002" }
records { level: LEVEL_INFO message: "short span id" span_id: "\001" }
records { level: LEVEL_TRACE message: "control\n\r\t\001 chars and \303\251 UTF-8" logger: "" }
EOF
native empty_batch <<'EOF'
sequence: 18446744073709551615
EOF

otlp resource_scope_record <<'EOF'
resource_logs {
  resource { attributes { key: "service.name" value { string_value: "checkout" } }
             attributes { key: "host" value { string_value: "web-1" } } }
  scope_logs {
    scope { name: "checkout.db" version: "1.0" attributes { key: "host" value { string_value: "scope" } } }
    log_records { time_unix_nano: 1795000000000000000 severity_number: SEVERITY_NUMBER_WARN
      body { string_value: "slow query" }
      attributes { key: "ms" value { int_value: 1200 } } attributes { key: "host" value { string_value: "record" } }
      trace_id: "\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020"
      span_id: "\001\002\003\004\005\006\007\010" }
  }
}
EOF
otlp structured_bodies <<'EOF'
resource_logs { scope_logs { log_records {
  observed_time_unix_nano: 5 severity_text: "warning"
  body { kvlist_value { values { key: "a" value { array_value { values { int_value: 1 } values { double_value: nan }
    values { bytes_value: "\377\000" } values { bool_value: true } values { } } } }
    values { key: "a" value { kvlist_value { } } } } }
  attributes { key: "list" value { array_value { values { string_value: "x\"y" } } } }
  attributes { key: "" value { string_value: "empty key is skipped" } }
  attributes { key: "novalue" }
} } }
EOF
otlp severities <<'EOF'
resource_logs { scope_logs { scope { name: "levels" }
  log_records { severity_number: SEVERITY_NUMBER_TRACE2 body { string_value: "t" } }
  log_records { severity_number: SEVERITY_NUMBER_DEBUG body { double_value: inf } }
  log_records { severity_number: SEVERITY_NUMBER_FATAL4 body { bytes_value: "abc" } }
  log_records { severity_number: 25 body { string_value: "out of range" } }
  log_records { severity_text: "ERROR" }
} }
EOF
otlp empty_request <<'EOF'
resource_logs { }
EOF

mkdir -p "$out/config"
cp deploy/sluiced.yaml "$out/config/deploy_sluiced.yaml"
# The YAML examples of docs/CONFIG.md, one file each.
awk -v dir="$out/config" '/^```yaml/ { n++; f = 1; next } /^```/ { f = 0 }
  f { print > (dir "/docs_config_" n ".yaml") }' docs/CONFIG.md
cat >"$out/config/forward_and_null.yaml" <<'EOF'
scheduler: { workers: 2, overflow: drop_oldest, dispatch: stream_affinity }
outputs:
  - { type: forward, name: next, target: "dns:///sluice-aggregator:4317", load_balancing_policy: round_robin,
      batches_per_stream: 1000, max_buffered_records: 5000, max_batch_records: 500, max_batch_delay: 10ms }
  - { type: "null", level: error }
EOF
cat >"$out/config/bad_keys.yaml" <<'EOF'
ingest: { max_batch_records: 0, max_batch_delay: 5 }
schedular: { workers: 4 }
outputs:
  - { type: file, name: main }
  - { type: console, format: xml, unknown: 1 }
EOF
cat >"$out/config/anchors_and_flow.yaml" <<'EOF'
pipeline:
  base_fields: &base { env: prod, region: "eu-west-1", message: shadowed }
  time_key: ts
levels: { default: warn, rules: { checkout: debug, "checkout.db": error } }
outputs:
  - &out { type: console, name: a, level: info, format: json }
  - { <<: *out, name: b, stream: stderr }
shutdown: { drain_timeout: 1m }
EOF
printf '' >"$out/config/empty.yaml"
