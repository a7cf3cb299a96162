#!/usr/bin/python3
"""Measures sluiced's outputs into real destinations and writes their table into
docs/BENCHMARKS.md (between the bench-destinations:begin/end markers); bench/run.sh runs it
after bench/run_matrix.py, or alone with ONLY=destinations.

For each output — clickhouse (Debian's clickhouse-server), syslog over TCP and over UDP
(Debian's rsyslogd), kafka (librdkafka's mock cluster, bench/kafka_mock_broker.cc) — and
each load, it starts the destination of its own, then a sluiced with that one output, runs
loadgen, stops sluiced with SIGTERM (it drains), and counts what the destination holds.
Keeps the run with the median delivered records/s, with the CPU seconds of sluiced and of
the destination, and of loadgen. Everything listens on 127.0.0.1.
"""
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from run_matrix import (LOAD_ARGS, PB100, PB1000, Server, cpu_seconds, loadgen, machine,
                        median_by_rate, parse_options, stop_process, write_section)

DESTINATION_LOADS = (PB1000, PB100)
SLUICED_CONFIG = ("scheduler: {{ workers: 2 }}\nshutdown: {{ drain_timeout: 2m }}\n"
                  "outputs:\n  - {output}\n")
OUTPUTS = {
    "clickhouse": '{{ type: clickhouse, url: "http://{address}", table: logs, '
                  'create_table: true }}',
    "syslog, TCP": '{{ type: syslog, address: "{address}", transport: tcp }}',
    "syslog, UDP": '{{ type: syslog, address: "{address}", transport: udp }}',
    "kafka": '{{ type: kafka, brokers: "{address}", topic: logs }}',
}
# What the output's sender did: its Write calls (one at a time), the time they took, and
# the batches it retried (a destination that refused or a librdkafka queue that was full).
SENDER_METRICS = {
    "writes": "sluice_output_write_duration_seconds_count",
    "write_s": "sluice_output_write_duration_seconds_sum",
    "retries": "sluice_output_retries_total",
    "truncated": "sluice_output_syslog_truncated_total",
}
CLICKHOUSE = "/usr/sbin/clickhouse-server"
RSYSLOGD = "/usr/sbin/rsyslogd"
CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/log/server.log</log>
    <errorlog>{dir}/log/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <interserver_http_port>{interserver_port}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>{dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <keep_alive_timeout>1</keep_alive_timeout>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
"""
CLICKHOUSE_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <quotas><default></default></quotas>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
</yandex>
"""
# imtcp writes the port it bound (port 0) to a file; imudp cannot, so it is given one.
# No imuxsock: this rsyslogd never touches the system's /dev/log.
RSYSLOG_CONFIG = """global(workDirectory="{dir}/work")
module(load="imtcp")
module(load="imudp")
ruleset(name="sluice") {{
  action(type="omfile" file="{dir}/received.log" template="RSYSLOG_SyslogProtocol23Format")
}}
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{dir}/tcp.port"
      ruleset="sluice")
input(type="imudp" address="127.0.0.1" port="{udp_port}" ruleset="sluice")
"""


def await_condition(check, timeout, what):
    """Polls `check` until it returns something other than None; raises past `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value is not None:
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def free_port(kind):
    """A port on 127.0.0.1 that was free a moment ago, for a server that cannot bind port 0."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Destination:
    """A destination process of this run's own, in `workdir`; stopped by its pid only.

    Once constructed it listens, at `address` (host:port, or Kafka's bootstrap servers),
    which each kind's ready() returns when it is up (None until then)."""

    def __init__(self, argv, workdir, **popen_args):
        self.workdir = workdir
        self.log = open(os.path.join(workdir, "stderr.log"), "w")
        self.process = subprocess.Popen(argv, stderr=self.log, cwd=workdir, **popen_args)
        try:
            self.address = await_condition(lambda: self.alive() and self.ready(), 60,
                                           f"{argv[0]} to listen")
        except RuntimeError:
            self.stop()
            raise

    def alive(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.process.args[0]} exited: "
                               f"{open(self.log.name).read()}")
        return True

    def cpu_seconds(self):
        return cpu_seconds(self.process.pid)

    def stop(self):
        stop_process(self.process)
        self.log.close()


class ClickHouse(Destination):
    def __init__(self, bin_dir, workdir):
        ports = {name: free_port(socket.SOCK_STREAM)
                 for name in ("http_port", "tcp_port", "interserver_port")}
        for sub in ("log", "data", "tmp", "user_files", "format_schemas"):
            os.mkdir(os.path.join(workdir, sub))
        with open(os.path.join(workdir, "config.xml"), "w") as f:
            f.write(CLICKHOUSE_CONFIG.format(dir=workdir, **ports))
        with open(os.path.join(workdir, "users.xml"), "w") as f:
            f.write(CLICKHOUSE_USERS)
        self.http_port = ports["http_port"]
        super().__init__([CLICKHOUSE, f"--config-file={workdir}/config.xml"], workdir,
                         stdout=subprocess.DEVNULL)

    def ready(self):
        return f"127.0.0.1:{self.http_port}" if self.query("/ping") == "Ok.\n" else None

    def query(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}",
                                        timeout=30) as response:
                return response.read().decode()
        except OSError:
            return None

    def count(self):
        answer = self.query("/?query=" + urllib.parse.quote("SELECT count() FROM default.logs"))
        return int(answer) if answer else 0


class Rsyslogd(Destination):
    def __init__(self, bin_dir, workdir, transport):
        os.mkdir(os.path.join(workdir, "work"))
        self.transport = transport
        self.udp_port = free_port(socket.SOCK_DGRAM)
        config = os.path.join(workdir, "rsyslog.conf")
        with open(config, "w") as f:
            f.write(RSYSLOG_CONFIG.format(dir=workdir, udp_port=self.udp_port))
        # -n: in the foreground, so that the child's pid is rsyslogd's.
        super().__init__([RSYSLOGD, "-n", "-f", config, "-i", f"{workdir}/rsyslogd.pid"],
                         workdir, stdout=subprocess.DEVNULL)

    def ready(self):
        """The address of `transport` once imtcp listens and imudp is bound."""
        try:
            with open(os.path.join(self.workdir, "tcp.port")) as f:
                tcp_port = int(f.read().strip())
        except (OSError, ValueError):
            return None
        if (f" 0100007F:{tcp_port:04X} 00000000:0000 0A " not in open("/proc/net/tcp").read()
                or f" 0100007F:{self.udp_port:04X} " not in open("/proc/net/udp").read()):
            return None
        return f"127.0.0.1:{tcp_port if self.transport == 'tcp' else self.udp_port}"

    def count(self):
        lines = 0
        try:
            with open(os.path.join(self.workdir, "received.log"), "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    lines += chunk.count(b"\n")
        except FileNotFoundError:
            pass
        return lines


class KafkaMock(Destination):
    def __init__(self, bin_dir, workdir):
        super().__init__([os.path.abspath(os.path.join(bin_dir, "kafka_mock_broker")), "--topic",
                          "logs"],
                         workdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ready(self):
        if not select.select([self.process.stdout], [], [], 0)[0]:
            return None
        line = self.process.stdout.readline()
        if not line.startswith("bootstrap servers: "):
            raise RuntimeError(f"kafka_mock_broker said {line!r}")
        return line.split(": ", 1)[1].strip()

    def read_line(self, timeout=60):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError("kafka_mock_broker did not answer")
        return self.process.stdout.readline()

    def count(self):
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        return int(self.read_line())

    def stop(self):
        # The end of stdin is its signal to exit.
        self.process.stdin.close()
        super().stop()


DESTINATIONS = {
    "clickhouse": ClickHouse,
    "syslog, TCP": lambda bin_dir, workdir: Rsyslogd(bin_dir, workdir, "tcp"),
    "syslog, UDP": lambda bin_dir, workdir: Rsyslogd(bin_dir, workdir, "udp"),
    "kafka": KafkaMock,
}


def drain(server, timeout=180):
    """SIGTERMs sluiced and waits for it to exit; its CPU seconds, read from the zombie."""
    server.process.send_signal(signal.SIGTERM)

    def exited():
        with open(f"/proc/{server.process.pid}/stat") as f:
            return True if f.read().rsplit(")", 1)[1].split()[0] == "Z" else None

    await_condition(exited, timeout, "sluiced to drain")
    cpu = cpu_seconds(server.process.pid)
    server.process.wait()
    return cpu


def settled_count(destination, timeout=120):
    """The destination's count once it stopped growing, and when it first reached it."""
    count, reached, steady_since = -1, None, None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now, current = time.monotonic(), destination.count()
        if current != count:
            count, reached, steady_since = current, now, now
        elif now - steady_since >= 1.0:
            return count, reached
        time.sleep(0.05)
    raise RuntimeError(f"the destination's count was still changing after {timeout} s")


def measure_destination(bin_dir, output, load_args, duration):
    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    try:
        destination_dir, sluiced_dir = (os.path.join(workdir, d) for d in ("dest", "sluiced"))
        os.mkdir(destination_dir)
        os.mkdir(sluiced_dir)
        destination = DESTINATIONS[output](bin_dir, destination_dir)
        try:
            server = Server(bin_dir, "sluiced", sluiced_dir, SLUICED_CONFIG.format(
                output=OUTPUTS[output].format(address=destination.address)))
            try:
                destination_cpu = destination.cpu_seconds()
                sluiced_cpu = server.cpu_seconds()
                loadgen_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.monotonic()
                result, _ = loadgen(bin_dir, server.port, load_args, duration)
                children = resource.getrusage(resource.RUSAGE_CHILDREN)
                result["loadgen_cpu_s"] = (children.ru_utime + children.ru_stime
                                           - loadgen_cpu.ru_utime - loadgen_cpu.ru_stime)
                # Counted while sluiced still runs: its shutdown (about a second) is no
                # part of the delivery rate.
                delivered, reached = settled_count(destination)
                result["rss_mib"] = server.peak_rss_mib()
                result.update((key, server.metric(name)) for key, name in SENDER_METRICS.items())
            finally:
                sluiced_cpu = drain(server) - sluiced_cpu
            result["sluiced_cpu_s"] = sluiced_cpu
            result["delivered_per_s"] = delivered / (reached - start)
            result["seconds_to_deliver"] = reached - start
            result["delivered"], _ = settled_count(destination)
            # Read once the count settled, so that ClickHouse's merges of the run's parts in
            # that time are counted: they are part of what an insert costs it.
            result["destination_cpu_s"] = destination.cpu_seconds() - destination_cpu
        finally:
            destination.stop()
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def per_million(result, key):
    return result[key] / max(result["delivered"], 1) * 1e6


def row(output, load, result):
    lost = result["records"] - result["delivered"]
    notes = []
    if output == "syslog, UDP":
        notes.append(f"{max(lost, 0):,} lost ({max(lost, 0) / max(result['records'], 1):.1%}), "
                     f"{result['truncated']:,.0f} truncated")
    elif lost > 0:
        notes.append(f"{lost:,} acked but missing")
    elif lost < 0:
        notes.append(f"{-lost:,} duplicates")
    seconds = result["seconds_to_deliver"]
    notes.append(f"{result['records'] / max(result['writes'], 1):,.0f} records per write, "
                 f"sender busy {result['write_s'] / seconds:.0%}, "
                 f"{result['retries']:,.0f} retries")
    notes.append(f"cores busy: sluiced {result['sluiced_cpu_s'] / seconds:.2f}, "
                 f"destination {result['destination_cpu_s'] / seconds:.2f}, "
                 f"loadgen {result['loadgen_cpu_s'] / seconds:.2f}")
    return (f"| {output} | {load} | {result['delivered_per_s']:,.0f} | "
            f"{result['records']:,} | {result['delivered']:,} | "
            f"{per_million(result, 'sluiced_cpu_s'):.2f} | "
            f"{per_million(result, 'destination_cpu_s'):.2f} | {result['rss_mib']:.0f} | "
            f"{'; '.join(notes)} |")


def main():
    options = parse_options()

    rows = []
    for load in DESTINATION_LOADS:
        for output in OUTPUTS:
            median = median_by_rate(
                [measure_destination(options.bin, output, LOAD_ARGS[load], options.duration)
                 for _ in range(options.runs)], "delivered_per_s")
            rows.append(row(output, load, median))
            print(f"{output} {load}: done", flush=True)
    write_section(options.doc, "bench-destinations", [
        f"Machine: {machine()}. loadgen, sluiced and the destination share it. Release "
        f"build, {os.environ.get('ALLOCATOR', 'jemalloc')}. Median (by records/s delivered) "
        f"of {options.runs} runs of `loadgen --duration {options.duration}`, each against a "
        f"fresh destination; generated by `bench/destinations.py` on "
        f"{time.strftime('%Y-%m-%d')}.",
        "",
        "| Output | Load | records/s delivered | acked | delivered at the destination "
        "| sluiced CPU s / M records | destination CPU s / M records | peak RSS MiB "
        "| what limits it |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ] + rows)


if __name__ == "__main__":
    main()
