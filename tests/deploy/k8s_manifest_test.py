#!/usr/bin/env python3
"""deploy/k8s against deploy/haproxy: the facts the manifests must agree on.

No cluster runs in CI, so this checks what a wrong edit would break
silently: each shard serves exactly the clinics the router sends it, the
per-shard patch replaces the --serve_clinics argument and not another, the
router's shard addresses name the shards' headless services, and every pod
runs bounded, unprivileged and probed.  Usage: k8s_manifest_test.py SRC_DIR
"""
import pathlib
import re
import sys

import yaml

SRC = pathlib.Path(sys.argv[1])
K8S = SRC / "deploy" / "k8s"
HAPROXY = SRC / "deploy" / "haproxy"
failures = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        failures.append(what)


def load(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def clinic_map():
    shards = {}
    for line in (HAPROXY / "clinics.map").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            clinic, backend = line.split()
            check(clinic not in shards, f"clinic {clinic} mapped twice")
            shards[clinic] = backend
    return shards


def check_base():
    sts = load(K8S / "base" / "statefulset.yaml")[0]
    spec = sts["spec"]
    check(spec["replicas"] == 1, "a shard is one replica (RocksDB lock)")
    pod = spec["template"]["spec"]
    check(pod["securityContext"]["runAsNonRoot"] is True, "shard runs as root")
    server = pod["containers"][0]
    check(server["args"][7].startswith("--serve_clinics="),
          "shard patches replace args[7], which must be --serve_clinics")
    for probe in ("readinessProbe", "livenessProbe"):
        command = server[probe]["exec"]["command"]
        check(command[0].endswith("achillesctl") and command[-1] == "health",
              f"{probe} must run achillesctl health")
    limits = server["resources"]["limits"]
    check("cpu" in limits and "memory" in limits, "shard has no limits")
    check(server["securityContext"]["allowPrivilegeEscalation"] is False,
          "shard may escalate privileges")
    kinds = {d["kind"] for f in (K8S / "base").glob("*.yaml") for d in load(f)}
    check({"StatefulSet", "Service", "PodDisruptionBudget"} <= kinds,
          f"base lacks a kind: {kinds}")


def served_by_patch(n):
    kust = load(K8S / "shards" / f"shard-{n}" / "kustomization.yaml")[0]
    check(kust["nameSuffix"] == f"-{n}", f"shard-{n} name suffix")
    for op in yaml.safe_load(kust["patches"][0]["patch"]):
        if op["path"].endswith("/args/7"):
            return set(op["value"].split("=", 1)[1].split(","))
    check(False, f"shard-{n} does not set --serve_clinics")
    return set()


def check_router(shard_count):
    cfg = re.sub(r"#.*", "", (HAPROXY / "haproxy.cfg").read_text())
    backends = set(re.findall(r"^backend (shard\d+)$", cfg, re.M))
    check(backends == {f"shard{n}" for n in range(shard_count)},
          f"haproxy.cfg backends {sorted(backends)}")
    deployment = load(K8S / "router" / "deployment.yaml")[0]
    env = {e["name"]: e.get("value", "")
           for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    for n in range(shard_count):
        want = (f"achilles-shard-{n}-0.achilles-shard-{n}."
                "$(POD_NAMESPACE).svc.cluster.local:50051")
        check(env.get(f"ACH_SHARD{n}") == want, f"ACH_SHARD{n} != {want}")
    check(list(env).index("POD_NAMESPACE") == 0,
          "POD_NAMESPACE must come before the names that use it")
    for var in re.findall(r"\$\{(\w+)\}", cfg):
        check(var in env, f"haproxy.cfg uses {var}, the router does not set it")


def main():
    mapping = clinic_map()
    shard_dirs = sorted((K8S / "shards").iterdir())
    check_base()
    for n in range(len(shard_dirs)):
        want = {c for c, b in mapping.items() if b == f"shard{n}"}
        got = served_by_patch(n)
        check(got == want, f"shard-{n} serves {sorted(got)}, map says {sorted(want)}")
    check_router(len(shard_dirs))
    for f in failures:
        print("FAIL:", f)
    print(f"{checks - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
