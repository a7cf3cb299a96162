#!/usr/bin/python3
"""Ingest records/s of sluiced (null output, 2 workers) beside a live tap.

Four cases, run in rotating order round after round so that a drift of the machine spreads
over all of them: no tap open; a filtered tap that matches none of loadgen's records
(`sluice tap --logger checkout`: loadgen's logger is bench.checkout.api), the usual tap
of an incident; a reading tap of every record (`sluice tap --level trace` printing to
/dev/null); and a tap of every record that never reads (`sluice tap` whose standard output
is a pipe nobody reads: once the pipe is full the client stops reading its stream, and the
server's writes to it stall).
With --before, a fourth case runs another sluiced build without a tap, for the cost of the
tap hook point when no tap is open. Prints one line per run and a Markdown table of the
medians, with what each tap was sent and lost (from /metrics) and the CPU seconds of
sluiced and of the tap client per million ingested records.

  /usr/bin/python3 bench/tap_bench.py --bin build-bench/bin --runs 3 --duration 5s
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

from run_matrix import Server, cpu_seconds, loadgen, stop_process

CONFIG = 'scheduler: { workers: 2 }\noutputs:\n  - { type: "null" }\n'
LOAD = ["--rpc", "batches", "--batch", "100", "--streams", "4"]
CASES = ("no tap", "filtered tap", "reading tap", "never-reading tap")


def admin_port(server):
    with open(server.stderr_path) as f:
        return int(re.search(r"admin listening on 127\.0\.0\.1:(\d+)", f.read()).group(1))


def await_taps_open(server, count):
    for _ in range(200):
        if server.metric("sluice_taps_open") == count:
            return
        time.sleep(0.05)
    raise RuntimeError(f"sluice_taps_open never reached {count}")


def run(bin_dir, sluiced_dir, case, duration):
    workdir = tempfile.mkdtemp(prefix="sluice-tap-bench-")
    try:
        server = Server(sluiced_dir, "sluiced", workdir, CONFIG)
        tap = None
        try:
            argv = [os.path.join(bin_dir, "sluice"), "--admin", f"127.0.0.1:{admin_port(server)}",
                    "--level", "trace", "tap"]
            if case == "filtered tap":
                tap = subprocess.Popen(argv[:-1] + ["--logger", "checkout", "tap"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif case == "reading tap":
                tap = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            elif case == "never-reading tap":
                tap = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if tap is not None:
                await_taps_open(server, 1)
            server_cpu = server.cpu_seconds()
            tap_cpu = cpu_seconds(tap.pid) if tap is not None else 0
            result, _ = loadgen(bin_dir, server.port, LOAD, duration)
            millions = result["records"] / 1e6
            result["server_cpu"] = (server.cpu_seconds() - server_cpu) / millions
            if tap is not None:
                result["tap_cpu"] = (cpu_seconds(tap.pid) - tap_cpu) / millions
                result["sent"] = server.metric("sluice_tap_records_sent_total")
                result["lost"] = server.metric("sluice_tap_records_lost_total")
            return result
        finally:
            if tap is not None:
                stop_process(tap)
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="directory with sluiced, sluice, loadgen")
    parser.add_argument("--before", help="directory with another sluiced, run without a tap")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", default="5s")
    args = parser.parse_args()
    cases = list(CASES) + (["before, no tap"] if args.before else [])
    results = {case: [] for case in cases}
    for round_number in range(args.runs):
        # Rotate the order each round: no case always runs first.
        order = cases[round_number % len(cases):] + cases[:round_number % len(cases)]
        for case in order:
            sluiced_dir = args.before if case == "before, no tap" else args.bin
            result = run(args.bin, sluiced_dir, case, args.duration)
            results[case].append(result)
            print(f"round {round_number + 1} {case}: {result['records_per_s']:,.0f} records/s"
                  + (f", tap sent {result['sent']:,.0f} lost {result['lost']:,.0f}"
                     if "sent" in result else ""), flush=True)
    print("\n| Case | records/s, each run | median | tap sent / lost (median run) "
          "| CPU s per M records, sluiced / tap client (median run) |")
    print("|---|---|---:|---|---|")
    for case in cases:
        runs = results[case]
        rates = [r["records_per_s"] for r in runs]
        median = statistics.median(rates)
        middle = min(runs, key=lambda r: abs(r["records_per_s"] - median))
        taps = (f"{middle['sent']:,.0f} / {middle['lost']:,.0f}" if "sent" in middle else "")
        each = ", ".join(f"{rate / 1000:,.0f}k" for rate in rates)
        cpu = f"{middle['server_cpu']:.2f}" + (f" / {middle['tap_cpu']:.2f}"
                                                if "tap_cpu" in middle else "")
        print(f"| {case} | {each} | {median / 1000:,.0f}k | {taps} | {cpu} |")


if __name__ == "__main__":
    main()
