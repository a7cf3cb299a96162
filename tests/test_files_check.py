#!/usr/bin/env python3
"""Fails when a test file under tests/ is not part of the suite ctest runs.

A test file is `tests/**/*_test.cc`, `*_test.py` or `*_test.mjs`. It is part of the suite
when it is a source of a test executable registered with ctest (the list CMake writes at
configure time, --cxx-sources), or when a ctest test runs it: its path is an argument of
the test's command, or the command runs a script beside it that names it (the Node test
runs through run_node_test.sh). A file that is in neither never runs, however green the
suite looks; this is how tests/pipeline/pipeline_test.cc went unbuilt. A module may leave
a file out of one build on purpose (--not-in-this-build: the packaging tests in a sanitizer
build, which installs nothing); those are listed, not failed.

Run by ctest as `suite_runs_every_test_file` (tests/CMakeLists.txt), so test.sh fails on it.
"""
import argparse
import json
import pathlib
import subprocess
import sys

PATTERNS = ("*_test.cc", "*_test.py", "*_test.mjs")


def test_files_on_disk(tests_dir):
    found = set()
    for pattern in PATTERNS:
        for path in tests_dir.rglob(pattern):
            if "node_modules" not in path.parts:
                found.add(path.resolve())
    return found


def files_ctest_runs(ctest, build_dir):
    result = subprocess.run([ctest, "--test-dir", str(build_dir), "--show-only=json-v1"],
                            capture_output=True, text=True, check=True, timeout=120)
    runs = set()
    for test in json.loads(result.stdout).get("tests", []):
        for argument in test.get("command", []):
            path = pathlib.Path(argument)
            if not path.is_absolute() or not path.is_file():
                continue
            runs.add(path.resolve())
            if path.suffix in (".sh", ".py"):
                # A wrapper script runs the files beside it that it names.
                text = path.read_text(errors="replace")
                for sibling in path.parent.iterdir():
                    if sibling != path and sibling.name in text:
                        runs.add(sibling.resolve())
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source-dir", required=True, type=pathlib.Path)
    parser.add_argument("--build-dir", required=True, type=pathlib.Path)
    parser.add_argument("--cxx-sources", required=True, type=pathlib.Path)
    parser.add_argument("--not-in-this-build", type=pathlib.Path,
                        help="files a module leaves out of this build on purpose, one a line")
    parser.add_argument("--ctest", required=True)
    args = parser.parse_args()

    tests_dir = (args.source_dir / "tests").resolve()
    on_disk = test_files_on_disk(tests_dir)
    if not on_disk:
        print(f"no test files found under {tests_dir}", file=sys.stderr)
        return 1
    in_suite = {pathlib.Path(line).resolve()
                for line in args.cxx_sources.read_text().splitlines() if line.strip()}
    in_suite |= files_ctest_runs(args.ctest, args.build_dir)
    left_out = set()
    if args.not_in_this_build is not None:
        left_out = {pathlib.Path(line).resolve()
                    for line in args.not_in_this_build.read_text().splitlines() if line.strip()}
    for path in sorted(left_out & on_disk):
        print(f"{path.relative_to(args.source_dir.resolve())}: left out of this build on purpose")
    in_suite |= left_out

    missing = sorted(on_disk - in_suite)
    for path in missing:
        print(f"{path.relative_to(args.source_dir.resolve())}: not part of any ctest test; add it "
              "to its module's sluice_test(... SOURCES) or an add_test command",
              file=sys.stderr)
    print(f"{len(on_disk) - len(missing)} of {len(on_disk)} test files are in the suite")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
