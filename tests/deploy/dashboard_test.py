#!/usr/bin/python3
"""Checks deploy/grafana/sluice-dashboard.json: valid JSON Grafana can import, and every
PromQL expression in it (panel targets and template variables) only names metric families
documented in docs/METRICS.md, so a renamed or removed metric cannot leave a dashboard
panel silently empty.

Usage: dashboard_test.py --dashboard FILE --metrics-doc docs/METRICS.md
"""

import argparse
import json
import re
import sys
import unittest

ARGS = None

# Words PromQL uses that look like metric names but are not.
PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "inf", "nan",
}
# Series a histogram or summary family is exposed as.
SERIES_SUFFIXES = ("_bucket", "_sum", "_count")


def documented_families(markdown):
    """Family name -> type, from table rows whose first cell is one backticked name."""
    families = {}
    for line in markdown.splitlines():
        match = re.match(r"^\|\s*`([a-zA-Z_:][a-zA-Z0-9_:]*)`\s*\|\s*([a-z]+)\s*\|", line)
        if match:
            families[match.group(1)] = match.group(2)
    return families


def metric_names(expr):
    """The metric names an expression selects: identifiers that are not functions,
    keywords, label names (in {...} or in by/without/on/ignoring/group_* lists), range
    durations, Grafana variables or string literals."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\$\{?\w+\}?", "", expr)
    names = set()
    for match in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", expr):
        word, is_call = match.group(1), match.group(2)
        if is_call or word.lower() in PROMQL_KEYWORDS:
            continue
        names.add(word)
    return names


def family_of(series, families):
    """The documented family a series name belongs to, or None."""
    if series in families:
        return series
    for suffix in SERIES_SUFFIXES:
        base = series[: -len(suffix)]
        if series.endswith(suffix) and families.get(base) in ("histogram", "summary"):
            return base
    return None


def walk_panels(panels):
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels", []))


def expressions(dashboard):
    """(where, expr) for every PromQL expression in the dashboard."""
    for panel in walk_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            yield f'panel "{panel.get("title")}" {target.get("refId")}', target.get("expr", "")
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        query = query.get("query", "") if isinstance(query, dict) else query
        # label_values(metric, label): only the metric is PromQL.
        label_values = re.match(r"^\s*label_values\((.*),\s*\w+\)\s*$", query)
        yield f'variable "{variable["name"]}"', label_values.group(1) if label_values else query


class MetricNamesTest(unittest.TestCase):
    def test_finds_only_metric_names_in_an_expression(self):
        self.assertEqual(
            metric_names('histogram_quantile(0.99, sum by (output, le) (rate('
                         'sluice_a_bucket{instance=~"$instance", le!="x"}[$__rate_interval])))'
                         ' / on (output) group_left sluice_b offset 5m'),
            {"sluice_a_bucket", "sluice_b"})

    def test_maps_histogram_series_to_their_family_only(self):
        families = {"sluice_h_seconds": "histogram", "sluice_c_total": "counter"}
        self.assertEqual(family_of("sluice_h_seconds_bucket", families), "sluice_h_seconds")
        self.assertIsNone(family_of("sluice_c_total_count", families))
        self.assertIsNone(family_of("sluice_missing", families))


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(ARGS.dashboard, encoding="utf-8") as f:
            cls.dashboard = json.load(f)
        with open(ARGS.metrics_doc, encoding="utf-8") as f:
            cls.families = documented_families(f.read())

    def test_metrics_doc_lists_families(self):
        self.assertGreaterEqual(len(self.families), 20, "docs/METRICS.md: no family rows found")

    def test_is_a_grafana_dashboard_with_panels(self):
        self.assertEqual(self.dashboard["title"], "Sluice")
        self.assertTrue(self.dashboard["uid"])
        self.assertGreaterEqual(self.dashboard["schemaVersion"], 36)
        panels = [p for p in walk_panels(self.dashboard["panels"]) if p["type"] != "row"]
        self.assertGreaterEqual(len(panels), 10)
        ids = [p["id"] for p in walk_panels(self.dashboard["panels"])]
        self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
        for panel in panels:
            with self.subTest(panel=panel["title"]):
                self.assertTrue(panel["targets"], "a panel without queries")
                for key in ("h", "w", "x", "y"):
                    self.assertIn(key, panel["gridPos"])

    def test_every_expression_names_only_documented_metrics(self):
        checked = 0
        for where, expr in expressions(self.dashboard):
            with self.subTest(where=where):
                names = metric_names(expr)
                self.assertTrue(names, f"{where}: no metric in {expr!r}")
                for name in names:
                    self.assertIsNotNone(
                        family_of(name, self.families),
                        f"{where}: {name} is not documented in docs/METRICS.md ({expr!r})")
                checked += 1
        self.assertGreaterEqual(checked, 15)

    def test_shows_what_an_operator_needs(self):
        used = set()
        for _, expr in expressions(self.dashboard):
            used |= {family_of(n, self.families) for n in metric_names(expr)}
        for family in ("sluice_ingest_records_received_total", "sluice_scheduler_queue_depth",
                       "sluice_scheduler_queue_capacity",
                       "sluice_scheduler_oldest_record_age_seconds",
                       "sluice_scheduler_backpressure_pauses_total",
                       "sluice_scheduler_parked_streams", "sluice_scheduler_records_dropped_total",
                       "sluice_ingest_records_rejected_total",
                       "sluice_ingest_records_filtered_total",
                       "sluice_output_write_duration_seconds",
                       "sluice_output_records_send_failed_total",
                       "sluice_output_records_dropped_total", "sluice_record_latency_seconds",
                       "sluice_level_threshold", "sluice_draining"):
            with self.subTest(family=family):
                self.assertIn(family, used)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--dashboard", required=True)
    parser.add_argument("--metrics-doc", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
