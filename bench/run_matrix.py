#!/usr/bin/python3
"""Runs the Sluice benchmark matrix and writes the table into docs/BENCHMARKS.md.

For every load (Push with 1 and 4 streams; PushBatches of 100 and 1,000 records with 4
streams on 4 connections and on 1; OTLP Export of 1,000 records, 4 calls in flight on 1
connection and on 4) it runs the ceiling (noop_sink) and sluiced with the null output and,
for some loads, the file (JSON lines) output, each --runs times, and keeps the median
records/s with the ack latency, peak RSS and CPU seconds per million records of that run.
After each file-output run the same bytes are appended to a new file in the same directory
in the file output's buffer size, without Sluice: the machine's append rate. Then an
overload run (an output 10x too slow), a latency run at half the maximum rate, for each
ingest.ack_on stage the file output at full speed and at half its maximum rate, two tiers
(an agent with the forward or otlp output in front of a second sluiced), the hook chain's
cost, and the client library from one and four application threads. Everything listens on
127.0.0.1, port 0.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

PB100 = "PushBatches 100, 4 streams, 4 connections"
PB1000 = "PushBatches 1000, 4 streams, 4 connections"
OTLP1000 = "OTLP Export 1000, 4 in flight, 1 connection"
# (row label, loadgen args, sluiced outputs measured besides the ceiling). The 1-connection
# PushBatches and 4-connection OTLP variants run the null output only: the file output
# is measured against the disk on the others.
LOADS = [
    ("Push, 1 stream", ["--rpc", "push", "--streams", "1"], ("null", "file")),
    ("Push, 4 streams", ["--rpc", "push", "--streams", "4"], ("null", "file")),
    (PB100, ["--rpc", "batches", "--batch", "100", "--streams", "4", "--connections", "4"],
     ("null", "file")),
    ("PushBatches 100, 4 streams, 1 connection",
     ["--rpc", "batches", "--batch", "100", "--streams", "4", "--connections", "1"], ("null",)),
    (PB1000, ["--rpc", "batches", "--batch", "1000", "--streams", "4", "--connections", "4"],
     ("null", "file")),
    ("PushBatches 1000, 4 streams, 1 connection",
     ["--rpc", "batches", "--batch", "1000", "--streams", "4", "--connections", "1"],
     ("null",)),
    (OTLP1000, ["--rpc", "otlp", "--batch", "1000", "--streams", "1", "--in_flight", "4",
                "--connections", "1"], ("null", "file")),
    ("OTLP Export 1000, 4 in flight, 4 connections",
     ["--rpc", "otlp", "--batch", "1000", "--streams", "1", "--in_flight", "4",
      "--connections", "4"], ("null",)),
]
LOAD_ARGS = {label: args for label, args, _ in LOADS}
# The null rows the first target names: >= 0.90 of the ceiling.
NULL_TARGET_LOADS = (PB100, "PushBatches 100, 4 streams, 1 connection", PB1000,
                     "PushBatches 1000, 4 streams, 1 connection", OTLP1000,
                     "OTLP Export 1000, 4 in flight, 4 connections")
# The file output's default buffer_bytes (docs/CONFIG.md): the append baseline writes in it.
FILE_BUFFER_BYTES = 256 * 1024

SERVER_CONFIG = {
    "null": 'scheduler: {{ workers: 2 }}\noutputs:\n  - {{ type: "null" }}\n',
    "file": "scheduler: {{ workers: 2 }}\noutputs:\n"
            "  - {{ type: file, path: {dir}/records.jsonl, format: json }}\n",
    "overload": "scheduler: {{ workers: 2, channel_capacity: {capacity} }}\noutputs:\n"
                '  - {{ type: "null", write_latency: {latency} }}\n',
}
# The agent tier of a two-tier run: everything goes on to the next sluiced (null output).
# The agent tier sends on with the forward output (LogService.PushBatches) or the otlp
# output (OTLP/gRPC Export, which the next sluiced also serves).
FORWARD_CONFIG = ("ingest: {{ ack_on: {stage} }}\nscheduler: {{ workers: 2 }}\noutputs:\n"
                  "  - {output}\n")
TIER_OUTPUTS = {
    "forward": '{{ type: forward, target: "127.0.0.1:{next_port}" }}',
    "otlp": '{{ type: otlp, endpoint: "127.0.0.1:{next_port}" }}',
}
FORWARD_LOADS = ((PB100, "written", "forward"),
                 (PB1000, "written", "forward"),
                 (PB100, "flushed", "forward"),
                 (PB100, "written", "otlp"),
                 (PB1000, "written", "otlp"))
# The realistic hook chain of the hooks' cost rows (docs/CONFIG.md, hooks), in front of
# SERVER_CONFIG's null and file outputs; loadgen's records carry a user_id field.
HOOK_CHAIN = r"""hooks:
  pre:
    - {{ type: receive_time, name: received }}
  post:
    - {{ type: add_fields, name: env, fields: {{ env: prod, region: eu-west-1 }} }}
    - {{ type: rename, name: user, fields: {{ user_id: user }} }}
    - type: redact
      name: pii
      fields: [message, user]
      patterns: ['\d{{4}}-\d{{4}}-\d{{4}}-\d{{4}}', '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{{2,}}']
    - {{ type: drop, name: no-debug, level_at_most: debug }}
"""
RECEIVED_METRIC = "sluice_ingest_records_received_total"
OVERLOAD_CAPACITY = 20000  # records per worker
ACK_STAGES = ("accepted", "written", "flushed")


def with_ack_stage(config_text, stage):
    return "ingest: {{ ack_on: " + stage + " }}\n" + config_text


class Server:
    """A noop_sink or sluiced process on 127.0.0.1 port 0, with its /proc accounting."""

    def __init__(self, bin_dir, kind, workdir, config_text=None):
        self.workdir = workdir
        self.stderr_path = os.path.join(workdir, f"{kind}.stderr")
        stderr = open(self.stderr_path, "w")
        if kind == "sink":
            argv = [os.path.join(bin_dir, "noop_sink"), "--listen", "127.0.0.1:0"]
            pattern = r"listening on 127\.0\.0\.1:(\d+)"
        else:
            config = os.path.join(workdir, "sluiced.yaml")
            with open(config, "w") as f:
                f.write(config_text)
            argv = [os.path.join(bin_dir, "sluiced"), "--config", config,
                    "--ingest_listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0",
                    "--metrics_listen", "127.0.0.1:0"]
            pattern = r"ingest listening on 127\.0\.0\.1:(\d+)"
        self.argv = argv
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
        self.port = None
        self.metrics_port = None
        for _ in range(300):
            with open(self.stderr_path) as f:
                text = f.read()
            match = re.search(pattern, text)
            if match:
                self.port = int(match.group(1))
                metrics = re.search(r"metrics listening on http://127\.0\.0\.1:(\d+)", text)
                self.metrics_port = int(metrics.group(1)) if metrics else None
                break
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError(f"{' '.join(argv)} did not start: {open(self.stderr_path).read()}")

    def cpu_seconds(self):
        return cpu_seconds(self.process.pid)

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def metric(self, name):
        """The sum of a family's samples on sluiced's /metrics, every label (0 when absent)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        total = 0.0
        with urllib.request.urlopen(url, timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        stop_process(self.process)


def cpu_seconds(pid):
    """User + system CPU of a process, its exited threads included (a zombie's too)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_process(process, timeout=60):
    """SIGTERM to a process this script started, by its pid; SIGKILL past `timeout`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def loadgen(bin_dir, port, args, duration):
    argv = [os.path.join(bin_dir, "loadgen"), "--target", f"127.0.0.1:{port}",
            "--duration", duration] + args
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):]), " ".join(argv[1:])
    raise RuntimeError(f"loadgen failed: {out.stdout} {out.stderr}")


def measure(bin_dir, kind, load_args, duration, config_text=None, baseline=False):
    """One run; with `baseline`, after a file-output run also the time the disk takes to
    append the same bytes (append_baseline)."""
    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    try:
        if config_text is not None:
            config_text = config_text.format(dir=workdir, capacity=OVERLOAD_CAPACITY,
                                             latency="2ms")
        server = Server(bin_dir, kind, workdir, config_text)
        try:
            cpu_before = server.cpu_seconds()
            result, command = loadgen(bin_dir, server.port, load_args, duration)
            result["cpu_s"] = server.cpu_seconds() - cpu_before
            result["rss_mib"] = server.peak_rss_mib()
            result["command"] = command
            result["server"] = " ".join(os.path.basename(a) if a.startswith("/") else a
                                        for a in server.argv)
        finally:
            server.stop()
        records_file = os.path.join(workdir, "records.jsonl")
        if baseline and os.path.exists(records_file):
            result["file_bytes"] = os.path.getsize(records_file)
            result["disk_s"] = append_baseline(records_file, result["file_bytes"])
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def append_baseline(records_file, total_bytes):
    """Seconds to append `total_bytes` of the file output's own lines to a new file beside it
    in FILE_BUFFER_BYTES writes, as the file output does (fsync: never, its default): this
    machine's append rate, no Sluice. The output's file goes first, so the disk holds one
    copy at a time."""
    with open(records_file, "rb") as f:
        chunk = f.read(FILE_BUFFER_BYTES)
    os.unlink(records_file)
    if not chunk:
        return 0.0
    chunk = (chunk * (FILE_BUFFER_BYTES // len(chunk) + 1))[:FILE_BUFFER_BYTES]
    path = os.path.join(os.path.dirname(records_file), "append-baseline")
    start = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o644)
    try:
        left = total_bytes
        while left > 0:
            left -= os.write(fd, chunk if left >= len(chunk) else chunk[:left])
    finally:
        os.close(fd)
    elapsed = time.monotonic() - start
    os.unlink(path)
    return elapsed


def measure_forward(bin_dir, load_args, duration, stage, output="forward"):
    """loadgen -> agent sluiced (forward or otlp output) -> next-tier sluiced (null output)."""
    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    try:
        next_dir, agent_dir = os.path.join(workdir, "next"), os.path.join(workdir, "agent")
        os.mkdir(next_dir)
        os.mkdir(agent_dir)
        next_tier = Server(bin_dir, "sluiced", next_dir, SERVER_CONFIG["null"].format())
        try:
            agent = Server(bin_dir, "sluiced", agent_dir,
                           FORWARD_CONFIG.format(
                               stage=stage,
                               output=TIER_OUTPUTS[output].format(next_port=next_tier.port)))
            try:
                cpu_before = agent.cpu_seconds() + next_tier.cpu_seconds()
                result, command = loadgen(bin_dir, agent.port, load_args, duration)
                result["cpu_s"] = agent.cpu_seconds() + next_tier.cpu_seconds() - cpu_before
                result["rss_mib"] = agent.peak_rss_mib()
                result["command"] = command
            finally:
                # Drains the agent: the forward output flushes to the next tier first.
                agent.stop()
            result["delivered"] = next_tier.metric(RECEIVED_METRIC)
        finally:
            next_tier.stop()
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def median_by_rate(results, rate="records_per_s"):
    """The result with the median `rate`."""
    return sorted(results, key=lambda r: r[rate])[len(results) // 2]


def median_run(bin_dir, kind, load_args, duration, runs, config_text=None, baseline=False):
    return median_by_rate([measure(bin_dir, kind, load_args, duration, config_text, baseline)
                           for _ in range(runs)])


def cpu_per_million(result):
    return result["cpu_s"] / max(result["records"], 1) * 1e6


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores (`nproc`), {model}, {platform.system()} {platform.release()}"


def table(rows):
    lines = ["| Load | Server | records/s | ratio to ceiling | ack p50 ms | ack p99 ms "
             "| peak RSS MiB | CPU s / M records |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for load, server, result, ceiling in rows:
        ratio = result["records_per_s"] / ceiling if ceiling else 0
        push = result["rpc"] == "push"
        lines.append(
            f"| {load} | {server} | {result['records_per_s']:,.0f} | {ratio:.0%} | "
            f"{'—' if push else format(result['ack_p50_ms'], '.2f')} | "
            f"{'—' if push else format(result['ack_p99_ms'], '.2f')} | "
            f"{result['rss_mib']:.0f} | {cpu_per_million(result):.2f} |")
    return "\n".join(lines)


def parse_options():
    """The flags bench/run.sh gives this script and bench/destinations.py."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--doc", required=True)
    return parser.parse_args()


def main():
    options = parse_options()
    started = time.monotonic()

    rows = []
    ceilings, nulls, files = {}, {}, {}
    for load, args, outputs in LOADS:
        sink = median_run(options.bin, "sink", args, options.duration, options.runs)
        ceilings[load] = sink["records_per_s"]
        rows.append((load, "noop_sink (ceiling)", sink, sink["records_per_s"]))
        for output in outputs:
            result = median_run(options.bin, "sluiced", args, options.duration, options.runs,
                                SERVER_CONFIG[output], baseline=output == "file")
            (nulls if output == "null" else files)[load] = result
            rows.append((load, f"sluiced, {output} output", result, sink["records_per_s"]))
        print(f"{load}: done", flush=True)

    batched = LOAD_ARGS[PB100]
    best = nulls[PB100]["records_per_s"]
    half = median_run(options.bin, "sluiced", batched + ["--rate", str(int(best / 2))],
                      options.duration, options.runs, SERVER_CONFIG["null"])
    overload = measure(options.bin, "sluiced", batched, "10s", SERVER_CONFIG["overload"])
    stage_rows = []
    for stage in ACK_STAGES:
        config_text = with_ack_stage(SERVER_CONFIG["file"], stage)
        full = median_run(options.bin, "sluiced", batched, options.duration, options.runs,
                          config_text)
        paced = median_run(options.bin, "sluiced",
                           batched + ["--rate", str(int(full["records_per_s"] / 2))],
                           options.duration, options.runs, config_text)
        stage_rows.append(
            f"| `{stage}` | {full['records_per_s']:,.0f} | {full['ack_p99_ms']:.2f} | "
            f"{paced['records_per_s']:,.0f} | {paced['ack_p50_ms']:.2f} | "
            f"{paced['ack_p99_ms']:.2f} | {paced['ack_p999_ms']:.2f} | "
            f"{max(full['rss_mib'], paced['rss_mib']):.0f} |")
        print(f"ack_on {stage}: done", flush=True)
    forward_rows = []
    forwards = {}
    for load, stage, output in FORWARD_LOADS:
        forward = median_by_rate(
            [measure_forward(options.bin, LOAD_ARGS[load], options.duration, stage, output)
             for _ in range(options.runs)])
        forwards[(load, stage, output)] = forward
        balanced = "yes" if forward["records"] == round(forward["delivered"]) else "**no**"
        forward_rows.append(
            f"| {load} | {output} | `{stage}` | {forward['records_per_s']:,.0f} | "
            f"{forward['records_per_s'] / ceilings[load]:.0%} | {forward['ack_p99_ms']:.2f} | "
            f"{forward['records']:,} | {forward['delivered']:,.0f} | {balanced} | "
            f"{forward['rss_mib']:.0f} | {cpu_per_million(forward):.2f} |")
        print(f"{output} {load} {stage}: done", flush=True)
    hook_rows, hooks = hook_chain_rows(options.bin, batched, options.duration, options.runs)
    print("hook chain: done", flush=True)
    clients = {threads: client_bench(options.bin, threads) for threads in (1, 4)}
    client_rows = [
        f"| {threads} | {c['calls_per_s']:,.0f} | {c['dropped']:,} | {c['acked']:,} | "
        f"{c['end_to_end_per_s']:,.0f} | {c['client_rss_mib']:.0f} | {c['server_rss_mib']:.0f} |"
        for threads, c in clients.items()]
    scheduler_rows = scheduler_bench(options.bin)

    def against_disk(result):
        """A file-output run's MB written, its MB/s, the disk's append MB/s for the same
        bytes, and bytes per record."""
        mb = result["file_bytes"] / 1e6
        return (mb, mb / max(result["seconds"], 1e-9), mb / max(result["disk_s"], 1e-9),
                result["file_bytes"] / max(result["records"], 1))

    disk_rows = []
    for load, result in files.items():
        mb, output_mbps, disk_mbps, record_bytes = against_disk(result)
        disk_rows.append(
            f"| {load} | {record_bytes:.0f} | {result['records_per_s']:,.0f} | {mb:,.0f} | "
            f"{output_mbps:,.0f} | {disk_mbps:,.0f} | {output_mbps / disk_mbps:.0%} |")

    def ratio_of(load):
        return nulls[load]["records_per_s"] / ceilings[load]

    def goal(met):
        return "met" if met else "**not met**"

    file_load = PB1000
    _, file_mbps, file_disk_mbps, file_record_bytes = against_disk(files[file_load])
    file_ratio = file_mbps / file_disk_mbps
    tier = forwards[(PB1000, "written", "forward")]
    tier_ratio = tier["records_per_s"] / ceilings[PB1000]
    tier_balanced = tier["records"] == round(tier["delivered"])
    hook_below = 1 - hooks["null"]
    null_rss = nulls[PB100]["rss_mib"]
    target_rows = [
        f"| sluiced null output, {load} | {ratio_of(load):.1%} of the ceiling | ≥ 90% | "
        f"{goal(ratio_of(load) >= 0.9)} |" for load in NULL_TARGET_LOADS
    ] + [
        f"| Hook chain, {PB100}, null output | {hook_below:.1%} below the same load without "
        f"hooks | ≤ 15% | {goal(hook_below <= 0.15)} |",
        f"| File output (JSON), {file_load} | {file_ratio:.1%} of this machine's append rate, "
        f"{file_record_bytes:.0f} bytes/record | ≥ 80% | {goal(file_ratio >= 0.8)} |",
        f"| Two tiers (forward, `written`), {PB1000} | {tier_ratio:.1%} of the single-tier "
        f"ceiling, acked {tier['records']:,} = delivered {tier['delivered']:,.0f}: "
        f"{'yes' if tier_balanced else 'no'} | ≥ 50%, acked = delivered | "
        f"{goal(tier_ratio >= 0.5 and tier_balanced)} |",
        f"| Ack p99 at half the maximum rate, `written`, {PB100} | {half['ack_p99_ms']:.2f} ms "
        f"| ≤ 5 ms | {goal(half['ack_p99_ms'] <= 5)} |",
        f"| Peak RSS under 10× overload, {PB100} | {overload['rss_mib']:.0f} MiB (at full "
        f"speed without overload: {null_rss:.0f} MiB) | flat | — |",
        f"| Client library `Log()` calls/s | {clients[1]['calls_per_s']:,.0f} from one thread, "
        f"{clients[4]['calls_per_s']:,.0f} from four | — | — |",
    ]

    channel_mib = 2 * OVERLOAD_CAPACITY * 300 / 2**20  # ~300 bytes per queued record
    sections = [
        f"Machine: {machine()}. Client and server share it. Allocator: "
        f"{os.environ.get('ALLOCATOR', 'jemalloc')}; Release build. Median of {options.runs} "
        f"runs of {options.duration} each; generated by `bench/run.sh` on "
        f"{time.strftime('%Y-%m-%d')}; the matrix took "
        f"{(time.monotonic() - started) / 60:.0f} minutes.",
        "",
        "**Targets** (the hot path's goals; every ratio is to a ceiling or baseline measured "
        "in this run, rows below):",
        "",
        "| Target | measured | goal | |",
        "|---|---|---|---|",
    ] + target_rows + [
        "",
        table(rows),
        "",
        "Commands: the ceiling is `noop_sink --listen 127.0.0.1:0` (LogService and the "
        "OTLP/gRPC LogsService, each Export request parsed on a protobuf Arena); sluiced runs "
        "with `--config <file>` holding `scheduler: { workers: 2 }` and one output "
        "(`type: \"null\"` or `type: file, format: json`) and serves OTLP on its ingest port. "
        "The ratio is to the ceiling of the same load and connection count. The load is "
        "`loadgen --target 127.0.0.1:PORT --duration " + options.duration + " <args>` with "
        "the args of each row: " + "; ".join(f"{l}: `{' '.join(a)}`" for l, a, _ in LOADS) +
        ".",
        "",
        "**File output against the disk** (each file-output row above; after the run, as "
        "many bytes as the file output wrote are appended to a new file in the same "
        "directory in writes of 256 KiB, the file output's default `buffer_bytes`, of the "
        "output's own lines, without Sluice and without fsync, as the file output's default "
        "`fsync: never`; the file output's MB/s is its file's size over the run's time):",
        "",
        "| Load | bytes/record | records/s | MB written | file output MB/s | disk append "
        "MB/s | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ] + disk_rows + [
        "",
        f"**Ack latency at half the maximum rate** ({PB100}, "
        f"`--rate {int(best / 2)}`, null output, default `ack_on: written`, window of 8): "
        f"p50 {half['ack_p50_ms']:.2f} ms, p99 {half['ack_p99_ms']:.2f} ms, "
        f"p99.9 {half['ack_p999_ms']:.2f} ms at {half['records_per_s']:,.0f} records/s; "
        f"peak RSS {half['rss_mib']:.0f} MiB.",
        "",
        f"**Ack stages** (`ingest.ack_on`; {PB100}, default window of 8, "
        "file output with its default 1 s `flush_interval` and 256 KiB buffer): at full "
        "speed, and paced to half of that speed with `--rate`.",
        "",
        "| ack_on | full speed records/s | ack p99 ms | paced records/s | ack p50 ms "
        "| ack p99 ms | ack p99.9 ms | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ] + stage_rows + [
        "",
        f"**Overload** ({PB100}, 10 s, null output with "
        f"`write_latency: 2ms` per batch, 2 workers x {OVERLOAD_CAPACITY:,} records, "
        f"`overflow: block`): the clients were paced to {overload['records_per_s']:,.0f} "
        f"records/s with {overload['failed_streams']} failed streams; peak RSS "
        f"{overload['rss_mib']:.0f} MiB against about {channel_mib:.0f} MiB of channel "
        f"capacity (+ 64 MiB allowed); ack p99 {overload['ack_p99_ms']:.1f} ms.",
        "",
        "**Two tiers** (on this machine: `loadgen` → a sluiced with `scheduler: "
        "{ workers: 2 }` and one `type: forward` or `type: otlp` output, defaults otherwise → "
        "a second sluiced with the null output; the ratio is to the single-tier ceiling of "
        "the same load (target ≥ 50%); *acked* is what loadgen had acknowledged, *delivered* "
        "what the next tier received once the agent drained; peak RSS is the agent's; CPU "
        "counts both servers):",
        "",
        "| Load | agent output | agent ack_on | records/s | ratio to ceiling | ack p99 ms "
        "| acked | delivered | acked = delivered | peak RSS MiB | CPU s / M records |",
        "|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ] + forward_rows + [
        "",
        f"**Hook chain** ({PB100}; the chain is `receive_time` (pre) + "
        "`add_fields` of two fields + `rename` of one + `redact` of two patterns (a card "
        "number, an e-mail address) over the message and one field + `drop` of DEBUG (post), "
        "as bench/run_matrix.py's HOOK_CHAIN spells it; without and with it, runs "
        "alternating; *below* is how much lower the rate with the chain is (target ≤ 15%); "
        "the cost is the extra server CPU per record):",
        "",
        "| Output | records/s without hooks | records/s with the chain | below "
        "| CPU s / M records without | with | chain's cost ns / record "
        "| peak RSS MiB without | with |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ] + hook_rows + [
        "",
        "**Client library** (`client_bench --threads N`: N application threads share one "
        "`sluice::Client` and make 2,000,000 `Log()` calls with four fields between them, "
        "default buffer of 100,000 records, into a sluiced with the null output; calls/s "
        "counts every thread's calls from the first to the last; *dropped*: the buffer was "
        "full while the threads outran the network):",
        "",
        "| threads | Log() calls/s | dropped | acknowledged | end to end records/s "
        "| client peak RSS MiB | sluiced peak RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ] + client_rows + [
        "",
        "**Scheduler micro-benchmark** (`scheduler_bench --benchmark_min_time=0.3`, "
        "records/s from one producer through the workers into the null output):",
        "",
        "| workers | batch | Scheduler | one shared mutex queue |",
        "|---:|---:|---:|---:|",
    ] + scheduler_rows
    write_section(options.doc, "bench", sections)
    print(f"matrix: {(time.monotonic() - started) / 60:.1f} minutes", flush=True)


def write_section(doc_path, marker, lines):
    """Replaces what lies between <!-- marker:begin --> and <!-- marker:end --> in the doc."""
    with open(doc_path) as f:
        doc = f.read()
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    with open(doc_path, "w") as f:
        f.write(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)
    print(f"wrote {doc_path}")


def hook_chain_rows(bin_dir, load_args, duration, runs):
    """Rows of the hook chain's cost, each output without and with HOOK_CHAIN, and the ratio
    of the rates (with / without) by output."""
    rows, ratios = [], {}
    for output in ("null", "file"):
        plain, hooked = [], []
        for _ in range(runs):
            plain.append(measure(bin_dir, "sluiced", load_args, duration, SERVER_CONFIG[output]))
            hooked.append(measure(bin_dir, "sluiced", load_args, duration,
                                  HOOK_CHAIN + SERVER_CONFIG[output]))
        plain, hooked = median_by_rate(plain), median_by_rate(hooked)
        cost_ns = (cpu_per_million(hooked) - cpu_per_million(plain)) * 1e3
        ratios[output] = hooked["records_per_s"] / plain["records_per_s"]
        rows.append(f"| {output} | {plain['records_per_s']:,.0f} | "
                    f"{hooked['records_per_s']:,.0f} | {1 - ratios[output]:.0%} | "
                    f"{cpu_per_million(plain):.2f} | {cpu_per_million(hooked):.2f} | "
                    f"{cost_ns:,.0f} | {plain['rss_mib']:.0f} | {hooked['rss_mib']:.0f} |")
    return rows, ratios


def scheduler_bench(bin_dir):
    out = subprocess.run([os.path.join(bin_dir, "scheduler_bench"), "--benchmark_min_time=0.3",
                          "--benchmark_format=json"], capture_output=True, text=True,
                         timeout=600, check=True)
    rates = {}
    for bench in json.loads(out.stdout)["benchmarks"]:
        match = re.match(r"BM_(\w+)/workers:(\d+)/batch:(\d+)", bench["name"])
        if match is None:  # the memory-measurement benchmarks of the same binary
            continue
        rates[(match.group(1), int(match.group(2)), int(match.group(3)))] = \
            bench["items_per_second"]
    rows = []
    for workers in (1, 2, 4):
        for batch in (1, 16, 256):
            rows.append(f"| {workers} | {batch} | {rates[('Scheduler', workers, batch)]:,.0f} | "
                        f"{rates[('SharedMutexQueue', workers, batch)]:,.0f} |")
    return rows


def client_bench(bin_dir, threads):
    """client_bench's RESULT with `threads` application threads, and both processes' peak
    RSS (the client's from its own rusage, waited for by pid)."""
    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    try:
        server = Server(bin_dir, "sluiced", workdir, SERVER_CONFIG["null"].format(dir=workdir))
        try:
            out_path = os.path.join(workdir, "client_bench.out")
            with open(out_path, "w") as out:
                client = subprocess.Popen(
                    [os.path.join(bin_dir, "client_bench"), "--target",
                     f"127.0.0.1:{server.port}", "--threads", str(threads)],
                    stdout=out, stderr=subprocess.STDOUT)
                _, _, usage = os.wait4(client.pid, 0)
                client.returncode = 0  # reaped above; keeps Popen from waiting again
            server_rss = server.peak_rss_mib()
        finally:
            server.stop()
        with open(out_path) as f:
            text = f.read()
        for line in text.splitlines():
            if line.startswith("RESULT "):
                result = json.loads(line[len("RESULT "):])
                result["client_rss_mib"] = usage.ru_maxrss / 1024
                result["server_rss_mib"] = server_rss
                return result
        raise RuntimeError(f"client_bench failed: {text}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
