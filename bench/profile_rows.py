#!/usr/bin/python3
"""Where a server's CPU goes on a benchmark row: perf samples of noop_sink and of sluiced
(null output) under the same load, grouped into what the work is, side by side.

For each load it starts the server (as run_matrix.py does, on 127.0.0.1 port 0), runs
loadgen for --duration, records `perf record -g` of the server for the middle of the run,
and groups the samples by symbol into: parsing the request, clearing recycled messages,
Sluice's own admission (limits, levels, sizes), the scheduler and outputs, gRPC and its
transport, the kernel's network path, thread wake-ups and sleeps (futex, scheduler), the
allocator, and the rest. It prints, per load, records/s, the server's CPU nanoseconds per
record and each group's share of them, so that the ceiling and sluiced compare in the same
units; then each server's top symbols.

  /usr/bin/python3 bench/profile_rows.py --bin build-bench/bin [--duration 8s]

Needs `perf` (Debian's linux-perf) and permission to profile (root, or
kernel.perf_event_paranoid <= 1). Prints; asserts nothing.
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_matrix  # noqa: E402

LOADS = [
    (run_matrix.PB100, run_matrix.LOAD_ARGS[run_matrix.PB100]),
    ("PushBatches 100, 4 streams, 1 connection",
     run_matrix.LOAD_ARGS["PushBatches 100, 4 streams, 1 connection"]),
    (run_matrix.PB1000, run_matrix.LOAD_ARGS[run_matrix.PB1000]),
    (run_matrix.OTLP1000, run_matrix.LOAD_ARGS[run_matrix.OTLP1000]),
]

# First match wins: (group, pattern on the symbol).
GROUPS = [
    ("wake-ups and sleeps", r"finish_task_switch|try_to_wake_up|_raw_spin_unlock_irq|futex|"
                            r"__schedule|schedule_|pthread_cond|__lll_lock|irqentry_exit|"
                            r"asm_sysvec|do_syscall_64$|entry_SYSCALL|sched_"),
    ("kernel network", r"tcp_|_copy_to_iter|_copy_from_iter|skb_|sock_|__sys_sendmsg|"
                       r"__sys_recvmsg|sendmsg|recvmsg|ip_|__dev_queue|nf_hook|net_rx|"
                       r"softirq|__netif|loopback|copy_user|__check_object_size|"
                       r"check_heap_object|epoll|ep_poll|__x64_sys"),
    ("clear recycled messages", r"ClearToEmpty|::Clear\b|ArenaStringPtr::Destroy|"
                                r"LogBatchPool::Put|CleanupList|~LogRecord|~Field"),
    ("parse request", r"_InternalParse|ParseContext|InlineGreedyStringParser|ReadSize|"
                      r"ArenaStringPtr::Mutable|ArenaStringPtr::Set|VerifyUTF8|"
                      r"IsStructurallyValidUTF8|ReadTag|ReadVarint|ParseFrom|MergeFrom|"
                      r"_M_replace|Arena::Allocate|RepeatedPtrFieldBase|SkipField|"
                      r"EpsCopyInputStream|ZeroCopy|ExportLogsServiceRequest"),
    ("admission (sizes, limits, levels, mapping)",
     r"sluice::ingest::|ByteSizeLong|LogBatchPool::MemoryBytes|memory_bytes|"
     r"sluice::levels::|ValidUtf8|sluice::LevelGate"),
    ("scheduler, pipeline, outputs", r"sluice::scheduler::|sluice::pipeline::|sluice::outputs::|"
                                     r"sluice::RecordBatch|sluice::Ledger|sluice::Delivery"),
    ("gRPC and HTTP/2", r"grpc|gpr_|absl::.*(Mutex|CondVar)|chttp2|hpack|slice"),
    ("allocator", r"malloc|free|operator new|operator delete|je_|jemalloc|arena_|tcache|"
                  r"extent_|sdallocx|mallocx"),
    ("copies", r"memmove|memcpy|memset|memcmp"),
]


def perf_report(data):
    """(share %, library, symbol) of every sampled symbol, the largest first."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                          "--stdio", "-g", "none", "--percent-limit", "0"],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*?)\s*$", line)
        if match:
            rows.append((float(match.group(1)), match.group(2),
                         match.group(3).rstrip(" -").strip()))
    return rows


def group_of(library, symbol):
    for group, pattern in GROUPS:
        if re.search(pattern, symbol):
            return group
    # Symbols the library was stripped of: where they are says what they are.
    if "grpc" in library or "gpr" in library or "absl" in library:
        return "gRPC and HTTP/2"
    if "protobuf" in library:
        return "parse request"
    if "jemalloc" in library:
        return "allocator"
    if library == "[kernel.kallsyms]":
        return "kernel, other"
    return "other"


def profile(bin_dir, kind, load_args, duration_s, workdir):
    config = run_matrix.SERVER_CONFIG["null"].format() if kind == "sluiced" else None
    server = run_matrix.Server(bin_dir, kind, workdir, config)
    data = os.path.join(workdir, f"{kind}.perf")
    try:
        cpu_before = server.cpu_seconds()
        load = subprocess.Popen(
            [os.path.join(bin_dir, "loadgen"), "--target", f"127.0.0.1:{server.port}",
             "--duration", f"{duration_s}s"] + load_args,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        time.sleep(duration_s / 4)
        subprocess.run(["perf", "record", "-F", "2000", "-g", "-o", data, "-p",
                        str(server.process.pid), "--", "sleep", str(duration_s / 2)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        out, _ = load.communicate(timeout=600)
        cpu = server.cpu_seconds() - cpu_before
    finally:
        server.stop()
    result = None
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    if result is None:
        raise RuntimeError(f"loadgen against {kind} gave no result")
    ns_per_record = cpu / result["records"] * 1e9
    return result["records_per_s"], ns_per_record, perf_report(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--duration", default="8s")
    options = parser.parse_args()
    if shutil.which("perf") is None:
        sys.exit("perf is missing: apt-get install linux-perf")
    duration_s = float(options.duration.rstrip("s"))
    print(f"Machine: {run_matrix.machine()}.\n")
    for load, args in LOADS:
        workdir = tempfile.mkdtemp(prefix="sluice-profile-")
        try:
            results = {kind: profile(options.bin, kind, args, duration_s, workdir)
                       for kind in ("sink", "sluiced")}
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(f"### {load}\n")
        print("| | noop_sink | sluiced, null output |")
        print("|---|---:|---:|")
        print("| records/s | " + " | ".join(f"{results[k][0]:,.0f}" for k in results) + " |")
        print("| server CPU ns per record | " +
              " | ".join(f"{results[k][1]:,.0f}" for k in results) + " |")
        shares = {}
        for kind, (_, ns_per_record, rows) in results.items():
            total = sum(share for share, _, _ in rows) or 1.0
            grouped = collections.Counter()
            for share, library, symbol in rows:
                grouped[group_of(library, symbol)] += share / total * ns_per_record
            shares[kind] = grouped
        for group in [g for g, _ in GROUPS] + ["kernel, other", "other"]:
            print(f"| {group} | " + " | ".join(f"{shares[k][group]:,.0f}" for k in results) +
                  " |")
        print()
        for kind, (_, _, rows) in results.items():
            top = ", ".join(f"`{symbol[:60]}` {share:.1f}%" for share, _, symbol in rows[:8])
            print(f"Top symbols, {kind}: {top}.\n")


if __name__ == "__main__":
    main()
