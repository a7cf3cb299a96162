#!/usr/bin/python3
"""The installed client library, used from outside the tree as an application would.

Installs the `client` component of the build tree into a scratch prefix
(`cmake --install --prefix`), builds examples/cpp-client against it three ways
(find_package(sluice) with sluice::client, the same with SLUICE_CLIENT_STATIC=ON, and a
plain compiler call with `pkg-config --cflags --libs sluice-client`), and runs each build
against a real sluiced on 127.0.0.1 port 0: the example must exit 0 once its 1,000
records were acknowledged, and the server's file output must hold all of them.

Run by ctest (tests/install/CMakeLists.txt) with Debian's interpreter:
    /usr/bin/python3 client_consumer_test.py --build-dir build --source-dir . \\
        --sluiced build/bin/sluiced --cmake /usr/bin/cmake
"""

import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

# Set from the command line in main().
ARGS = None

# Bounded waits: generous for a busy 2-core machine, yet a broken server fails, not hangs.
AWAIT_SECONDS = 60
RECORDS = 1000

CONFIG = """
outputs:
  - { type: file, name: main, path: "%s", format: json }
"""


def run(argv, env=None):
    """Runs argv to completion; fails the test with its output when it exits non-zero."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    if result.returncode != 0:
        raise AssertionError("%s exited %d:\n%s\n%s" %
                             (" ".join(argv), result.returncode, result.stdout, result.stderr))
    return result


class Sluiced:
    """One sluiced in `directory`, on port 0, writing JSON lines to records.log there."""

    def __init__(self, directory):
        os.makedirs(directory)
        self.records_path = os.path.join(directory, "records.log")
        config_path = os.path.join(directory, "sluiced.yaml")
        with open(config_path, "w") as config:
            config.write(CONFIG % self.records_path)
        self.stderr_path = os.path.join(directory, "stderr.log")
        with open(self.stderr_path, "w") as stderr:
            self.process = subprocess.Popen(
                [ARGS.sluiced, "--config", config_path, "--ingest_listen", "127.0.0.1:0",
                 "--admin_listen", "127.0.0.1:0", "--metrics_listen", "127.0.0.1:0"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        self.ingest_target = None
        deadline = time.monotonic() + AWAIT_SECONDS
        prefix = "sluiced: ingest listening on "
        while self.ingest_target is None:
            for line in self.stderr().splitlines():
                if line.startswith(prefix):
                    self.ingest_target = "127.0.0.1:" + line.rsplit(":", 1)[1]
            if self.ingest_target is None:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.kill()
                    raise AssertionError("sluiced did not listen; stderr:\n" + self.stderr())
                time.sleep(0.01)

    def stderr(self):
        with open(self.stderr_path) as stderr:
            return stderr.read()

    def stop(self):
        """SIGTERM: the server drains and flushes; returns its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=AWAIT_SECONDS)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def records(self):
        with open(self.records_path) as records:
            return [json.loads(line) for line in records]


class ClientConsumerTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="sluice-consumer-test-")
        cls.prefix = os.path.join(cls.scratch, "prefix")
        run([ARGS.cmake, "--install", ARGS.build_dir, "--prefix", cls.prefix,
             "--component", "client"])
        cls.example = os.path.join(ARGS.source_dir, "examples", "cpp-client")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def send_and_check(self, binary, name):
        """Runs `binary` against a fresh sluiced; every record must be acked and written."""
        server = Sluiced(os.path.join(self.scratch, "server-" + name))
        try:
            result = subprocess.run([binary, server.ingest_target], capture_output=True,
                                    text=True, timeout=AWAIT_SECONDS)
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
            self.assertIn("%d records acknowledged" % RECORDS, result.stdout)
            self.assertEqual(server.stop(), 0, server.stderr())
        finally:
            server.kill()
        records = server.records()
        self.assertEqual(len(records), RECORDS)
        self.assertEqual({r["logger"] for r in records}, {"example.cpp_client"})
        self.assertEqual(sorted(int(r["index"]) for r in records), list(range(RECORDS)))

    def cmake_build(self, name, *options):
        build = os.path.join(self.scratch, "build-" + name)
        run([ARGS.cmake, "-S", self.example, "-B", build, "-G", "Ninja",
             "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_PREFIX_PATH=" + self.prefix] + list(options))
        run([ARGS.cmake, "--build", build])
        return os.path.join(build, "send_records")

    def linked_libraries(self, binary):
        return run(["ldd", binary]).stdout

    def test_find_package_shared(self):
        binary = self.cmake_build("shared")
        # The build tree's RUNPATH finds the library in the scratch prefix.
        self.assertIn(os.path.join(self.prefix, "lib"), self.linked_libraries(binary))
        self.send_and_check(binary, "shared")

    def test_find_package_static(self):
        binary = self.cmake_build("static", "-DSLUICE_CLIENT_STATIC=ON")
        self.assertNotIn("libsluice-client", self.linked_libraries(binary))
        self.send_and_check(binary, "static")

    def test_pkg_config(self):
        pc_files = glob.glob(os.path.join(self.prefix, "lib*", "**", "sluice-client.pc"),
                             recursive=True)
        self.assertEqual(len(pc_files), 1, pc_files)
        env = dict(os.environ, PKG_CONFIG_PATH=os.path.dirname(pc_files[0]))
        flags = run(["pkg-config", "--cflags", "--libs", "sluice-client"], env=env).stdout.split()
        libdir = run(["pkg-config", "--variable=libdir", "sluice-client"], env=env).stdout.strip()
        binary = os.path.join(self.scratch, "send_records_pkg_config")
        run(["c++", "-std=c++17", "-O1", os.path.join(self.example, "main.cc"), "-o", binary] +
            flags + ["-Wl,-rpath," + libdir])
        self.send_and_check(binary, "pkg-config")


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--sluiced", required=True)
    parser.add_argument("--cmake", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
