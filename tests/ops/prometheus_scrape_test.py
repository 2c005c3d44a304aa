#!/usr/bin/env python3
"""A real Prometheus scrapes a real server with the shipped configuration.

deploy/prometheus/prometheus.yml and its alert rules are used as shipped,
only pointed at this test's ports and scraping every second: the target
must come up, the request counter must reach Prometheus after traffic, the
four alert rules must load, and, once the server stops, AchillesServerDown
must go pending.  Usage: prometheus_scrape_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

BUILD = pathlib.Path(sys.argv[1]).resolve()
SRC = pathlib.Path(sys.argv[2]).resolve()
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port, path, **params):
    url = f"http://127.0.0.1:{port}/api/v1/{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params)
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)["data"]


def wait_for(what, probe, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            value = probe()
            if value:
                return value
        except OSError:
            pass
        time.sleep(0.5)
    check(False, f"timed out waiting for {what}")
    return None


def query(port, expr):
    result = api(port, "query", query=expr)["result"]
    return float(result[0]["value"][1]) if result else None


def prometheus_config(work, metrics_port):
    shutil.copy(SRC / "deploy/prometheus/achilles-alerts.yml", work)
    text = (SRC / "deploy/prometheus/prometheus.yml").read_text()
    text = text.replace("127.0.0.1:9464", f"127.0.0.1:{metrics_port}")
    text = text.replace("scrape_interval: 15s", "scrape_interval: 1s")
    text = text.replace("evaluation_interval: 15s", "evaluation_interval: 1s")
    (work / "prometheus.yml").write_text(text)


def start_server(work, metrics_port):
    return subprocess.Popen(
        [BUILD / "services/server/achilles-server", "--listen=127.0.0.1:0",
         f"--data_dir={work / 'data'}", f"--port_file={work / 'port'}",
         f"--metrics_address=127.0.0.1:{metrics_port}", "--log_level=warning"],
        stderr=subprocess.DEVNULL)


def traffic(work):
    port = (work / "port").read_text().strip()
    ctl = [str(BUILD / "cli/achillesctl"), f"--server=127.0.0.1:{port}"]
    token = subprocess.run(
        ctl + [f"--token_file={work / 'data/operator.token'}", "token",
               "issue", "--subject=scrape", "--clinic=scrape",
               "--roles=ehr,clinician"],
        capture_output=True, text=True, check=True).stdout.strip()
    for n in range(5):
        subprocess.run(ctl + [f"--token={token}", "patient", "upsert",
                              f"p{n}"], capture_output=True, check=True)


def main():
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as d:
        work = pathlib.Path(d)
        metrics_port, prom_port = free_port(), free_port()
        prometheus_config(work, metrics_port)
        server = start_server(work, metrics_port)
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stderr=subprocess.DEVNULL)
        try:
            wait_for("the server's port file", lambda: (work / "port").exists())
            check(wait_for("target up", lambda: query(
                prom_port, 'up{job="achilles"}') == 1), "target never up")
            traffic(work)
            check(wait_for("requests in Prometheus", lambda: (query(
                prom_port, "sum(achilles_rpc_requests_total)") or 0) >= 5),
                "achilles_rpc_requests_total never reached 5")
            groups = api(prom_port, "rules")["groups"]
            names = {r["name"] for g in groups for r in g["rules"]}
            check({"AchillesServerDown", "AchillesHighErrorRatio",
                   "AchillesPluginFailures", "AchillesDiskNearFull"} <= names,
                  f"alert rules not loaded: {sorted(names)}")
            server.terminate()
            server.wait(timeout=30)
            check(wait_for("AchillesServerDown", lambda: query(
                prom_port, 'ALERTS{alertname="AchillesServerDown"}'), 40),
                "AchillesServerDown never pending after the server stopped")
        finally:
            for p in (server, prom):
                if p.poll() is None:
                    p.kill()
                    p.wait()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
