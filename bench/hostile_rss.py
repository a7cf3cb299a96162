#!/usr/bin/python3
"""Peak resident memory of a real sluiced under hostile but protocol-valid loads.

Each scenario starts its own sluiced (default settings, loopback, port 0, a null output
that is slow where the scenario needs queues to fill), sends one load, and reads VmHWM (the
peak resident set) and VmRSS from /proc/<pid>/status; the server is then stopped by its
pid. Scenarios:

  a  ten PushBatches streams, each sending one ~4 MB message of tiny records
  b  one OTLP Export of ~120 KB: one large resource attribute, 10,000 tiny records
  c  ~480 MB of in-limit PushBatches traffic in messages of varying size, then idle:
     the resident set after idle shows what recycled messages keep; the same bytes in
     uniform messages are sent to a second server for comparison

Build sluiced in Release first (bench/run.sh does, into build-bench), then:
    /usr/bin/python3 bench/hostile_rss.py --sluiced build-bench/bin/sluiced
    /usr/bin/python3 bench/hostile_rss.py --sluiced ... --scenarios c --idle 30
sluiced inherits the environment: with jemalloc (the default allocator), pages freed while
the server idles are only returned once something allocates again, unless
MALLOC_CONF=background_thread:true lets jemalloc's own thread purge them.
Uses Debian's interpreter (python3-grpcio, python3-protobuf) and stubs generated at run
time with /usr/bin/protoc and /usr/bin/grpc_python_plugin, as tests/e2e does. Every wait
is bounded; nothing is asserted, the numbers are printed.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Set by generate_stubs().
grpc = logs_pb2 = common_pb2 = resource_pb2 = otlp_logs_pb2 = logs_service_pb2 = None
logs_service_pb2_grpc = None

START_SECONDS = 30
CALL_SECONDS = 120

SLOW_OUTPUT = """
outputs:
  - { type: "null", name: slow, write_latency: 200ms }
"""
FAST_OUTPUT = """
outputs:
  - { type: "null", name: sink }
"""

PUSH_BATCHES = "/sluice.v1.LogService/PushBatches"


def generate_stubs(protos, out_dir):
    subprocess.run(
        [
            "/usr/bin/protoc", "-I", protos, "--python_out=" + out_dir, "--grpc_out=" + out_dir,
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
            "sluice/v1/logs.proto",
            "opentelemetry/proto/common/v1/common.proto",
            "opentelemetry/proto/resource/v1/resource.proto",
            "opentelemetry/proto/logs/v1/logs.proto",
            "opentelemetry/proto/collector/logs/v1/logs_service.proto",
        ],
        check=True)
    sys.path.insert(0, out_dir)
    global grpc, logs_pb2, common_pb2, resource_pb2, otlp_logs_pb2, logs_service_pb2
    global logs_service_pb2_grpc
    import grpc
    from sluice.v1 import logs_pb2
    from opentelemetry.proto.common.v1 import common_pb2
    from opentelemetry.proto.resource.v1 import resource_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2 as otlp_logs_pb2
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc


def proc_status_kib(pid, key):
    """VmHWM, VmRSS, ... of `pid` in KiB, or None once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def mib(kib):
    return "n/a" if kib is None else "%.0f" % (kib / 1024.0)


class Sluiced:
    """One sluiced in its own temporary directory, on 127.0.0.1 with port 0."""

    def __init__(self, binary, config_text):
        self.dir = tempfile.mkdtemp(prefix="sluice-hostile-rss-")
        config_path = os.path.join(self.dir, "sluiced.yaml")
        with open(config_path, "w") as config:
            config.write(config_text)
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [
                    binary, "--config", config_path, "--ingest_listen", "127.0.0.1:0",
                    "--admin_listen", "127.0.0.1:0", "--metrics_listen", "127.0.0.1:0",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        self.pid = self.process.pid
        self.ingest_port = None
        deadline = time.monotonic() + START_SECONDS
        while self.ingest_port is None:
            self._read_port()
            if self.process.poll() is not None:
                raise RuntimeError("sluiced exited with %d:\n%s" %
                                   (self.process.returncode, self.stderr()))
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("sluiced did not start listening:\n" + self.stderr())
            time.sleep(0.02)
        self.channel = grpc.insecure_channel(
            "127.0.0.1:%d" % self.ingest_port,
            options=[("grpc.max_send_message_length", 64 << 20),
                     ("grpc.max_receive_message_length", 64 << 20)])

    def _read_port(self):
        prefix = "sluiced: ingest listening on "
        for line in self.stderr().splitlines():
            if line.startswith(prefix):
                self.ingest_port = int(line.rsplit(":", 1)[1])

    def stderr(self):
        with open(self.stderr_path) as stderr:
            return stderr.read()

    def status_kib(self, key):
        return proc_status_kib(self.pid, key)

    def stop(self):
        """SIGTERM to this pid (a drain), SIGKILL if it has not exited in 30 s."""
        if getattr(self, "channel", None) is not None:
            self.channel.close()
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# --- wire encoding: the big messages are built as bytes, not as millions of Python objects.

def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def length_delimited(field, payload):
    return varint((field << 3) | 2) + varint(len(payload)) + payload


def encoded_record(message_bytes, logger=b"bench.hostile"):
    """A sluice.v1.LogRecord: level INFO, a logger, a message of `message_bytes` bytes."""
    record = b"\x10\x03"  # level = LEVEL_INFO
    if logger:
        record += length_delimited(3, logger)
    if message_bytes:
        record += length_delimited(4, b"m" * message_bytes)
    return record


def encoded_batch(sequence, records, message_bytes, logger=b"bench.hostile"):
    """A sluice.v1.LogBatch of `records` identical records."""
    element = length_delimited(2, encoded_record(message_bytes, logger))
    return b"\x08" + varint(sequence) + element * records


def push_batches(channel, messages, window=8, timeout=CALL_SECONDS):
    """Sends encoded LogBatch messages on one PushBatches stream, at most `window` unacked.

    Returns (acks, error): the PushAcks received and the call's error, if any."""
    call = channel.stream_stream(PUSH_BATCHES, request_serializer=lambda raw: raw,
                                 response_deserializer=logs_pb2.PushAck.FromString)
    room = threading.Semaphore(window)
    done = threading.Event()

    def requests():
        for message in messages:
            while not room.acquire(timeout=0.1):
                if done.is_set():
                    return
            yield message

    acks = []
    error = None
    try:
        for ack in call(requests(), timeout=timeout):
            acks.append(ack)
            room.release()
    except grpc.RpcError as e:
        error = "%s: %s" % (e.code().name, e.details())
    finally:
        done.set()
    return acks, error


def summarize_acks(results):
    accepted = sum(ack.accepted for acks, _ in results for ack in acks)
    rejected = sum(ack.rejected for acks, _ in results for ack in acks)
    errors = sorted({error for _, error in results if error})
    return "acks=%d accepted=%d rejected=%d errors=%s" % (
        sum(len(acks) for acks, _ in results), accepted, rejected, errors or "none")


def run_concurrently(functions):
    results = [None] * len(functions)

    def run(i):
        results[i] = functions[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(CALL_SECONDS + 30)
    return results


# --- scenarios

def config(args, outputs):
    if not args.scheduler:
        return outputs
    return "scheduler: %s\n%s" % (args.scheduler, outputs)


def scenario_a(args):
    """Ten streams, each one ~4 MB PushBatches message of tiny records."""
    # Level and an empty message: 4 bytes a record on the wire, a whole LogRecord in memory.
    per_record = len(length_delimited(2, encoded_record(0, logger=b"")))
    records = (args.message_bytes - 16) // per_record
    message = encoded_batch(1, records, 0, logger=b"")
    server = Sluiced(args.sluiced, config(args, SLOW_OUTPUT))
    try:
        results = run_concurrently(
            [lambda: push_batches(server.channel, [message]) for _ in range(args.streams)])
        hwm = server.status_kib("VmHWM")
        print("a  %d streams x 1 PushBatches message of %d B, %d records each: peak RSS %s MiB "
              "(%s)" % (args.streams, len(message), records, mib(hwm), summarize_acks(results)))
    finally:
        server.stop()
    return {"a_peak_mib": mib(hwm)}


def scenario_b(args):
    """One OTLP Export of ~120 KB: a large resource attribute and 10,000 tiny records."""
    request = logs_service_pb2.ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(
        common_pb2.KeyValue(key="blob",
                            value=common_pb2.AnyValue(string_value="r" * args.attribute_bytes)))
    scope_logs = resource_logs.scope_logs.add()
    for _ in range(args.otlp_records):
        scope_logs.log_records.add(severity_number=9)  # INFO
    size = request.ByteSize()
    server = Sluiced(args.sluiced, config(args, SLOW_OUTPUT))
    try:
        stub = logs_service_pb2_grpc.LogsServiceStub(server.channel)
        outcome = "ok"
        try:
            response = stub.Export(request, timeout=CALL_SECONDS)
            if response.HasField("partial_success"):
                outcome = "partial_success rejected=%d %s" % (
                    response.partial_success.rejected_log_records,
                    response.partial_success.error_message[:120])
        except grpc.RpcError as e:
            outcome = "%s: %s" % (e.code().name, (e.details() or "")[:120])
        hwm = server.status_kib("VmHWM")
        print("b  1 OTLP Export of %d B (attribute %d B, %d records): peak RSS %s MiB (%s)" %
              (size, args.attribute_bytes, args.otlp_records, mib(hwm), outcome))
    finally:
        server.stop()
    return {"b_peak_mib": mib(hwm)}


# Varied, in-limit shapes (records, message bytes): each message under 4 MiB and 8,192
# records, each record under 64 KiB. Large and small alternate, so recycled messages that
# keep the capacity of the largest batch they held are the ones reused for small ones.
VARIED_SHAPES = [(4000, 900), (20, 100), (500, 6000), (4000, 20), (60, 30000), (1000, 200)]


def traffic(shapes, total_bytes):
    sent = 0
    sequence = 0
    while sent < total_bytes:
        for records, message_bytes in shapes:
            sequence += 1
            message = encoded_batch(sequence, records, message_bytes)
            sent += len(message)
            yield message
            if sent >= total_bytes:
                return


def uniform_shape():
    """Messages of 1,000 records carrying the varied traffic's average message size."""
    cycle_records = sum(records for records, _ in VARIED_SHAPES)
    cycle_bytes = sum(records * message_bytes for records, message_bytes in VARIED_SHAPES)
    return (1000, cycle_bytes // cycle_records)


def run_traffic(args, shapes, label):
    server = Sluiced(args.sluiced, config(args, FAST_OUTPUT))
    try:
        per_stream = args.traffic_bytes // args.traffic_streams
        results = run_concurrently(
            [lambda: push_batches(server.channel, traffic(shapes, per_stream))
             for _ in range(args.traffic_streams)])
        hwm = server.status_kib("VmHWM")
        busy = server.status_kib("VmRSS")
        time.sleep(args.idle)
        idle = server.status_kib("VmRSS")
        print("c  %-7s %d MB over %d streams: peak RSS %s MiB, RSS at the end %s MiB, "
              "after %ds idle %s MiB (%s)" %
              (label, args.traffic_bytes // 1000000, args.traffic_streams, mib(hwm), mib(busy),
               args.idle, mib(idle), summarize_acks(results)))
    finally:
        server.stop()
    return mib(hwm), mib(idle)


def scenario_c(args):
    varied_peak, varied_idle = run_traffic(args, VARIED_SHAPES, "varied")
    uniform_peak, uniform_idle = run_traffic(args, [uniform_shape()], "uniform")
    return {"c_varied_peak_mib": varied_peak, "c_varied_idle_mib": varied_idle,
            "c_uniform_peak_mib": uniform_peak, "c_uniform_idle_mib": uniform_idle}


SCENARIOS = {"a": scenario_a, "b": scenario_b, "c": scenario_c}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sluiced", default=os.path.join(REPO, "build-bench/bin/sluiced"))
    parser.add_argument("--protos", default=os.path.join(REPO, "protos"))
    parser.add_argument("--scenarios", default="abc", help="any of a, b, c")
    parser.add_argument("--streams", type=int, default=10, help="a: streams")
    parser.add_argument("--message_bytes", type=int, default=4000000, help="a: message size")
    parser.add_argument("--attribute_bytes", type=int, default=80000, help="b: attribute size")
    parser.add_argument("--otlp_records", type=int, default=10000, help="b: records")
    parser.add_argument("--traffic_bytes", type=int, default=480000000, help="c: bytes sent")
    parser.add_argument("--traffic_streams", type=int, default=4, help="c: streams")
    parser.add_argument("--idle", type=int, default=20,
                        help="c: seconds idle before RSS is read")
    parser.add_argument("--scheduler", default="",
                        help='a scheduler section instead of the defaults, e.g. '
                             '"{ workers: 2, channel_capacity: 1000 }"')
    args = parser.parse_args()
    stubs = tempfile.mkdtemp(prefix="sluice-hostile-rss-stubs-")
    try:
        generate_stubs(args.protos, stubs)
        summary = {}
        for name in args.scenarios:
            summary.update(SCENARIOS[name](args))
        print("summary " + " ".join("%s=%s" % item for item in sorted(summary.items())))
    finally:
        shutil.rmtree(stubs, ignore_errors=True)


if __name__ == "__main__":
    main()
