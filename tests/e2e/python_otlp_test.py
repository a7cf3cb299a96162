#!/usr/bin/python3
"""OTLP into Sluice: a Python OpenTelemetry-style exporter against the real sluiced.

Builds opentelemetry.proto.collector.logs.v1.LogsService/Export requests from the
repository's wire-compatible OTLP protos (stubs generated at test time), sends them to the
ingest port of a sluiced started by python_client_test.Sluiced, shuts the server down and
checks the records in its JSON file output: level, logger, message and fields mapped as
server/ingest/otlp_mapping.h documents, and invalid records reported in partial_success.

Run by ctest with Debian's interpreter (python3-grpcio, python3-protobuf):
    /usr/bin/python3 python_otlp_test.py --sluiced build/bin/sluiced --protos protos
Exits non-zero when a test fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import python_client_test as sluice_e2e

OTLP_PROTOS = [
    "opentelemetry/proto/common/v1/common.proto",
    "opentelemetry/proto/resource/v1/resource.proto",
    "opentelemetry/proto/logs/v1/logs.proto",
    "opentelemetry/proto/collector/logs/v1/logs_service.proto",
]


def generate_otlp_stubs(out_dir):
    """Compiles the OTLP subset into out_dir (next to Sluice's own stubs) and imports it."""
    subprocess.run(
        [
            "/usr/bin/protoc", "-I", sluice_e2e.PROTOS, "--python_out=" + out_dir,
            "--grpc_out=" + out_dir, "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
        ] + OTLP_PROTOS,
        check=True)
    global common_pb2, resource_pb2, otlp_logs_pb2, logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2 as otlp_logs_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2


def attribute(key, **value):
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(**value))


def file_records(server):
    """Every JSON line of the file output, in file order."""
    with open(server.records_path) as records:
        return [json.loads(line) for line in records]


class PythonOtlpTest(unittest.TestCase):

    def setUp(self):
        self.server = sluice_e2e.Sluiced()
        self.addCleanup(self.server.close)
        self.otlp = logs_service_pb2_grpc.LogsServiceStub(self.server.ingest)
        self.admin = sluice_e2e.admin_pb2_grpc.AdminServiceStub(self.server.admin)

    def shutdown(self):
        response = self.admin.Shutdown(
            sluice_e2e.admin_pb2.ShutdownRequest(timeout_ms=30000),
            timeout=sluice_e2e.CALL_TIMEOUT_SECONDS)
        self.assertTrue(response.drain.completed)
        self.assertEqual(
            self.server.process.wait(timeout=sluice_e2e.AWAIT_SECONDS), 0, self.server.stderr())
        return response.drain.counts

    def export(self, resource_logs):
        return self.otlp.Export(
            logs_service_pb2.ExportLogsServiceRequest(resource_logs=resource_logs),
            timeout=sluice_e2e.CALL_TIMEOUT_SECONDS)

    def test_export_records_reach_the_file_mapped(self):
        body = common_pb2.AnyValue(kvlist_value=common_pb2.KeyValueList(values=[
            attribute("sku", string_value="A-7"),
            attribute("qty", int_value=2),
        ]))
        records = [
            otlp_logs_pb2.LogRecord(
                time_unix_nano=1700000000123456000,
                severity_number=otlp_logs_pb2.SEVERITY_NUMBER_WARN2,
                body=common_pb2.AnyValue(string_value="slow payment"),
                attributes=[attribute("order", int_value=42), attribute("env", string_value="qa")],
                trace_id=bytes(range(16)), span_id=bytes(range(8))),
            otlp_logs_pb2.LogRecord(
                severity_number=otlp_logs_pb2.SEVERITY_NUMBER_ERROR, body=body),
            otlp_logs_pb2.LogRecord(severity_text="debug", body=common_pb2.AnyValue(
                string_value="from text")),
        ]
        resource_logs = [otlp_logs_pb2.ResourceLogs(
            resource=resource_pb2.Resource(attributes=[
                attribute("service.name", string_value="shop"),
                attribute("env", string_value="prod"),
            ]),
            scope_logs=[otlp_logs_pb2.ScopeLogs(
                scope=common_pb2.InstrumentationScope(name="checkout.payments"),
                log_records=records)],
        )]
        response = self.export(resource_logs)
        self.assertEqual(response.partial_success.rejected_log_records, 0)

        counts = self.shutdown()
        self.assertEqual(counts.received, 3)
        self.assertEqual(counts.written, 2)  # DEBUG is below the default INFO threshold
        self.assertEqual(counts.filtered, 1)
        lines = file_records(self.server)
        self.assertEqual(len(lines), 2, lines)
        warn, error = lines
        self.assertEqual(warn["level"], "WARN")
        self.assertEqual(warn["logger"], "checkout.payments")
        self.assertEqual(warn["message"], "slow payment")
        self.assertEqual(warn["time"], "2023-11-14T22:13:20.123456Z")
        self.assertEqual(warn["trace_id"], bytes(range(16)).hex())
        self.assertEqual(warn["span_id"], bytes(range(8)).hex())
        self.assertEqual(warn["service.name"], "shop")
        self.assertEqual(warn["env"], "qa")  # the record's attribute wins over the resource's
        self.assertEqual(warn["order"], 42)
        self.assertEqual(error["level"], "ERROR")
        self.assertEqual(json.loads(error["message"]), {"sku": "A-7", "qty": 2})
        self.assertEqual(error["env"], "prod")

    def test_invalid_severity_is_reported_in_partial_success(self):
        records = [
            otlp_logs_pb2.LogRecord(
                severity_number=otlp_logs_pb2.SEVERITY_NUMBER_INFO,
                body=common_pb2.AnyValue(string_value="kept")),
            otlp_logs_pb2.LogRecord(
                severity_number=99, body=common_pb2.AnyValue(string_value="bad severity")),
        ]
        response = self.export([otlp_logs_pb2.ResourceLogs(
            scope_logs=[otlp_logs_pb2.ScopeLogs(log_records=records)])])
        self.assertEqual(response.partial_success.rejected_log_records, 1)
        self.assertIn("level: 99", response.partial_success.error_message)

        counts = self.shutdown()
        self.assertEqual((counts.received, counts.rejected, counts.written), (2, 1, 1))
        self.assertEqual([line["message"] for line in file_records(self.server)], ["kept"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sluiced", required=True, help="path of the sluiced binary")
    parser.add_argument("--protos", required=True, help="the repository's protos/ directory")
    args, unittest_args = parser.parse_known_args()
    sluice_e2e.SLUICED = os.path.abspath(args.sluiced)
    sluice_e2e.PROTOS = os.path.abspath(args.protos)
    stubs = tempfile.mkdtemp(prefix="sluice-e2e-otlp-stubs-")
    try:
        sluice_e2e.generate_stubs(stubs)
        generate_otlp_stubs(stubs)
        program = unittest.main(argv=[sys.argv[0]] + unittest_args, exit=False, verbosity=2)
    finally:
        shutil.rmtree(stubs, ignore_errors=True)
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
