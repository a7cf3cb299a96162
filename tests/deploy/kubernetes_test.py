#!/usr/bin/python3
"""Checks deploy/kubernetes/: every manifest parses and has the fields its kind needs, the
pieces fit together (selectors, named ports, the ConfigMap mount, the grace period against
drain_timeout), kustomization.yaml lists every manifest, and the ConfigMap's sluiced.yaml
is accepted by the real sluiced binary. When `kubectl` is on PATH, `kubectl kustomize`
must build the whole set too.

Usage: kubernetes_test.py --manifests deploy/kubernetes --sluiced build/bin/sluiced
       --example-config deploy/sluiced.yaml
"""

import argparse
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

ARGS = None

# kind -> apiVersion every manifest of that kind must use.
API_VERSIONS = {
    "ConfigMap": "v1",
    "Deployment": "apps/v1",
    "Service": "v1",
    "PodDisruptionBudget": "policy/v1",
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}
# How long sluiced may take to start or stop on a busy 2-core machine.
PROCESS_TIMEOUT_SECONDS = 60


def parse_duration_seconds(text):
    """A sluiced duration ("30s", "1m30s", "500ms") in seconds."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|ns|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


class KubernetesManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = ARGS.manifests
        cls.files = sorted(f for f in os.listdir(cls.dir) if f.endswith((".yaml", ".yml")))
        cls.docs = {}
        for name in cls.files:
            with open(os.path.join(cls.dir, name), encoding="utf-8") as f:
                cls.docs[name] = [d for d in yaml.safe_load_all(f) if d is not None]
        cls.by_kind = {}
        for docs in cls.docs.values():
            for doc in docs:
                cls.by_kind.setdefault(doc.get("kind"), []).append(doc)

    def one(self, kind, name=None):
        found = [d for d in self.by_kind.get(kind, [])
                 if name is None or d["metadata"]["name"] == name]
        self.assertEqual(len(found), 1, f"expected one {kind} {name or ''}")
        return found[0]

    def deployment(self):
        return self.one("Deployment")

    def container(self):
        containers = self.deployment()["spec"]["template"]["spec"]["containers"]
        self.assertEqual(len(containers), 1)
        return containers[0]

    def sluiced_config(self):
        return yaml.safe_load(self.one("ConfigMap")["data"]["sluiced.yaml"])

    def test_every_manifest_has_a_known_kind_api_version_and_name(self):
        self.assertGreaterEqual(len(self.files), 7)
        for name, docs in self.docs.items():
            with self.subTest(file=name):
                self.assertTrue(docs, "empty file")
                for doc in docs:
                    self.assertIn(doc.get("kind"), API_VERSIONS)
                    self.assertEqual(doc.get("apiVersion"), API_VERSIONS[doc["kind"]])
                    if doc["kind"] != "Kustomization":
                        self.assertTrue(doc["metadata"]["name"])
                        self.assertEqual(doc["metadata"]["labels"]["app.kubernetes.io/name"],
                                         "sluice")

    def test_kustomization_lists_every_manifest(self):
        kustomization = self.one("Kustomization")
        manifests = {f for f in self.files if f != "kustomization.yaml"}
        self.assertEqual(sorted(kustomization["resources"]), sorted(manifests))

    def test_kubectl_builds_the_kustomization(self):
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            self.skipTest("kubectl is not installed")
        result = subprocess.run([kubectl, "kustomize", self.dir], capture_output=True, text=True,
                                timeout=PROCESS_TIMEOUT_SECONDS, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        built = [d for d in yaml.safe_load_all(result.stdout) if d is not None]
        self.assertEqual(sorted(d["kind"] for d in built),
                         sorted(d["kind"] for k, docs in self.by_kind.items()
                                if k != "Kustomization" for d in docs))
        images = [c["image"] for d in built if d["kind"] == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]]
        kustomized = self.one("Kustomization")["images"][0]
        self.assertEqual(images, [f'{kustomized["newName"]}:{kustomized["newTag"]}'])

    def test_deployment_selects_its_own_pods(self):
        spec = self.deployment()["spec"]
        labels = spec["template"]["metadata"]["labels"]
        self.assertTrue(spec["selector"]["matchLabels"].items() <= labels.items())

    def test_container_has_image_ports_probes_and_resources(self):
        container = self.container()
        self.assertTrue(container["image"])
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(ports, {"ingest": 4317, "metrics": 9464})
        # gRPC health, which says NOT_SERVING while draining; a TCP check would not.
        self.assertEqual(container["readinessProbe"]["grpc"], {"port": ports["ingest"]})
        self.assertNotIn("tcpSocket", container["readinessProbe"])
        self.assertEqual(container["livenessProbe"]["httpGet"],
                         {"path": "/metrics", "port": "metrics"})
        self.assertNotEqual(container["readinessProbe"], container["livenessProbe"])
        resources = container["resources"]
        for key in ("cpu", "memory"):
            self.assertIn(key, resources["requests"])
        self.assertIn("memory", resources["limits"])

    def test_probes_use_ports_the_config_listens_on(self):
        config = self.sluiced_config()
        ports = {p["name"]: p["containerPort"] for p in self.container()["ports"]}
        self.assertEqual(config["ingest"]["listen"], f'0.0.0.0:{ports["ingest"]}')
        self.assertEqual(config["metrics"]["listen"], f'0.0.0.0:{ports["metrics"]}')
        # Admin can stop the server: it must not be reachable from outside the pod.
        self.assertTrue(config["admin"]["listen"].startswith("127.0.0.1:"))

    def test_admin_tokens_come_from_a_secret_mounted_where_the_config_reads_them(self):
        token_file = self.sluiced_config()["admin"]["token_file"]
        pod = self.deployment()["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        mounts = [m for m in self.container()["volumeMounts"] if m["name"] in secrets]
        self.assertEqual([os.path.join(m["mountPath"], "admin.tokens") for m in mounts],
                         [token_file])
        self.assertTrue(mounts[0]["readOnly"])

    def test_grace_period_covers_pre_stop_and_drain_timeout(self):
        pod = self.deployment()["spec"]["template"]["spec"]
        pre_stop = self.container()["lifecycle"]["preStop"]["exec"]["command"]
        self.assertEqual(pre_stop[0], "sleep")
        drain = parse_duration_seconds(self.sluiced_config()["shutdown"]["drain_timeout"])
        self.assertGreater(pod["terminationGracePeriodSeconds"], float(pre_stop[1]) + drain)

    def test_config_map_is_mounted_where_the_image_reads_it(self):
        pod = self.deployment()["spec"]["template"]["spec"]
        config_map = self.one("ConfigMap")["metadata"]["name"]
        volume = [v for v in pod["volumes"] if v.get("configMap", {}).get("name") == config_map]
        self.assertEqual(len(volume), 1)
        mounts = [m for m in self.container()["volumeMounts"] if m["name"] == volume[0]["name"]]
        self.assertEqual([m["mountPath"] for m in mounts], ["/etc/sluice"])
        self.assertIn("sluiced.yaml", self.one("ConfigMap")["data"])

    def test_services_reach_the_pods_by_named_ports(self):
        pod_labels = self.deployment()["spec"]["template"]["metadata"]["labels"]
        container_ports = {p["name"] for p in self.container()["ports"]}
        for name in ("sluice", "sluice-headless"):
            with self.subTest(service=name):
                spec = self.one("Service", name)["spec"]
                self.assertTrue(spec["selector"].items() <= pod_labels.items())
                ingest = [p for p in spec["ports"] if p["name"] == "ingest"]
                self.assertEqual([p["port"] for p in ingest], [4317])
                for port in spec["ports"]:
                    self.assertIn(port["targetPort"], container_ports)
        self.assertEqual(self.one("Service", "sluice-headless")["spec"]["clusterIP"], "None")

    def test_disruption_budget_and_service_monitor_select_the_right_objects(self):
        pod_labels = self.deployment()["spec"]["template"]["metadata"]["labels"]
        pdb = self.one("PodDisruptionBudget")["spec"]
        self.assertTrue(pdb["selector"]["matchLabels"].items() <= pod_labels.items())
        self.assertTrue("minAvailable" in pdb or "maxUnavailable" in pdb)
        monitor = self.one("ServiceMonitor")["spec"]
        selected = [s for s in self.by_kind["Service"]
                    if monitor["selector"]["matchLabels"].items()
                    <= s["metadata"]["labels"].items()]
        # Exactly one Service, or every pod would be scraped once per Service.
        self.assertEqual([s["metadata"]["name"] for s in selected], ["sluice"])
        self.assertIn(monitor["endpoints"][0]["port"],
                      [p["name"] for p in selected[0]["spec"]["ports"]])
        self.assertEqual(monitor["endpoints"][0]["path"], "/metrics")

    def test_config_map_has_the_sections_of_the_example_config(self):
        with open(ARGS.example_config, encoding="utf-8") as f:
            example = yaml.safe_load(f)
        self.assertEqual(sorted(self.sluiced_config()), sorted(example))

    def test_sluiced_starts_with_the_config_map_config(self):
        config = self.sluiced_config()
        with tempfile.TemporaryDirectory(prefix="sluice-k8s-") as tmp:
            # The pod's volume paths do not exist here: move file outputs into tmp.
            for output in config.get("outputs", []):
                if "path" in output:
                    output["path"] = os.path.join(tmp, os.path.basename(output["path"]))
            # The Secret's token file, too.
            if "token_file" in config.get("admin", {}):
                config["admin"]["token_file"] = os.path.join(tmp, "admin.tokens")
                with open(config["admin"]["token_file"], "w", encoding="utf-8") as f:
                    f.write("a-token-for-the-test\n")
            config_path = os.path.join(tmp, "sluiced.yaml")
            with open(config_path, "w", encoding="utf-8") as f:
                yaml.safe_dump(config, f)
            # sluiced prints its "listening" lines (and any config error) on stderr.
            stderr_path = os.path.join(tmp, "stderr")
            with open(stderr_path, "w", encoding="utf-8") as err:
                server = subprocess.Popen(
                    [ARGS.sluiced, "--config", config_path,
                     "--ingest_listen", "127.0.0.1:0", "--admin_listen", "127.0.0.1:0",
                     "--metrics_listen", "127.0.0.1:0"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            try:
                deadline = time.monotonic() + PROCESS_TIMEOUT_SECONDS
                stderr = ""
                while server.poll() is None and time.monotonic() < deadline:
                    with open(stderr_path, encoding="utf-8") as f:
                        stderr = f.read()
                    if stderr.count(" listening on ") == 3:
                        break
                    time.sleep(0.05)
                with open(stderr_path, encoding="utf-8") as f:
                    stderr = f.read()
                self.assertEqual(stderr.count(" listening on "), 3,
                                 f"sluiced did not start: {stderr}")
                server.send_signal(signal.SIGTERM)
                self.assertEqual(server.wait(timeout=PROCESS_TIMEOUT_SECONDS), 0)
            finally:
                if server.poll() is None:
                    server.kill()
                    server.wait()


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--manifests", required=True)
    parser.add_argument("--sluiced", required=True)
    parser.add_argument("--example-config", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
