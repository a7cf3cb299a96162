#!/usr/bin/python3
"""The Debian package, made by `cpack -G DEB` from the build tree and unpacked into a scratch root.

Checks the file list (binaries, client library, headers with the generated protos,
CMake package, pkg-config file, config, systemd unit, logrotate file, bash completion, man
pages, and nothing from tests/ or bench/), the control data (Depends derived from the
shared libraries, conffiles, maintainer scripts), the unit (`systemd-analyze verify` on a
copy that points at the unpacked binary, and the hardening and timeouts
docs/DEPLOY.md promises), the packaged logrotate file rotating a running sluiced's file
output (logrotate, Debian; skipped without it), and the unpacked sluiced itself:
`--version`, and a start on the packaged config with its paths moved into the scratch root.

Run by ctest (tests/install/CMakeLists.txt) with Debian's interpreter:
    /usr/bin/python3 package_test.py --build-dir build --cpack /usr/bin/cpack --version 0.1.0
"""

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import yaml

# Set from the command line in main().
ARGS = None

# Bounded waits: generous for a busy 2-core machine, yet a broken server fails, not hangs.
AWAIT_SECONDS = 60


def run(argv, **kwargs):
    """Runs argv to completion; fails the test with its output when it exits non-zero."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kwargs)
    if result.returncode != 0:
        raise AssertionError("%s exited %d:\n%s\n%s" %
                             (" ".join(argv), result.returncode, result.stdout, result.stderr))
    return result


def duration_seconds(text):
    """A sluiced or systemd duration ("30s", "1m30s", "90s", "500ms") in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+)(ms|min|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text.replace(" ", ""):
        raise ValueError("not a duration: %r" % text)
    return sum(int(n) * units[u] for n, u in parts)


class PackageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="sluice-package-test-")
        out = os.path.join(cls.scratch, "out")
        run([ARGS.cpack, "-G", "DEB", "--config",
             os.path.join(ARGS.build_dir, "CPackConfig.cmake"), "-B", out])
        debs = glob.glob(os.path.join(out, "*.deb"))
        if len(debs) != 1:
            raise AssertionError("expected one .deb in %s, found %s" % (out, debs))
        cls.deb = debs[0]
        cls.root = os.path.join(cls.scratch, "root")
        cls.control = os.path.join(cls.scratch, "control")
        run(["dpkg-deb", "-x", cls.deb, cls.root])
        run(["dpkg-deb", "-e", cls.deb, cls.control])
        listing = run(["dpkg-deb", "-c", cls.deb]).stdout.splitlines()
        # "-rw-r--r-- root/root 123 2026-01-01 00:00 ./usr/bin/sluiced"
        cls.files = {line.split()[5][2:] for line in listing if not line.startswith("d")}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_file_name_and_version(self):
        self.assertEqual(os.path.basename(self.deb),
                         "sluice_%s_%s.deb" % (ARGS.version, self.field("Architecture")))
        self.assertEqual(self.field("Package"), "sluice")
        self.assertEqual(self.field("Version"), ARGS.version)

    def test_file_list(self):
        expected = [
            "usr/bin/sluiced",
            "usr/bin/sluice",
            "etc/sluice/sluiced.yaml",
            "etc/logrotate.d/sluice",
            "usr/lib/systemd/system/sluiced.service",
            "usr/share/bash-completion/completions/sluice",
            "usr/share/man/man1/sluiced.1",
            "usr/share/man/man1/sluice.1",
            "usr/include/sluice/client.h",
            "usr/include/sluice/level.h",
            "usr/include/sluice/channel_credentials.h",
            # What client.h includes, generated (logs.proto imports nothing).
            "usr/include/sluice/protos/sluice/v1/logs.pb.h",
            "usr/include/sluice/protos/sluice/v1/logs.grpc.pb.h",
        ]
        for path in expected:
            self.assertIn(path, self.files)
        # The library directory is GNUInstallDirs' (lib, or lib/<multiarch> with prefix /usr).
        for pattern in ("usr/lib*/libsluice-client.a", "usr/lib*/libsluice-client.so.%s" %
                        ARGS.version, "usr/lib*/cmake/sluice/sluiceConfig.cmake",
                        "usr/lib*/cmake/sluice/sluiceConfigVersion.cmake",
                        "usr/lib*/cmake/sluice/sluiceTargets.cmake",
                        "usr/lib*/pkgconfig/sluice-client.pc"):
            self.assertTrue(glob.glob(os.path.join(self.root, pattern)), pattern)
        # Only the two commands: no test, benchmark or tool binary.
        self.assertEqual(sorted(os.listdir(os.path.join(self.root, "usr/bin"))),
                         ["sluice", "sluiced"])
        self.assertFalse([f for f in self.files if re.search(r"_test|bench|gtest|gmock", f)])

    def test_man_pages_and_completion_come_from_the_binaries(self):
        with open(os.path.join(self.root, "usr/share/man/man1/sluiced.1")) as page:
            text = page.read()
        self.assertIn(".TH SLUICED", text)
        self.assertIn("metrics_listen", text)
        with open(os.path.join(self.root, "usr/share/bash-completion/completions/sluice")) as f:
            self.assertIn("complete", f.read())

    def test_depends_are_derived_from_the_shared_libraries(self):
        depends = self.field("Depends")
        self.assertTrue(depends)
        names = {re.split(r"[ (]", d.strip())[0] for d in depends.split(",")}
        for library in ("libc6", "libstdc++6", "libsystemd0"):
            self.assertIn(library, names)
        self.assertTrue([n for n in names if n.startswith("libgrpc++")], depends)
        self.assertTrue([n for n in names if n.startswith("libprotobuf")], depends)

    def test_conffiles_and_maintainer_scripts(self):
        with open(os.path.join(self.control, "conffiles")) as conffiles:
            self.assertEqual(conffiles.read().split(),
                             ["/etc/sluice/sluiced.yaml", "/etc/logrotate.d/sluice"])
        for conffile in ("etc/sluice/sluiced.yaml", "etc/logrotate.d/sluice"):
            self.assertIn(conffile, self.files)
        # libsluice-client.so is found by the dynamic linker's cache after an install.
        with open(os.path.join(self.control, "triggers")) as triggers:
            self.assertIn("activate-noawait ldconfig", triggers.read())
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            run(["sh", "-n", path])
        with open(os.path.join(self.control, "postinst")) as postinst:
            text = postinst.read()
        self.assertIn("useradd --system", text)
        self.assertIn("/var/lib/sluice /var/log/sluice", text)

    def unit(self):
        with open(os.path.join(self.root, "usr/lib/systemd/system/sluiced.service")) as unit:
            return unit.read()

    def test_unit_settings(self):
        settings = {}
        for line in self.unit().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                settings.setdefault(key, value)
        self.assertEqual(settings["Type"], "notify")
        self.assertEqual(settings["ExecStart"],
                         "/usr/bin/sluiced --config /etc/sluice/sluiced.yaml")
        self.assertEqual(settings["ExecReload"], "/bin/kill -HUP $MAINPID")
        self.assertEqual(settings["KillSignal"], "SIGTERM")
        self.assertEqual(settings["User"], "sluice")
        self.assertEqual(settings["Group"], "sluice")
        self.assertEqual(settings["ProtectSystem"], "strict")
        self.assertEqual(settings["ReadWritePaths"].split(), ["/var/lib/sluice", "/var/log/sluice"])
        self.assertEqual(settings["NoNewPrivileges"], "yes")
        self.assertEqual(settings["Restart"], "on-failure")
        self.assertGreaterEqual(int(settings["LimitNOFILE"]), 65536)
        # A stop must outlast the drain, or systemd kills the server mid-drain.
        with open(os.path.join(self.root, "etc/sluice/sluiced.yaml")) as config:
            drain = duration_seconds(yaml.safe_load(config)["shutdown"]["drain_timeout"])
        self.assertGreater(duration_seconds(settings["TimeoutStopSec"]), drain + 10)

    def test_systemd_analyze_verify(self):
        # verify needs ExecStart's binary to exist: a copy of the unit runs the unpacked one.
        unit_dir = os.path.join(self.scratch, "units")
        os.makedirs(unit_dir, exist_ok=True)
        unit_path = os.path.join(unit_dir, "sluiced.service")
        with open(unit_path, "w") as unit:
            unit.write(self.unit().replace("/usr/bin/sluiced",
                                           os.path.join(self.root, "usr/bin/sluiced")))
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", unit_path],
                                capture_output=True, text=True, timeout=120)
        complaints = [line for line in (result.stdout + result.stderr).splitlines()
                      if "sluiced.service" in line]
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(complaints, [])

    def test_unpacked_sluiced_runs(self):
        sluiced = os.path.join(self.root, "usr/bin/sluiced")
        version = run([sluiced, "--version"]).stdout
        self.assertEqual(version.strip(), "sluiced %s" % ARGS.version)
        # Abseil's --help exits 1; the man page is made from this text.
        help_text = subprocess.run([sluiced, "--help"], capture_output=True, text=True,
                                   timeout=60).stdout
        self.assertIn("--metrics_listen", help_text)
        self.assertIn("completion bash",
                      run([os.path.join(self.root, "usr/bin/sluice"), "--help"]).stdout)

    def start_sluiced(self, name, config_text):
        """The unpacked sluiced on `config_text`, on port 0; returns (process, stderr path,
        ingest target) once it listens."""
        config_path = os.path.join(self.scratch, name + ".yaml")
        with open(config_path, "w") as config:
            config.write(config_text)
        stderr_path = os.path.join(self.scratch, name + ".stderr")
        with open(stderr_path, "w") as stderr:
            process = subprocess.Popen(
                [os.path.join(self.root, "usr/bin/sluiced"), "--config", config_path,
                 "--ingest_listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0",
                 "--metrics_listen", "127.0.0.1:0"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        self.addCleanup(self.kill, process)
        output = self.await_stderr(process, stderr_path, "metrics listening on")
        ingest = re.search(r"ingest listening on [\d.]+:(\d+)", output).group(1)
        return process, stderr_path, "127.0.0.1:" + ingest

    def await_stderr(self, process, stderr_path, text):
        """Waits until the server printed `text`; fails if it exits or never does."""
        deadline = time.monotonic() + AWAIT_SECONDS
        while True:
            with open(stderr_path) as stderr:
                output = stderr.read()
            if text in output:
                return output
            self.assertIsNone(process.poll(), output)
            self.assertLess(time.monotonic(), deadline, output)
            time.sleep(0.01)

    @staticmethod
    def kill(process):
        if process.poll() is None:
            process.kill()
            process.wait()

    def send(self, target, message):
        run([os.path.join(self.root, "usr/bin/sluice"), "--target", target, "send",
             "--logger", "rotation", "--message", message])

    @unittest.skipUnless(shutil.which("logrotate"), "logrotate is not installed")
    def test_logrotate_renames_and_sluiced_reopens(self):
        log_dir = os.path.join(self.scratch, "rotated")
        os.makedirs(log_dir)
        records = os.path.join(log_dir, "records.log")
        process, stderr_path, target = self.start_sluiced("rotate", """
outputs:
  - { type: file, name: main, path: "%s", format: json, flush_interval: 50ms }
""" % records)
        self.send(target, "before the rotation")
        deadline = time.monotonic() + AWAIT_SECONDS
        while not (os.path.exists(records) and os.path.getsize(records) > 0):
            self.assertLess(time.monotonic(), deadline, "records.log was never written")
            time.sleep(0.01)

        # The packaged file on this directory; its postrotate signals this server alone,
        # not every sluiced on the machine.
        with open(os.path.join(self.root, "etc/logrotate.d/sluice")) as packaged:
            text = packaged.read()
        script = re.search(r"postrotate\n(.*?)\n\s*endscript", text, re.S)
        self.assertIsNotNone(script, text)
        text = text.replace(script.group(1), "    kill -HUP %d" % process.pid)
        text = text.replace("/var/log/sluice", log_dir)
        conf = os.path.join(self.scratch, "logrotate.conf")
        with open(conf, "w") as f:
            f.write(text)
        run(["logrotate", "--force", "--state", os.path.join(self.scratch, "logrotate.state"),
             conf])
        self.await_stderr(process, stderr_path, "sluiced: reloaded")
        self.send(target, "after the rotation")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=AWAIT_SECONDS), 0)

        def messages(path):
            with open(path) as f:
                return [json.loads(line)["message"] for line in f]

        # delaycompress: the first rotation is records.log.1, compressed only at the next.
        self.assertEqual(messages(records + ".1"), ["before the rotation"])
        self.assertEqual(messages(records), ["after the rotation"])

    def test_unpacked_sluiced_starts_on_the_packaged_config(self):
        with open(os.path.join(self.root, "etc/sluice/sluiced.yaml")) as config:
            text = config.read()
        log_dir = os.path.join(self.scratch, "var/log/sluice")
        os.makedirs(log_dir)
        process, _, target = self.start_sluiced("packaged",
                                                text.replace("/var/log/sluice", log_dir))
        self.send(target, "on the packaged config")
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=AWAIT_SECONDS), 0)
        with open(os.path.join(log_dir, "records.log")) as records:
            self.assertIn("on the packaged config", records.read())


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--cpack", required=True)
    parser.add_argument("--version", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
