# SPDX-License-Identifier: BSD-3-Clause
"""deploy_test: the checks of deploy/ (run by redis-tests/harness/suite-deploy).

Prints TAP lines ("ok - NAME", "not ok - NAME" with "#   detail" lines, "ok - NAME # SKIP why").

Without any cluster runtime:
  yaml        yamllint -s on every YAML file of deploy/ and conf/ and on the rendered chart
  prometheus  promtool check config / check rules / test rules
  helm        the chart renders (helm from build/cache, fetched by fetch_helm.py; helmlite.py when
              no helm can be had, and the test names say so), helm and helmlite agree document
              for document, bad values fail (even replicas, missing secrets), and the rendered
              objects have the properties deploy/ promises: non-root, read-only root, probes,
              PodDisruptionBudget of a majority, NetworkPolicy keeping the bus among repram pods,
              a ServiceAccount with no token, anti-affinity, resources; every REPRAM_* variable
              any manifest sets is an option `repram-server --help` lists
  k8s         deploy/k8s/ is exactly what deploy/k8s/generate renders from the chart
  docker      Dockerfile: multi-stage, Debian slim, numeric non-root USER, HEALTHCHECK, exec-form
              ENTRYPOINT/CMD, every shared library of the binaries installed in the runtime stage
  install     `make install` with PREFIX and DESTDIR; the unit passes systemd-analyze verify and
              its sandbox scores "OK" in systemd-analyze security
Live, on this machine, without a container engine (manifests.py):
  compose     the three nodes of deploy/compose/compose.yaml, started through the image's entry
              point with the compose environment and secrets made by the compose "secrets"
              service; Prometheus with deploy/prometheus/prometheus.yml scrapes them, the rules
              evaluate without error, no alert fires, every dashboard query runs, and every
              metric the rules and dashboard name is one the nodes export
  statefulset the three pods of the StatefulSet (deploy/k8s, i.e. the chart), with the ConfigMap,
              a Secret made by deploy/k8s/gen-secret.sh, the downward API and $(VAR) expansion;
              readiness 503 -> 200, a majority-acknowledged write, a rolling restart of one pod
Each node gets its own loopback address 127.a.b.n with the manifests' own ports; the names the
manifests use (repram-2, repram-1.repram-headless.<ns>.svc.cluster.local) resolve to those
addresses through a private /etc/hosts (unshare --mount; without it, names are replaced by
addresses and the test says so).  Processes are stopped by the PIDs started here.
"""
import base64
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import manifests  # noqa: E402

TOP = manifests.TOP
BUILD = os.environ.get("BUILD", "build/release")
BUILD = BUILD if os.path.isabs(BUILD) else os.path.join(TOP, BUILD)
CACHE = os.environ.get("CACHE", "build/cache")
CACHE = CACHE if os.path.isabs(CACHE) else os.path.join(TOP, CACHE)
SERVER = os.environ.get("REPRAM_SERVER") or os.path.join(BUILD, "bin", "repram-server")
WORK = os.environ.get("WORK") or tempfile.mkdtemp(prefix="repram-deploy.")
CHART = os.path.join(TOP, "deploy", "helm", "repram")
HELMLITE = os.path.join(TOP, "redis-tests", "deploy", "helmlite.py")
YAMLLINT_CONF = os.path.join(TOP, "deploy", ".yamllint.yaml")
PY = "/usr/bin/python3"

FAILED = 0
STARTED = []  # Popen objects started here, stopped by PID at exit


def emit(line):
    print(line, flush=True)


def ok(name):
    emit("ok - " + name)


def fail(name, *details):
    global FAILED
    FAILED += 1
    emit("not ok - " + name)
    for d in details:
        for line in str(d).splitlines()[:25]:
            emit("#   " + line)


def skip(name, why):
    emit("ok - %s # SKIP %s" % (name, why))


def check(name, cond, *details):
    if cond:
        ok(name)
    else:
        fail(name, *details)
    return cond


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def guarded(section):
    """Run one section; an exception is one failure, not the end of the suite."""
    def wrap(fn):
        def inner(*a, **kw):
            try:
                return fn(*a, **kw)
            except Exception as e:  # noqa: BLE001 - reported as a test failure
                import traceback
                fail("%s: the checks ran to the end" % section, "%s: %s" % (type(e).__name__, e),
                     traceback.format_exc())
        return inner
    return wrap


def server_options():
    out = run([SERVER, "--help"]).stdout
    opts = set(re.findall(r"^  --([a-z][a-z0-9-]+)\s{2,}\S", out, re.M))
    opts -= {"config", "help", "version"}
    return opts


def env_name(option):
    return "REPRAM_" + option.upper().replace("-", "_")


# Variables the image's entry point understands besides the server's own.
ENTRYPOINT_VARS = {"REPRAM_CLUSTER_SECRET_FILE", "REPRAM_CLUSTER_SECRET_ACCEPT_FILE",
                   "REPRAM_REQUIREPASS_FILE", "REPRAM_HTTP_WRITE_TOKEN_FILE",
                   "REPRAM_HTTP_READ_TOKEN_FILE"}


def unknown_repram_vars(names, options):
    known = {env_name(o) for o in options} | ENTRYPOINT_VARS
    return sorted(n for n in names if n.startswith("REPRAM_") and n not in known)


# ---------------------------------------------------------------------------------------------
# YAML and Prometheus

def yaml_files():
    files = []
    for root in ("deploy", "conf"):
        for dirpath, _, names in os.walk(os.path.join(TOP, root)):
            if os.path.join("deploy", "helm", "repram", "templates") in dirpath:
                continue
            files += [os.path.join(dirpath, n) for n in names if n.endswith((".yaml", ".yml"))]
    return sorted(files)


@guarded("yaml")
def test_yamllint():
    if not shutil.which("yamllint"):
        fail("yaml: yamllint is installed (make deps)")
        return
    for f in yaml_files():
        r = run(["yamllint", "-s", "-c", YAMLLINT_CONF, f])
        check("yaml: yamllint %s" % os.path.relpath(f, TOP), r.returncode == 0, r.stdout, r.stderr)


@guarded("prometheus")
def test_promtool():
    if not shutil.which("promtool"):
        fail("prometheus: promtool is installed (Debian package prometheus, make deps)")
        return
    pdir = os.path.join(TOP, "deploy", "prometheus")
    for cfg in ("prometheus.yml", "prometheus-k8s.yml"):
        r = run(["promtool", "check", "config", cfg], cwd=pdir)
        check("prometheus: promtool check config %s" % cfg, r.returncode == 0, r.stdout, r.stderr)
    r = run(["promtool", "check", "rules", "repram-rules.yml"], cwd=pdir)
    check("prometheus: promtool check rules repram-rules.yml", r.returncode == 0, r.stdout, r.stderr)
    r = run(["promtool", "test", "rules", "tests/rules-test.yml"], cwd=pdir)
    check("prometheus: promtool test rules (when each alert fires)", r.returncode == 0, r.stdout, r.stderr)
    # every alert has a severity and a summary; every alert is documented in operations.md
    rules = yaml.safe_load(open(os.path.join(pdir, "repram-rules.yml")))
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    bad = [a["alert"] for a in alerts
           if a.get("labels", {}).get("severity") not in ("critical", "warning", "info")
           or not a.get("annotations", {}).get("summary")]
    check("prometheus: every alert has a severity and a summary", not bad, bad)
    ops = os.path.join(TOP, "docs", "operations.md")
    text = open(ops).read() if os.path.exists(ops) else ""
    missing = [a["alert"] for a in alerts if a["alert"] not in text]
    check("prometheus: docs/operations.md explains every alert", not missing, "missing: %s" % missing)
    tested = set(re.findall(r"alertname: (\w+)", open(os.path.join(pdir, "tests", "rules-test.yml")).read()))
    must = {"RepramNodeDown", "RepramQuorumLost", "RepramWriteQuorumTimeouts", "RepramMemoryNearMaxmemory",
            "RepramAntiEntropyNotConverging", "RepramRateLimiting"}
    check("prometheus: the rule tests cover node down, quorum, memory, anti-entropy, rate limiting",
          must <= tested, "untested: %s" % sorted(must - tested))


# ---------------------------------------------------------------------------------------------
# Helm

SECRET = "0123456789abcdef0123456789abcdef"
VARIANTS = {
    "defaults": ["auth.clusterSecret=" + SECRET, "auth.password=pw-" + SECRET[:8]],
    "five voters, TLS everywhere, own Secret": [
        "replicas=5", "auth.existingSecret=mine", "tls.existingSecret=mytls", "tls.enabled=true",
        "tls.http=true", "tls.authClients=optional", "tls.bus=true", "antiAffinity=soft",
        "metrics.serviceMonitor.enabled=true", "config.loglevel=verbose", "config.node-timeout=3000",
        "maxmemory=1000000000", "ttl.clamp=true"],
    "one node": ["replicas=1", "auth.password=pw"],
    "no password, network policy": ["auth.enabled=false", "auth.clusterSecret=" + SECRET],
}
INVALID = {
    "replicas=2": (["replicas=2"], "must be odd"),
    "replicas=4": (["replicas=4"], "must be odd"),
    "replicas=0": (["replicas=0"], "at least 1"),
    "no password": (["auth.password="], "auth.password is required"),
    "no cluster secret": (["auth.clusterSecret="], "auth.clusterSecret is required"),
    "short cluster secret": (["auth.clusterSecret=short"], "at least 16 characters"),
    "no auth and no network policy": (["auth.enabled=false", "networkPolicy.enabled=false"],
                                      "needs networkPolicy.enabled=true"),
    "TLS without a Secret": (["tls.enabled=true"], "need tls.existingSecret"),
    "HTTPS probes with required client certificates": (
        ["tls.http=true", "tls.existingSecret=t"], "would refuse the kubelet's probes"),
    "unknown antiAffinity": (["antiAffinity=sometimes"], "antiAffinity must be"),
}


class Renderer:
    def __init__(self):
        self.helm = os.environ.get("HELM") or shutil.which("helm")
        self.why_not = None
        if os.environ.get("HELM") == "none":  # to exercise the fallback: HELM=none
            self.helm, self.why_not = None, "HELM=none"
        elif not self.helm:
            r = run([PY, os.path.join(TOP, "redis-tests", "deploy", "fetch_helm.py"), CACHE], timeout=400)
            if r.returncode == 0:
                self.helm = r.stdout.strip()
            else:
                self.why_not = (r.stderr.strip().splitlines() or ["fetch_helm.py failed"])[-1]

    def helm_template(self, sets, name="repram", namespace="deploy-test"):
        cmd = [self.helm, "template", name, CHART, "-n", namespace]
        for s in sets:
            cmd += ["--set", s]
        return run(cmd)

    def lite_template(self, sets, name="repram", namespace="deploy-test", notes=False):
        cmd = [PY, HELMLITE, "template", CHART, "--name", name, "-n", namespace]
        for s in sets:
            cmd += ["--set", s]
        if notes:
            cmd.append("--notes")
        return run(cmd)

    def template(self, sets, **kw):
        return self.helm_template(sets, **kw) if self.helm else self.lite_template(sets, **kw)


def split_docs(text):
    docs = {}
    for d in re.split(r"^---\n", text, flags=re.M):
        m = re.match(r"# Source: (\S+)\n", d)
        if m:
            docs.setdefault(m.group(1), []).append(d.strip("\n"))
    return docs


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def check_objects(tag, objs, n, values):
    """The properties deploy/ promises, on one rendering."""
    kinds = {}
    for o in objs:
        kinds.setdefault(o["kind"], []).append(o)
    sts = kinds.get("StatefulSet", [None])[0]
    if not check("helm [%s]: renders a StatefulSet" % tag, sts is not None, sorted(kinds)):
        return
    spec = sts["spec"]
    tpl = spec["template"]
    pod = tpl["spec"]
    pod_labels = tpl["metadata"]["labels"]
    c = pod["containers"][0]
    csc = c.get("securityContext", {})
    psc = pod.get("securityContext", {})
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    check("helm [%s]: %d replicas, odd" % (tag, n), spec["replicas"] == n and n % 2 == 1, spec["replicas"])
    check("helm [%s]: pods start in parallel (a new cluster needs a majority before any is ready)" % tag,
          spec.get("podManagementPolicy") == "Parallel")
    check("helm [%s]: selector matches the pod labels" % tag,
          labels_match(spec["selector"]["matchLabels"], pod_labels))
    check("helm [%s]: runs as non-root (runAsNonRoot, uid != 0)" % tag,
          psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0
          and csc.get("runAsUser", psc.get("runAsUser")) != 0, psc, csc)
    check("helm [%s]: read-only root, no privilege escalation, all capabilities dropped" % tag,
          csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False
          and csc.get("capabilities", {}).get("drop") == ["ALL"] and not csc.get("privileged"), csc)
    check("helm [%s]: seccomp RuntimeDefault" % tag,
          psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", psc)
    rp = c.get("readinessProbe", {}).get("httpGet", {})
    check("helm [%s]: readiness probe is GET /v1/health on the HTTP port (503 while LOADING)" % tag,
          rp.get("path") == "/v1/health" and rp.get("port") in ("http", ports.get("http")), c.get("readinessProbe"))
    lp = c.get("livenessProbe", {}).get("httpGet", {})
    check("helm [%s]: liveness probe is GET /v1/status (200 also while LOADING)" % tag,
          lp.get("path") == "/v1/status" and lp.get("port") in ("http", ports.get("http")), c.get("livenessProbe"))
    scheme = "HTTPS" if values.get("tls.http") == "true" else "HTTP"
    check("helm [%s]: probes use %s" % (tag, scheme),
          rp.get("scheme") == scheme and lp.get("scheme") == scheme)
    res = c.get("resources", {})
    check("helm [%s]: cpu and memory requests and limits" % tag,
          all(k in res.get(w, {}) for w in ("requests", "limits") for k in ("cpu", "memory")), res)
    aa = pod.get("affinity", {}).get("podAntiAffinity", {})
    hard = aa.get("requiredDuringSchedulingIgnoredDuringExecution")
    soft = aa.get("preferredDuringSchedulingIgnoredDuringExecution")
    if values.get("antiAffinity") == "soft":
        term = soft[0]["podAffinityTerm"] if soft else {}
    else:
        term = hard[0] if hard else {}
    check("helm [%s]: pod anti-affinity per machine (%s)" % (tag, values.get("antiAffinity", "hard")),
          term.get("topologyKey") == "kubernetes.io/hostname"
          and labels_match(term.get("labelSelector", {}).get("matchLabels"), pod_labels), aa)
    check("helm [%s]: no service account token mounted" % tag, pod.get("automountServiceAccountToken") is False)
    sa = [o for o in kinds.get("ServiceAccount", [])]
    check("helm [%s]: its own ServiceAccount, without a token, and no Role or RoleBinding" % tag,
          len(sa) == 1 and sa[0].get("automountServiceAccountToken") is False
          and pod.get("serviceAccountName") == sa[0]["metadata"]["name"]
          and not any(k in kinds for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")))
    # Services
    headless = [s for s in kinds.get("Service", []) if s["spec"].get("clusterIP") == "None"]
    client = [s for s in kinds.get("Service", []) if s["spec"].get("clusterIP") != "None"]
    check("helm [%s]: headless Service named by serviceName, publishing not-ready pods" % tag,
          len(headless) == 1 and headless[0]["metadata"]["name"] == spec["serviceName"]
          and headless[0]["spec"].get("publishNotReadyAddresses") is True
          and labels_match(headless[0]["spec"]["selector"], pod_labels))
    check("helm [%s]: a client Service for RESP and HTTP without the bus port" % tag,
          len(client) == 1 and labels_match(client[0]["spec"]["selector"], pod_labels)
          and {p["name"] for p in client[0]["spec"]["ports"]} >= {"resp", "http"}
          and "bus" not in {p["name"] for p in client[0]["spec"]["ports"]}, client)
    if values.get("metrics.serviceMonitor.enabled") == "true":
        sms = kinds.get("ServiceMonitor", [])
        sel = sms[0]["spec"]["selector"]["matchLabels"] if sms else {}
        check("helm [%s]: the ServiceMonitor scrapes the headless Service (not-ready pods too)" % tag,
              len(sms) == 1 and headless and client and labels_match(sel, headless[0]["metadata"]["labels"])
              and not labels_match(sel, client[0]["metadata"]["labels"])
              and sms[0]["spec"]["endpoints"][0]["port"] == "http", sms)
    # Seeds and members
    env = {e["name"]: e for e in c.get("env", [])}
    cm = kinds.get("ConfigMap", [{}])[0].get("data", {})
    names = ["%s-%d" % (sts["metadata"]["name"], i) for i in range(n)]
    check("helm [%s]: cluster-size and cluster-members are the pods" % tag,
          cm.get("REPRAM_CLUSTER_SIZE") == str(n) and cm.get("REPRAM_CLUSTER_MEMBERS", "").split() == names, cm)
    check("helm [%s]: node-name is the pod name" % tag,
          env.get("REPRAM_NODE_NAME", {}).get("value") == "$(POD_NAME)"
          and env.get("POD_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name")
    if n > 1:
        want = ["%s.%s.$(POD_NAMESPACE).svc.cluster.local:%d" % (p, spec["serviceName"], ports["bus"]) for p in names]
        check("helm [%s]: seeds are every pod's name under the headless Service, bus port" % tag,
              env.get("REPRAM_SEEDS", {}).get("value", "").split() == want, env.get("REPRAM_SEEDS"))
        secret_ok = "REPRAM_CLUSTER_SECRET" in env or ("tls.bus=true" in values.get("_sets", []) and
                                                       cm.get("REPRAM_CLUSTER_TLS_CERT_FILE"))
        check("helm [%s]: the bus is authenticated (cluster secret or mutual TLS)" % tag, bool(secret_ok))
    # PodDisruptionBudget
    pdb = kinds.get("PodDisruptionBudget", [])
    if n == 1:
        check("helm [%s]: no PodDisruptionBudget for one node" % tag, not pdb)
    else:
        check("helm [%s]: PodDisruptionBudget keeps a majority (%d of %d) available" % (tag, n // 2 + 1, n),
              len(pdb) == 1 and pdb[0]["spec"].get("minAvailable") == n // 2 + 1
              and labels_match(pdb[0]["spec"]["selector"]["matchLabels"], pod_labels), pdb)
    # NetworkPolicy
    nps = kinds.get("NetworkPolicy", [])
    if check("helm [%s]: a NetworkPolicy selects the pods" % tag,
             len(nps) == 1 and labels_match(nps[0]["spec"]["podSelector"]["matchLabels"], pod_labels)
             and "Ingress" in nps[0]["spec"]["policyTypes"]):
        rules = nps[0]["spec"].get("ingress", [])

        def allows_bus(rule):
            return any(p.get("port") in ("bus", ports["bus"]) for p in rule.get("ports", [])) or "ports" not in rule
        bus_rules = [r for r in rules if allows_bus(r)]
        only_pods = all(
            len(r.get("from", [])) >= 1 and all(
                set(f) == {"podSelector"} and labels_match(f["podSelector"].get("matchLabels"), pod_labels)
                and f["podSelector"].get("matchLabels") for f in r["from"])
            for r in bus_rules)
        check("helm [%s]: NetworkPolicy: the bus port only from repram pods" % tag,
              bus_rules and only_pods, rules)
        check("helm [%s]: NetworkPolicy: clients reach RESP and HTTP" % tag,
              any({"resp", "http"} <= {p.get("port") for p in r.get("ports", [])} for r in rules), rules)
    # Secrets referenced exist in the chart's Secret (when it makes one)
    secrets = kinds.get("Secret", [])
    refs = [e["valueFrom"]["secretKeyRef"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
    if secrets:
        keys = set(secrets[0].get("data", {}))
        missing = [r["key"] for r in refs if r["key"] not in keys and not r.get("optional")]
        check("helm [%s]: every required secretKeyRef is a key of the Secret" % tag, not missing, missing)
    # TLS files referenced are mounted
    files = [v for k, v in cm.items() if k.endswith("_FILE")]
    mounts = [m["mountPath"] for m in c.get("volumeMounts", [])]
    check("helm [%s]: every file the configuration names is on a mounted volume" % tag,
          all(any(f.startswith(m.rstrip("/") + "/") for m in mounts) for f in files), files, mounts)


def parse_docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


@guarded("helm")
def test_helm(renderer, options):
    if renderer.helm:
        ok("helm: a real helm binary is available (%s)" % renderer.helm)
    else:
        emit("# no helm binary (%s): the chart is rendered with redis-tests/deploy/helmlite.py, which "
             "implements the template subset the chart uses" % renderer.why_not)
        skip("helm: a real helm binary is available", "none could be installed (%s); rendering with helmlite.py"
             % renderer.why_not)
    how = "helm" if renderer.helm else "helmlite.py, no helm binary"
    if renderer.helm:
        r = run([renderer.helm, "lint", "--strict", CHART] + sum((["--set", s] for s in VARIANTS["defaults"]), []))
        check("helm: helm lint --strict", r.returncode == 0, r.stdout, r.stderr)
    for tag, sets in VARIANTS.items():
        r = renderer.template(sets)
        if not check("helm [%s]: the chart renders (%s)" % (tag, how), r.returncode == 0, r.stderr):
            continue
        if renderer.helm:
            lite = renderer.lite_template(sets)
            a, b = split_docs(r.stdout), split_docs(lite.stdout)
            diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
            check("helm [%s]: helmlite.py renders exactly what helm renders" % tag,
                  lite.returncode == 0 and not diff, lite.stderr, "differs: %s" % diff)
        lint = subprocess.run(["yamllint", "-s", "-c", YAMLLINT_CONF, "-"], input=r.stdout,
                              capture_output=True, text=True)
        check("helm [%s]: the rendered manifests pass yamllint" % tag, lint.returncode == 0, lint.stdout)
        objs = parse_docs(r.stdout)
        values = dict(s.split("=", 1) for s in sets)
        values["_sets"] = sets
        n = int(values.get("replicas", 3))
        check_objects(tag, objs, n, values)
        names = set()
        for o in objs:
            if o["kind"] == "ConfigMap":
                names |= set(o.get("data", {}))
            if o["kind"] == "StatefulSet":
                names |= {e["name"] for e in o["spec"]["template"]["spec"]["containers"][0].get("env", [])}
        bad = unknown_repram_vars(names, options)
        check("helm [%s]: every REPRAM_* variable is an option of repram-server --help" % tag, not bad, bad)
    for tag, (sets, msg) in INVALID.items():
        full = dict(s.split("=", 1) for s in VARIANTS["defaults"])
        full.update(dict(s.split("=", 1) for s in sets))
        r = renderer.template(["%s=%s" % kv for kv in full.items()])
        check("helm: refuses %s (%s)" % (tag, how), r.returncode != 0 and msg in r.stderr,
              "status %d" % r.returncode, r.stderr)
        if renderer.helm:
            lite = renderer.lite_template(["%s=%s" % kv for kv in full.items()])
            check("helm: helmlite.py refuses %s too" % tag, lite.returncode != 0 and msg in lite.stderr, lite.stderr)
    # NOTES.txt: how to connect
    notes = renderer.lite_template(VARIANTS["defaults"], notes=True)
    check("helm: NOTES.txt explains how to connect (password, in-cluster address, port-forward)",
          notes.returncode == 0 and "port-forward svc/repram" in notes.stdout
          and "requirepass" in notes.stdout and "repram.deploy-test.svc.cluster.local" in notes.stdout,
          notes.stdout, notes.stderr)
    if renderer.helm:
        # helm template does not print NOTES.txt: render it through a template that includes it.
        tmp = tempfile.mkdtemp(dir=WORK)
        chart = os.path.join(tmp, "repram")
        shutil.copytree(CHART, chart)
        with open(os.path.join(chart, "templates", "zz-notes.yaml"), "w") as f:
            f.write('notes: |\n{{ include "repram/templates/NOTES.txt" . | indent 2 }}\n')
        r = run([renderer.helm, "template", "repram", chart, "-n", "deploy-test",
                 "--show-only", "templates/zz-notes.yaml"] + sum((["--set", s] for s in VARIANTS["defaults"]), []))
        got = yaml.safe_load(r.stdout.split("\n", 2)[2]).get("notes", "") if r.returncode == 0 else ""
        check("helm: helmlite.py renders NOTES.txt as helm does", got.rstrip() == notes.stdout.rstrip(),
              r.stderr, got[:400])


@guarded("k8s")
def test_k8s_generated(renderer):
    gen = os.path.join(TOP, "deploy", "k8s", "generate")
    if renderer.helm:
        r = run([PY, gen, "--check", "--helm", renderer.helm])
        check("k8s: deploy/k8s/ is what deploy/k8s/generate renders from the chart (helm)",
              r.returncode == 0, r.stdout, r.stderr)
    r = run([PY, gen, "--check", "--helmlite"])
    check("k8s: deploy/k8s/ is what deploy/k8s/generate renders from the chart (helmlite.py)",
          r.returncode == 0, r.stdout, r.stderr)
    kdir = os.path.join(TOP, "deploy", "k8s")
    kust = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml")))
    have = {n for n in os.listdir(kdir) if n.endswith(".yaml")} - {"kustomization.yaml", "values.yaml"}
    check("k8s: kustomization.yaml lists every manifest", set(kust["resources"]) == have,
          sorted(set(kust["resources"]) ^ have))
    objs = manifests.load_objects([os.path.join(kdir, f) for f in sorted(have)])
    check("k8s: no Secret with real values is committed", not manifests.find(objs, "Secret"))


# ---------------------------------------------------------------------------------------------
# Dockerfile, compose, install

def load_image():
    return manifests.Image(os.path.join(TOP, "deploy", "docker", "Dockerfile"))


@guarded("docker")
def test_dockerfile(options):
    img = load_image()
    check("docker: multi-stage build on Debian slim", len(img.stages) >= 2
          and all(s.split()[0].startswith("debian:") and "slim" in s for s in img.stages), img.stages)
    check("docker: runs as a numeric non-root user", bool(img.user) and
          re.fullmatch(r"[1-9]\d*(:\d+)?", img.user) is not None, img.user)
    check("docker: has a HEALTHCHECK that asks /v1/health", img.healthcheck is not None
          and "health" in img.healthcheck, img.healthcheck)
    check("docker: ENTRYPOINT and CMD are in exec form and start the server with the baked config",
          img.entrypoint and "--config" in img.cmd, img.entrypoint, img.cmd)
    pmap = img.path_map(os.path.join(BUILD, "bin"))
    missing = [s for opts, srcs, _ in img.copies if not any(o.startswith("--from") for o in opts)
               for s in srcs if not os.path.exists(os.path.join(TOP, s))]
    check("docker: every COPY source exists", not missing, missing)
    conf = pmap.get(img.cmd[img.cmd.index("--config") + 1]) if "--config" in img.cmd else None
    cfg = yaml.safe_load(open(conf)) if conf and os.path.exists(conf) else {}
    check("docker: the baked config has only real options", cfg and not (set(cfg) - options), set(cfg) - options)
    port = int(cfg.get("port", 6379))
    want = {port, int(cfg.get("http-port", 8080)), int(cfg.get("cluster-port") or 0) or port + 10000}
    check("docker: EXPOSE lists the RESP, HTTP and bus ports", set(img.expose) == want, img.expose, want)
    r = run(["bash", "-n", os.path.join(TOP, "deploy", "docker", "entrypoint.sh")])
    check("docker: the entry point script parses", r.returncode == 0, r.stderr)
    # the runtime stage installs the package of every shared library the binaries need
    binaries = [SERVER, os.path.join(os.path.dirname(SERVER), "repram")]
    ldd = "".join(run(["ldd", b]).stdout for b in binaries if os.path.exists(b))
    if re.search(r"lib(asan|ubsan)", ldd):
        skip("docker: the runtime stage has every shared library", "sanitizer build")
        return
    libs = sorted(set(re.findall(r"=> (/\S+)", ldd)))
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", " ".join(img.run)))
    need = {}
    for lib in libs:
        r = run(["dpkg", "-S", os.path.realpath(lib)])
        if r.returncode != 0:
            r = run(["dpkg", "-S", lib])
        pkg = r.stdout.split(":")[0].strip() if r.returncode == 0 else "?"
        need[lib] = pkg
    absent = {lib: p for lib, p in need.items() if p not in installed and p not in ("libc6",)}
    check("docker: the runtime stage installs every shared library of repram-server and repram",
          libs and not absent, absent)


def dockerignore(path):
    """A predicate: is this context-relative path left out of the build context?  The subset of
    .dockerignore syntax deploy/docker uses: globs with * ? **, ! exceptions, later lines win, a
    pattern that matches a directory matches what is under it."""
    rules = []
    for line in open(path).read().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = line.lstrip("!").strip("/")
        rx = ""
        i = 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx += "(.*/)?"
                i += 3
            elif pat.startswith("**", i):
                rx += ".*"
                i += 2
            elif pat[i] == "*":
                rx += "[^/]*"
                i += 1
            elif pat[i] == "?":
                rx += "[^/]"
                i += 1
            else:
                rx += re.escape(pat[i])
                i += 1
        rules.append((neg, re.compile("^" + rx + "(/.*)?$")))

    def excluded(rel):
        out = False
        for neg, rx in rules:
            if rx.match(rel):
                out = not neg
        return out
    return excluded


@guarded("docker")
def test_docker_build_stage():
    """The build stage, without Docker: its COPY lines (through the .dockerignore) into an empty
    directory, its make command there, and the files the runtime stage copies from it."""
    img = load_image()
    build = img.all_stages[0]
    ignore_file = os.path.join(TOP, "deploy", "docker", "Dockerfile.dockerignore")
    excluded = dockerignore(ignore_file) if os.path.exists(ignore_file) else (lambda rel: False)
    root = os.path.join(WORK, "docker-build")
    shutil.rmtree(root, ignore_errors=True)
    src_dir = root + build["workdir"]
    os.makedirs(src_dir)
    for opts, srcs, dst in build["copies"]:
        for src in srcs:
            target = os.path.join(src_dir, dst) if not dst.startswith("/") else root + dst
            full = os.path.join(TOP, src)
            if os.path.isfile(full):
                if not excluded(src):
                    os.makedirs(target if dst.endswith("/") else os.path.dirname(target), exist_ok=True)
                    shutil.copy2(full, target if not dst.endswith("/") else os.path.join(target, os.path.basename(src)))
                continue
            for dirpath, _, names in os.walk(full):
                for n in names:
                    rel = os.path.relpath(os.path.join(dirpath, n), TOP)
                    if excluded(rel):
                        continue
                    out = os.path.join(target, os.path.relpath(os.path.join(dirpath, n), full))
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    shutil.copy2(os.path.join(dirpath, n), out)
    outdir = os.path.join(root, "out")
    makes = [r for r in build["run"] if re.search(r"\bmake\b", r)]
    ok_all = bool(makes)
    for cmd in makes:
        cmd = re.sub(r"DESTDIR=/out\b", "DESTDIR=" + outdir, cmd)
        r = run(["sh", "-c", cmd], cwd=src_dir, timeout=600, env={"PATH": "/usr/bin:/bin", "HOME": root})
        ok_all = check("docker: the build stage's make runs on exactly what it copies (%s)" % cmd[:60],
                       r.returncode == 0, r.stdout[-1500:], r.stderr[-1500:]) and ok_all
    if not ok_all:
        return
    froms = [(s, d) for opts, srcs, d in img.copies if any(o.startswith("--from=") for o in opts) for s in srcs]
    missing = [s for s, _ in froms if not os.path.exists(outdir + s[len("/out"):] if s.startswith("/out/") else "")]
    check("docker: the runtime stage's COPY --from=build files exist", froms and not missing, missing)
    r = run([outdir + "/usr/local/bin/repram-server", "--version"])
    check("docker: the binary built that way runs", r.returncode == 0 and "repram-server" in r.stdout, r.stdout, r.stderr)


@guarded("compose")
def test_compose_static(options):
    path = os.path.join(TOP, "deploy", "compose", "compose.yaml")
    comp = manifests.load_compose(path)
    services = comp["services"]
    nodes = sorted(n for n, s in services.items() if "REPRAM_NODE_NAME" in manifests.compose_env(s))
    check("compose: three repram nodes", len(nodes) == 3, nodes)
    envs = {n: manifests.compose_env(services[n]) for n in nodes}
    names = [envs[n]["REPRAM_NODE_NAME"] for n in nodes]
    check("compose: node names are the service names and the cluster members",
          names == nodes and all(e.get("REPRAM_CLUSTER_MEMBERS", "").split() == nodes for e in envs.values())
          and all(e.get("REPRAM_CLUSTER_SIZE") == "3" for e in envs.values()), envs)
    check("compose: every node seeds with every node's bus address",
          all(sorted(e.get("REPRAM_SEEDS", "").split()) == sorted("%s:16379" % n for n in nodes)
              for e in envs.values()))
    bad = unknown_repram_vars({k for e in envs.values() for k in e}, options)
    check("compose: every REPRAM_* variable is an option of repram-server --help", not bad, bad)
    check("compose: secrets come from files, never from the compose file",
          all("REPRAM_CLUSTER_SECRET" not in e and "REPRAM_REQUIREPASS" not in e and
              e.get("REPRAM_CLUSTER_SECRET_FILE") and e.get("REPRAM_REQUIREPASS_FILE") for e in envs.values()))
    check("compose: read-only root, capabilities dropped, no new privileges",
          all(services[n].get("read_only") is True and services[n].get("cap_drop") == ["ALL"]
              and any("no-new-privileges" in o for o in services[n].get("security_opt", [])) for n in nodes))
    pub = [p for n in nodes for p in services[n].get("ports", [])]
    check("compose: ports are published on the host's loopback only",
          pub and all(str(p).startswith("127.0.0.1:") for p in pub), pub)
    prom = services.get("prometheus", {})
    check("compose: Prometheus mounts deploy/prometheus and loads prometheus.yml",
          any(str(v).startswith("../prometheus:/etc/prometheus") for v in prom.get("volumes", []))
          and "--config.file=/etc/prometheus/prometheus.yml" in prom.get("command", []), prom)


@guarded("install")
def test_install():
    for prefix, bindir, conf, unitdir in (("/usr/local", "/usr/local/bin", "/usr/local/etc/repram",
                                           "/usr/local/lib/systemd/system"),
                                          ("/usr", "/usr/bin", "/etc/repram", "/lib/systemd/system")):
        dest = os.path.join(WORK, "install" + prefix.replace("/", "-"))
        shutil.rmtree(dest, ignore_errors=True)
        r = run(["make", "--no-print-directory", "-s", "-C", TOP, "install", "PREFIX=" + prefix,
                 "DESTDIR=" + dest], timeout=600)
        if not check("install: make install PREFIX=%s DESTDIR=..." % prefix, r.returncode == 0, r.stdout, r.stderr):
            continue
        files = [bindir + "/repram-server", bindir + "/repram", conf + "/repram.yaml", unitdir + "/repram.service",
                 prefix + "/lib/librepram.so.1", prefix + "/lib/librepram.a", prefix + "/include/repram.h"]
        missing = [f for f in files if not os.path.exists(dest + f)]
        check("install: PREFIX=%s puts binaries, config, unit and library in place" % prefix, not missing, missing)
        unit = open(dest + unitdir + "/repram.service").read() if not missing else ""
        check("install: PREFIX=%s: the unit starts %s/repram-server with %s/repram.yaml" % (prefix, bindir, conf),
              "ExecStart=%s/repram-server --config %s/repram.yaml" % (bindir, conf) in unit,
              [line for line in unit.splitlines() if line.startswith("Exec")])
        # an edited configuration survives a second install
        cpath = dest + conf + "/repram.yaml"
        if os.path.exists(cpath):
            with open(cpath, "a") as f:
                f.write("# edited\n")
            run(["make", "--no-print-directory", "-s", "-C", TOP, "install", "PREFIX=" + prefix, "DESTDIR=" + dest],
                timeout=600)
            check("install: PREFIX=%s: a second install keeps the edited configuration" % prefix,
                  open(cpath).read().endswith("# edited\n"))
        if prefix == "/usr/local" and not missing:
            if not shutil.which("systemd-analyze"):
                fail("install: systemd-analyze is installed (package systemd)")
                continue
            # verify needs the binary at ExecStart's path: point it into DESTDIR
            test_unit = os.path.join(WORK, "repram.service")
            with open(test_unit, "w") as f:
                f.write(unit.replace("ExecStart=%s/" % bindir, "ExecStart=%s%s/" % (dest, bindir)))
            r = run(["systemd-analyze", "verify", "--man=no", test_unit])
            check("install: systemd-analyze verify accepts the unit", r.returncode == 0 and not r.stderr.strip(),
                  r.stdout, r.stderr)
            r = run(["systemd-analyze", "security", "--offline=yes", test_unit])
            m = re.search(r"Overall exposure level for repram.service: ([\d.]+) (\w+)", r.stdout + r.stderr)
            check("install: the unit's sandbox: systemd-analyze security rates it OK (exposure <= 2.0)",
                  m is not None and float(m.group(1)) <= 2.0, m.group(0) if m else r.stdout[-500:] + r.stderr)


# ---------------------------------------------------------------------------------------------
# Live clusters

class Cluster:
    """Nodes of one topology on 127.a.b.n with their manifests' ports and names."""

    def __init__(self, label, nodes):
        self.label = label
        self.nodes = nodes
        a, b = random.randint(100, 250), random.randint(1, 250)
        for i, n in enumerate(nodes):
            n.address = "127.%d.%d.%d" % (a, b, i + 1)
        self.dir = os.path.join(WORK, label)
        os.makedirs(self.dir, exist_ok=True)
        self.hosts = os.path.join(self.dir, "hosts")
        with open("/etc/hosts") as f:
            base = f.read()
        with open(self.hosts, "w") as f:
            f.write(base.rstrip("\n") + "\n# repram deploy test\n")
            for n in nodes:
                f.write("%s %s\n" % (n.address, " ".join(n.names)))
        self.private_hosts = run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                                  'mount --bind "$0" /etc/hosts && exec getent hosts "$1"', self.hosts,
                                  nodes[0].names[-1]]).stdout.split()[:1] == [nodes[0].address]
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin, exist_ok=True)
        for name in ("repram-server", "repram"):
            src = os.path.join(os.path.dirname(SERVER), name)
            link = os.path.join(self.bin, name)
            if os.path.exists(src) and not os.path.lexists(link):
                os.symlink(src, link)

    def rewrite_names(self, value):
        """Without a private /etc/hosts: the names in a value replaced by addresses."""
        for n in self.nodes:
            for name in sorted(n.names, key=len, reverse=True):
                value = re.sub(r"(?<![\w.-])%s(?=:)" % re.escape(name), n.address, value)
        return value

    def wrap(self, argv):
        if self.private_hosts:
            return ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                    'mount --bind "$0" /etc/hosts && exec "$@"', self.hosts] + argv
        return argv

    def env_for(self, node):
        env = {"PATH": self.bin + ":/usr/local/bin:/usr/bin:/bin", "HOME": "/nonexistent", "HOSTNAME": node.name}
        for k, v in node.env.items():
            env[k] = v if self.private_hosts else self.rewrite_names(v)
        return env

    def start(self, node):
        # The one change to the manifests' configuration: bind to this node's own address
        # instead of 0.0.0.0 (a flag, which wins over the environment and the file).
        argv = self.wrap(node.argv + ["--bind", node.address])
        log = open(os.path.join(self.dir, node.name + ".log"), "ab")
        node.proc = subprocess.Popen(argv, env=self.env_for(node), stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, start_new_session=True)
        STARTED.append(node.proc)

    def log(self, node, lines=15):
        try:
            with open(os.path.join(self.dir, node.name + ".log"), errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""


def stop(proc, timeout=15):
    """SIGTERM the PID we started, then SIGKILL; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def http(addr, port, path, timeout=3):
    """(status, body) of GET http://addr:port/path; (0, error) when nothing answers."""
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (addr, port, path), timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, urllib.error.URLError) as e:
        return 0, str(e)


def http_put(addr, port, path, body, headers=None):
    req = urllib.request.Request("http://%s:%d%s" % (addr, port, path), data=body, method="PUT",
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def resp(addr, port, *args, password=None):
    """One command over a fresh connection (AUTH first with a password); the reply as text."""
    with socket.create_connection((addr, port), timeout=5) as s:
        f = s.makefile("rb")

        def send(*a):
            s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in
                                                     (y.encode() if isinstance(y, str) else y for y in a)))
            line = f.readline().rstrip(b"\r\n").decode(errors="replace")
            if line.startswith("$") and int(line[1:]) >= 0:
                data = f.read(int(line[1:]) + 2)[:-2].decode(errors="replace")
                return data
            if line.startswith("$-1"):
                return None
            return line
        if password is not None:
            r = send("AUTH", password)
            if r != "+OK":
                return "AUTH: %s" % r
        return send(*args)


def metrics(addr, port):
    status, body = http(addr, port, "/metrics")
    out = {}
    if status != 200:
        return out
    for line in body.splitlines():
        if line and not line.startswith("#"):
            key, _, val = line.rpartition(" ")
            try:
                out[key] = float(val)
            except ValueError:
                pass
    return out


def port_free(addr, port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_for(fn, timeout, step=0.1):
    end = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > end:
            return v
        time.sleep(step)


def option_value(node, option, image_conf, default):
    """What the node's configuration says for an option: flag, environment, file, default."""
    argv = node.argv
    if "--" + option in argv:
        return argv[argv.index("--" + option) + 1]
    if env_name(option) in node.env:
        return node.env[env_name(option)]
    if option in image_conf and image_conf[option] not in (None, ""):
        return image_conf[option]
    return default


def node_ports(node, image_conf):
    port = int(option_value(node, "port", image_conf, 6379))
    httpp = int(option_value(node, "http-port", image_conf, 8080))
    bus = int(option_value(node, "cluster-port", image_conf, 0)) or port + 10000
    return port, httpp, bus


def live_cluster(label, cluster, image, image_conf, password, healthcheck_argv):
    """The common part of both topologies: start one node alone (it must stay LOADING: not
    ready), then the others; all become ready, see each other, refuse clients without the
    password, and a write through one node is acknowledged by a majority and read on the others."""
    nodes = cluster.nodes
    ports = {n.name: node_ports(n, image_conf) for n in nodes}
    if cluster.private_hosts:
        ok("%s: the manifests' names resolve through a private /etc/hosts (unshare --mount)" % label)
    else:
        emit("# %s: unshare --mount is not available: host names in the configuration are replaced by "
             "addresses" % label)
        skip("%s: the manifests' names resolve through a private /etc/hosts" % label, "unshare --mount unavailable")
    busy = [(n.address, p) for n in nodes for p in ports[n.name] if not port_free(n.address, p)]
    if not check("%s: the manifests' ports are free on the nodes' addresses" % label, not busy, busy):
        return False
    first = nodes[0]
    p0, h0, _ = ports[first.name]
    cluster.start(first)
    up = wait_for(lambda: http(first.address, h0, "/v1/health")[0] or first.proc.poll() is not None, 10)
    if not check("%s: %s starts with the manifests' configuration" % (label, first.name),
                 up and first.proc.poll() is None, cluster.log(first)):
        return False
    st, body = http(first.address, h0, "/v1/health")
    check("%s: alone, %s is not ready: /v1/health 503 loading (readiness probe fails)" % (label, first.name),
          st == 503 and '"loading"' in body, st, body)
    check("%s: alone, %s is alive: /v1/status 200 (liveness probe passes)" % (label, first.name),
          http(first.address, h0, "/v1/status")[0] == 200)
    r = resp(first.address, p0, "GET", "k", password=password)
    check("%s: alone, %s answers -LOADING" % (label, first.name), str(r).startswith("-LOADING"), r)
    if healthcheck_argv:
        hc = run(healthcheck_argv + [first.address], env=cluster.env_for(first), timeout=10)
        check("%s: the image's HEALTHCHECK fails while %s is LOADING" % (label, first.name), hc.returncode != 0)
    for n in nodes[1:]:
        cluster.start(n)

    def all_ready():
        return all(http(n.address, ports[n.name][1], "/v1/health")[0] == 200 for n in nodes)
    ready = wait_for(all_ready, 30, 0.2)
    if not check("%s: all three nodes become ready: /v1/health 503 -> 200" % label, ready,
                 *["%s: %s\n%s" % (n.name, http(n.address, ports[n.name][1], "/v1/health"), cluster.log(n))
                   for n in nodes]):
        return False
    if healthcheck_argv:
        hc = [run(healthcheck_argv + [n.address], env=cluster.env_for(n), timeout=10).returncode for n in nodes]
        check("%s: the image's HEALTHCHECK passes on every node" % label, hc == [0, 0, 0], hc)

    def formed():
        for n in nodes:
            m = metrics(n.address, ports[n.name][1])
            if m.get('repram_peers{state="ok"}') != 2 or m.get("repram_cluster_quorum") != 2:
                return False
        return True
    check("%s: they form one cluster: every node sees two peers ok, quorum 2" % label, wait_for(formed, 15, 0.2),
          *["%s: %s" % (n.name, {k: v for k, v in metrics(n.address, ports[n.name][1]).items()
                                 if "peers" in k or "quorum" in k}) for n in nodes])
    names = [n.env.get("REPRAM_NODE_NAME") for n in nodes]
    st, body = http(first.address, h0, "/v1/status")
    check("%s: node names are %s" % (label, " ".join(names)), all(x in body for x in names[1:]) or
          all(x in resp(first.address, p0, "REPRAM", "NODES", password=password) for x in names[1:]), body)
    r = resp(first.address, p0, "PING")
    check("%s: a client without the password gets NOAUTH" % label, str(r).startswith("-NOAUTH"), r)
    value = "deploy-%d" % random.randint(0, 1 << 30)
    r = resp(first.address, p0, "SET", "deploy:key", value, "EX", "600", password=password)
    check("%s: SET through %s is acknowledged by a majority (+OK)" % (label, first.name), r == "+OK", r)
    m = metrics(first.address, h0)
    check("%s: the write counts as replicated to a quorum" % label,
          m.get('repram_replicated_write_results_total{result="quorum"}', 0) >= 1,
          {k: v for k, v in m.items() if "replicated" in k})
    for n in nodes[1:]:
        got = wait_for(lambda: resp(n.address, ports[n.name][0], "GET", "deploy:key", password=password) == value, 3)
        check("%s: %s holds the value" % (label, n.name), got)
    code = http_put(nodes[1].address, ports[nodes[1].name][1], "/v1/data/deploy:http?ttl=60", b"via-http")
    check("%s: HTTP PUT through %s is stored on a majority (201)" % (label, nodes[1].name), code == 201, code)
    return True


def prometheus_checks(label, cluster, prom_config, metric_text):
    """Prometheus with the compose scrape config, names resolved as the compose network does."""
    if not shutil.which("prometheus"):
        fail("%s: prometheus is installed (make deps)" % label)
        return
    port = 0
    for _ in range(50):
        p = random.randint(20000, 60000)
        if port_free("127.0.0.1", p):
            port = p
            break
    data = os.path.join(cluster.dir, "prometheus-data")
    argv = cluster.wrap(["prometheus", "--config.file=" + prom_config, "--storage.tsdb.path=" + data,
                         "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"])
    log = open(os.path.join(cluster.dir, "prometheus.log"), "ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=cluster.dir, start_new_session=True)
    STARTED.append(proc)
    api = lambda path: http("127.0.0.1", port, "/api/v1/" + path, timeout=5)  # noqa: E731
    try:
        def targets_up():
            st, body = api("targets")
            if st != 200:
                return None
            active = json.loads(body)["data"]["activeTargets"]
            return active if len(active) == 3 and all(t["health"] == "up" for t in active) else None
        active = wait_for(targets_up, 60, 1)
        st, body = api("targets")
        if not check("%s: Prometheus scrapes the three nodes by their compose names" % label, active is not None,
                     body[:1500], open(os.path.join(cluster.dir, "prometheus.log")).read()[-1500:]):
            return
        inst = sorted(t["labels"]["instance"] for t in active)
        check("%s: the instance label is the node name" % label, inst == sorted(n.name for n in cluster.nodes), inst)

        def rules_evaluated():
            st, body = api("rules")
            if st != 200:
                return None
            rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
            return rules if rules and all(r.get("health") != "unknown" for r in rules) else None
        rules = wait_for(rules_evaluated, 45, 1)
        bad = [(r["name"], r.get("health"), r.get("lastError")) for r in (rules or []) if r.get("health") != "ok"]
        check("%s: every alert rule evaluates without error against the live cluster" % label,
              rules is not None and not bad, bad)
        firing = [(r["name"], r["state"]) for r in (rules or []) if r.get("state") not in (None, "inactive")]
        check("%s: a healthy cluster raises no alert" % label, rules is not None and not firing, firing)
        dash = json.load(open(os.path.join(TOP, "deploy", "grafana", "repram-dashboard.json")))
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        exprs.append(dash["templating"]["list"][1]["definition"].replace("label_values(", "group by (instance) (")
                     .replace(", instance)", ")"))
        errors = []
        for e in exprs:
            q = e.replace("$instance", ".*").replace("$__rate_interval", "1m")
            st, body = api("query?" + urllib.parse.urlencode({"query": q}))
            if st != 200 or json.loads(body).get("status") != "success":
                errors.append((e, st, body[:200]))
        check("%s: every dashboard query runs in Prometheus (%d queries)" % (label, len(exprs)), not errors, errors)
        st, body = api("query?" + urllib.parse.urlencode({"query": "repram_keys"}))
        res = json.loads(body)["data"]["result"] if st == 200 else []
        check("%s: Prometheus holds repram_keys of every node" % label, len(res) == 3, body[:500])
    finally:
        stop(proc)


def metric_names_check(label, metric_text):
    exported = set(re.findall(r"^(repram_[a-z0-9_]+)[{ ]", metric_text, re.M))
    for what, path in (("alert rules", "deploy/prometheus/repram-rules.yml"),
                       ("dashboard", "deploy/grafana/repram-dashboard.json")):
        used = set(re.findall(r"\b(repram_[a-z0-9_]+)", open(os.path.join(TOP, path)).read()))
        missing = sorted(used - exported)
        check("%s: every metric the %s name is exported by a node (%d names)" % (label, what, len(used)),
              used and not missing, "not in /metrics: %s" % missing)


@guarded("compose")
def test_compose_live():
    img = load_image()
    pmap = img.path_map(os.path.join(os.path.dirname(SERVER)))
    comp = manifests.load_compose(os.path.join(TOP, "deploy", "compose", "compose.yaml"))
    names = sorted(n for n, s in comp["services"].items() if "REPRAM_NODE_NAME" in manifests.compose_env(s))
    # The named volume "secrets", as the one-shot service "secrets" fills it.
    vol = os.path.join(WORK, "compose", "volume-secrets")
    os.makedirs(vol, mode=0o700, exist_ok=True)
    sec_svc = comp["services"]["secrets"]
    mounts = {v.split(":")[1]: vol for v in sec_svc.get("volumes", []) if v.startswith("secrets:")}
    vmap = dict(pmap)
    vmap.update(mounts)
    argv = [manifests.map_paths(a, vmap) for a in manifests.container_argv(
        img, manifests.as_list(sec_svc.get("entrypoint")), manifests.as_list(sec_svc.get("command")))]
    r = run(argv, env={"PATH": "/usr/bin:/bin"})
    files = sorted(os.listdir(vol))
    modes = {f: oct(os.stat(os.path.join(vol, f)).st_mode & 0o777) for f in files}
    check("compose: the secrets service generates cluster-secret and requirepass (0600)",
          r.returncode == 0 and files == ["cluster-secret", "requirepass"]
          and set(modes.values()) == {"0o600"}, r.stdout, r.stderr, modes)
    before = {f: open(os.path.join(vol, f)).read() for f in files}
    run(argv, env={"PATH": "/usr/bin:/bin"})
    check("compose: running it again keeps the secrets",
          before == {f: open(os.path.join(vol, f)).read() for f in files})
    check("compose: the secrets are 64 random hex digits",
          all(re.fullmatch(r"[0-9a-f]{64}", v) for v in before.values()) and len(set(before.values())) == 2)
    node_map = dict(pmap)
    for n in names:
        for v in comp["services"][n].get("volumes", []):
            if v.startswith("secrets:"):
                node_map[v.split(":")[1]] = vol
    nodes = manifests.compose_nodes(comp, img, node_map, names)
    cluster = Cluster("compose", nodes)
    conf_path = pmap[img.cmd[img.cmd.index("--config") + 1]]
    image_conf = yaml.safe_load(open(conf_path))
    hc = [manifests.map_paths(a, pmap) for a in img.healthcheck]
    try:
        if live_cluster("compose", cluster, img, image_conf, before.get("requirepass"), hc):
            n0 = nodes[0]
            text = http(n0.address, node_ports(n0, image_conf)[1], "/metrics")[1]
            metric_names_check("compose", text)
            prometheus_checks("compose", cluster, os.path.join(TOP, "deploy", "prometheus", "prometheus.yml"), text)
    finally:
        codes = [stop(n.proc) for n in nodes if n.proc]
        check("compose: SIGTERM stops every node cleanly (exit 0)", codes == [0] * len(codes), codes)


def gen_secret_objects(ns):
    """Run deploy/k8s/gen-secret.sh with a stand-in kubectl that records what it would create."""
    fake = os.path.join(WORK, "fake-kubectl")
    os.makedirs(fake, exist_ok=True)
    logf = os.path.join(fake, "create.args")
    with open(os.path.join(fake, "kubectl"), "w") as f:
        f.write('#!/bin/sh\ncase "$*" in\n'
                '  *"config view"*) exit 0 ;;\n'
                '  *" get secret "*) exit 1 ;;\n'
                '  *"create secret generic"*) printf "%%s\\n" "$@" > "%s"; exit 0 ;;\n'
                'esac\nexit 2\n' % logf)
    os.chmod(os.path.join(fake, "kubectl"), 0o755)
    r = run(["sh", os.path.join(TOP, "deploy", "k8s", "gen-secret.sh"), ns],
            env={"PATH": fake + ":/usr/bin:/bin"})
    if r.returncode != 0 or not os.path.exists(logf):
        return None, r.stderr
    args = open(logf).read().split("\n")
    name = args[args.index("generic") + 1]
    data = dict(a[len("--from-literal="):].split("=", 1) for a in args if a.startswith("--from-literal="))
    return {"kind": "Secret", "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}, ""


@guarded("statefulset")
def test_statefulset_live():
    ns = "deploy-test"
    img = load_image()
    pmap = img.path_map(os.path.dirname(SERVER))
    kdir = os.path.join(TOP, "deploy", "k8s")
    objs = manifests.load_objects(sorted(glob.glob(os.path.join(kdir, "*.yaml"))))
    objs = [o for o in objs if o.get("kind") not in (None, "Kustomization")]
    secret, err = gen_secret_objects(ns)
    if not check("statefulset: deploy/k8s/gen-secret.sh creates the Secret", secret is not None, err):
        return
    objs.append(secret)
    data = manifests.secret_data(secret)
    check("statefulset: the Secret has a 64-hex-digit cluster secret and password",
          all(re.fullmatch(r"[0-9a-f]{64}", data.get(k, "")) for k in ("cluster-secret", "requirepass")), list(data))
    try:
        nodes = manifests.statefulset_nodes(objs, img, pmap, ns)
    except KeyError as e:
        fail("statefulset: the pods' environment resolves (ConfigMap, Secret, downward API)", e)
        return
    ok("statefulset: the pods' environment resolves (ConfigMap, Secret, downward API)")
    n0 = nodes[0]
    check("statefulset: $(VAR) expansion gives node name and namespaced seeds",
          n0.env.get("REPRAM_NODE_NAME") == n0.name and ".%s.svc." % ns in n0.env.get("REPRAM_SEEDS", "")
          and "$(" not in n0.env.get("REPRAM_SEEDS", ""), n0.env.get("REPRAM_NODE_NAME"), n0.env.get("REPRAM_SEEDS"))
    cluster = Cluster("statefulset", nodes)
    conf_path = pmap[img.cmd[img.cmd.index("--config") + 1]]
    image_conf = yaml.safe_load(open(conf_path))
    # the probes' ports, by name, are the ones the node listens on
    probe_ports = {n0.container[p]["httpGet"]["port"] for p in ("readinessProbe", "livenessProbe")}
    http_port = node_ports(n0, image_conf)[1]
    check("statefulset: the probes' port is the node's HTTP port",
          all(n0.ports.get(p, p) == http_port for p in probe_ports), probe_ports, n0.ports, http_port)
    check("statefulset: the container ports are the ports the node listens on",
          sorted(n0.ports[k] for k in ("resp", "http", "bus")) == sorted(node_ports(n0, image_conf)))
    try:
        if not live_cluster("statefulset", cluster, img, image_conf, data["requirepass"], None):
            return
        # A rolling restart of one pod: it leaves, a write still reaches a majority, it comes
        # back under the same name, copies the keyspace, and serves the write it missed.
        p1 = nodes[1]
        port1, http1, _ = node_ports(p1, image_conf)
        code = stop(p1.proc)
        check("statefulset: SIGTERM stops %s cleanly (exit 0)" % p1.name, code == 0, code)
        r = resp(n0.address, node_ports(n0, image_conf)[0], "SET", "deploy:missed", "while-down", "EX", "600",
                 password=data["requirepass"])
        check("statefulset: with one pod of three down, a write still gets a majority (+OK)", r == "+OK", r)
        cluster.start(p1)
        ready = wait_for(lambda: http(p1.address, http1, "/v1/health")[0] == 200, 30, 0.2)
        check("statefulset: the restarted pod becomes ready again", ready, cluster.log(p1))
        got = resp(p1.address, port1, "GET", "deploy:missed", password=data["requirepass"])
        check("statefulset: the restarted pod serves the write it missed", got == "while-down", got)
    finally:
        codes = [stop(n.proc) for n in nodes if n.proc]
        check("statefulset: SIGTERM stops every pod cleanly (exit 0)", codes == [0] * len(codes), codes)


# ---------------------------------------------------------------------------------------------

def main():
    if not os.access(SERVER, os.X_OK):
        fail("deploy: the server binary exists (%s)" % SERVER)
        return 1
    options = server_options()
    if not check("deploy: repram-server --help lists its options", len(options) > 40, len(options)):
        return 1
    try:
        test_yamllint()
        test_promtool()
        renderer = Renderer()
        test_helm(renderer, options)
        test_k8s_generated(renderer)
        test_dockerfile(options)
        test_docker_build_stage()
        test_compose_static(options)
        test_install()
        test_compose_live()
        test_statefulset_live()
    finally:
        for p in STARTED:
            stop(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
