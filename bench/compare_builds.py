#!/usr/bin/python3
"""Compares two Release builds of sluiced on the same loads, in one run (an A/B).

For PushBatches of 100 and 1,000 records with 4 streams it runs the ceiling (noop_sink of
the --after build) and each build's sluiced with the null and the file (JSON lines) output
of run_matrix.py. Runs alternate between the builds, so that drift of the machine (another
process, thermal state) falls on both alike; the median records/s of each is kept. Prints a
Markdown table: records/s, ratio to the ceiling, and the change from --before to --after.

  /usr/bin/python3 bench/compare_builds.py --before OLD/build-bench/bin \
      --after build-bench/bin [--runs 5] [--duration 5s]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_matrix  # noqa: E402

LOADS = [(label, args) for label, args, _ in run_matrix.LOADS
         if label.startswith("PushBatches")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="bin directory of the old build")
    parser.add_argument("--after", required=True, help="bin directory of the new build")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", default="5s")
    options = parser.parse_args()

    print(f"Machine: {run_matrix.machine()}. Median of {options.runs} alternating runs of "
          f"{options.duration} each.\n")
    print("| Load | Output | before records/s | after records/s | before / ceiling "
          "| after / ceiling | change |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for load, load_args in LOADS:
        ceiling = run_matrix.median_run(options.after, "sink", load_args, options.duration,
                                        options.runs)["records_per_s"]
        for output in ("null", "file"):
            results = {"before": [], "after": []}
            for _ in range(options.runs):
                for build in ("before", "after"):
                    results[build].append(run_matrix.measure(
                        getattr(options, build), "sluiced", load_args, options.duration,
                        run_matrix.SERVER_CONFIG[output]))
            before = run_matrix.median_by_rate(results["before"])["records_per_s"]
            after = run_matrix.median_by_rate(results["after"])["records_per_s"]
            print(f"| {load} | {output} | {before:,.0f} | {after:,.0f} | "
                  f"{before / ceiling:.0%} | {after / ceiling:.0%} | "
                  f"{after / before - 1:+.1%} |", flush=True)
        print(f"| {load} | ceiling (noop_sink) | | {ceiling:,.0f} | | | |", flush=True)


if __name__ == "__main__":
    main()
