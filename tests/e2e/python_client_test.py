#!/usr/bin/python3
"""Sluice from another language: a Python gRPC client against the real sluiced.

Generates the Python stubs from protos/ at test time, starts sluiced on 127.0.0.1 with
port 0 and a JSON file output, streams records over Push and over PushBatches, shuts the
server down with the admin Shutdown RPC, and checks every record in the file.

Run by ctest with Debian's interpreter (python3-grpcio, python3-protobuf):
    /usr/bin/python3 python_client_test.py --sluiced build/bin/sluiced --protos protos
Exits non-zero when a test fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

# Set from the command line in main().
SLUICED = None
PROTOS = None

# Bounded waits: generous for a busy 2-core machine, yet a broken server fails, not hangs.
AWAIT_SECONDS = 60
CALL_TIMEOUT_SECONDS = 60

CONFIG = """
scheduler: { workers: 4 }
outputs:
  - { type: file, name: main, path: "%s", format: json, flush_interval: 50ms }
"""


def generate_stubs(out_dir):
    """Compiles logs.proto and admin.proto into out_dir and imports them."""
    subprocess.run(
        [
            "/usr/bin/protoc", "-I", PROTOS, "--python_out=" + out_dir, "--grpc_out=" + out_dir,
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
            "sluice/v1/logs.proto", "sluice/v1/admin.proto",
        ],
        check=True)
    sys.path.insert(0, out_dir)
    global grpc, logs_pb2, logs_pb2_grpc, admin_pb2, admin_pb2_grpc
    import grpc
    from sluice.v1 import admin_pb2, admin_pb2_grpc, logs_pb2, logs_pb2_grpc


def await_condition(condition, seconds=AWAIT_SECONDS):
    """Polls condition() until it is true (returns True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


class Sluiced:
    """One sluiced process in its own temporary directory, listening on port 0."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sluice-e2e-py-")
        self.records_path = os.path.join(self.dir, "records.log")
        config_path = os.path.join(self.dir, "sluiced.yaml")
        with open(config_path, "w") as config:
            config.write(CONFIG % self.records_path)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [
                    SLUICED, "--config", config_path, "--ingest_listen", "127.0.0.1:0",
                    "--admin_listen", "127.0.0.1:0", "--metrics_listen", "127.0.0.1:0",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        self.ports = {}
        self.ingest = self.admin = None
        try:
            if not await_condition(self._read_ports, 30):
                raise RuntimeError("sluiced did not start listening; stderr:\n" + self.stderr())
        except RuntimeError:
            self.close()
            raise
        self.ingest = grpc.insecure_channel("127.0.0.1:%d" % self.ports["ingest"])
        self.admin = grpc.insecure_channel("127.0.0.1:%d" % self.ports["admin"])

    def _read_ports(self):
        for line in self.stderr().splitlines():
            for name in ("ingest", "admin"):
                prefix = "sluiced: %s listening on " % name
                if line.startswith(prefix):
                    self.ports[name] = int(line.rsplit(":", 1)[1])
        if self.process.poll() is not None:
            raise RuntimeError(
                "sluiced exited with %d; stderr:\n%s" % (self.process.returncode, self.stderr()))
        return "ingest" in self.ports and "admin" in self.ports

    def stderr(self):
        with open(self.stderr_path) as stderr:
            return stderr.read()

    def messages(self):
        """The message of every JSON line of the file output, in file order."""
        with open(self.records_path) as records:
            return [json.loads(line)["message"] for line in records]

    def close(self):
        """Kills the server if it still runs (only this process) and removes the directory."""
        for channel in (self.ingest, self.admin):
            if channel is not None:
                channel.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def record(message, level=None):
    return logs_pb2.LogRecord(
        level=logs_pb2.LEVEL_INFO if level is None else level, logger="python", message=message)


class PythonClientTest(unittest.TestCase):

    def setUp(self):
        self.server = Sluiced()
        self.addCleanup(self.server.close)
        self.logs = logs_pb2_grpc.LogServiceStub(self.server.ingest)
        self.admin = admin_pb2_grpc.AdminServiceStub(self.server.admin)

    def shutdown(self):
        """The admin Shutdown RPC; the server must drain completely and exit 0."""
        response = self.admin.Shutdown(
            admin_pb2.ShutdownRequest(timeout_ms=30000), timeout=CALL_TIMEOUT_SECONDS)
        self.assertTrue(response.drain.completed)
        self.assertEqual(self.server.process.wait(timeout=AWAIT_SECONDS), 0, self.server.stderr())
        return response.drain.counts

    def test_push_and_push_batches_records_reach_the_file(self):
        summary = self.logs.Push(
            (record("push-%d" % i) for i in range(5000)), timeout=CALL_TIMEOUT_SECONDS)
        self.assertEqual(summary.received, 5000)
        self.assertEqual(summary.accepted, 5000)

        batches = [
            logs_pb2.LogBatch(
                sequence=b + 1, records=[record("batch-%d-%d" % (b, i)) for i in range(250)])
            for b in range(20)
        ]
        acks = list(self.logs.PushBatches(iter(batches), timeout=CALL_TIMEOUT_SECONDS))
        self.assertEqual([ack.sequence for ack in acks], list(range(1, 21)))
        self.assertEqual(sum(ack.accepted for ack in acks), 5000)
        # The default ingest.ack_on: each ack stands for records every output wrote.
        self.assertEqual({ack.stage for ack in acks}, {logs_pb2.ACK_STAGE_WRITTEN})

        counts = self.shutdown()
        self.assertEqual(counts.received, 10000)
        self.assertEqual(counts.written, 10000)
        expected = ["push-%d" % i for i in range(5000)]
        expected += ["batch-%d-%d" % (b, i) for b in range(20) for i in range(250)]
        self.assertCountEqual(self.server.messages(), expected)

    def test_invalid_and_filtered_records_are_counted_and_the_rest_written(self):
        records = [
            record("kept-0"),
            record("bad level", level=42),
            record("too quiet", level=logs_pb2.LEVEL_DEBUG),
            record("kept-1"),
        ]
        batch = logs_pb2.LogBatch(sequence=7, records=records)
        acks = list(self.logs.PushBatches(iter([batch]), timeout=CALL_TIMEOUT_SECONDS))
        self.assertEqual(len(acks), 1)
        self.assertEqual(acks[0].sequence, 7)
        self.assertEqual((acks[0].accepted, acks[0].filtered, acks[0].rejected), (2, 1, 1))
        self.assertEqual(acks[0].rejection, "level: 42 is not a sluice.v1.Level value")

        # in_flight is measured at the scheduler, so the books are read once nothing moves.
        stats = []

        def settled():
            stats[:] = [self.admin.GetStats(admin_pb2.GetStatsRequest(),
                                            timeout=CALL_TIMEOUT_SECONDS)]
            return stats[0].counts.in_flight == 0
        self.assertTrue(await_condition(settled), f"records stayed in flight: {stats}")
        counts = stats[0].counts
        self.assertEqual(counts.received, 4)
        self.assertEqual(
            counts.received,
            counts.filtered + counts.rejected + counts.dropped + counts.written + counts.in_flight)

        self.shutdown()
        self.assertEqual(self.server.messages(), ["kept-0", "kept-1"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sluiced", required=True, help="path of the sluiced binary")
    parser.add_argument("--protos", required=True, help="the repository's protos/ directory")
    args, unittest_args = parser.parse_known_args()
    global SLUICED, PROTOS
    SLUICED = os.path.abspath(args.sluiced)
    PROTOS = os.path.abspath(args.protos)
    stubs = tempfile.mkdtemp(prefix="sluice-e2e-stubs-")
    try:
        generate_stubs(stubs)
        program = unittest.main(argv=[sys.argv[0]] + unittest_args, exit=False, verbosity=2)
    finally:
        shutil.rmtree(stubs, ignore_errors=True)
    sys.exit(0 if program.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
