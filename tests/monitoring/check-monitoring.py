#!/usr/bin/env python3
"""Checks docs/monitoring: `promtool check rules` and `promtool test rules` on the alerts, every
query of the Grafana dashboard parsed by promtool (as recording rules, Grafana's variables
replaced), the panels the dashboard promises present, and every portico_ metric the dashboard
and the alerts name exported by the programs' sources. Exits 77 (skipped) without promtool.
Usage: check-monitoring.py SOURCE_DIR
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PANELS = ["Request rate by route", "Error ratio by route (5xx)", "Latency percentiles",
          "Upstream connections", "Target health", "Route table revision per proxy",
          "Revision lag per proxy", "TLS certificate expiry"]
METRIC = re.compile(r"\b(portico_[a-z0-9_]+)")


def promtool(*args, cwd):
    run = subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True)
    print(run.stdout + run.stderr, end="")
    return run.returncode == 0


def exported(source):
    """Every metric name the C++ sources spell out."""
    names = set()
    for path in glob.glob(os.path.join(source, "*", "**", "*.cpp"), recursive=True):
        if "/tests/" in path:
            continue
        with open(path, encoding="utf-8") as f:
            names.update(re.findall(r'"(portico_[a-z0-9_]+)"', f.read()))
    return names


def main(source):
    if not shutil.which("promtool"):
        print("SKIPPED: promtool is not installed (scripts/deps.sh installs prometheus)")
        return 77
    folder = os.path.join(source, "docs", "monitoring")
    ok = promtool("check", "rules", "alerts.yml", cwd=folder)
    ok = promtool("test", "rules", "alerts-test.yml", cwd=folder) and ok
    with open(os.path.join(folder, "grafana-portico.json"), encoding="utf-8") as f:
        dashboard = json.load(f)
    titles = [p["title"] for p in dashboard["panels"]]
    for title in PANELS:
        if title not in titles:
            print(f"dashboard: no panel '{title}'")
            ok = False
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{i}",
         "expr": q.replace("$__rate_interval", "5m").replace("$instance", ".*")}
        for i, q in enumerate(queries)]}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard-queries.yml")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(rules, f)  # JSON is YAML
        ok = promtool("check", "rules", path, cwd=tmp) and ok
    with open(os.path.join(folder, "alerts.yml"), encoding="utf-8") as f:
        alerts = f.read()
    known = exported(source)
    for name in sorted(set(METRIC.findall(" ".join(queries) + alerts))):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        if base not in known:
            print(f"monitoring: {name} is not a metric the programs export")
            ok = False
    print(f"monitoring: {len(queries)} dashboard queries, alerts checked and tested"
          if ok else "monitoring: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
