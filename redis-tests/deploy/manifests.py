# SPDX-License-Identifier: BSD-3-Clause
"""manifests: read deploy/'s Dockerfile, compose file and Kubernetes objects, and turn each node
they describe into the command line and environment a container runtime would give it.

Nothing about a node is written here by hand: the entry point, command, image environment and
file paths come from deploy/docker/Dockerfile; the environment, names and ports from
deploy/compose/compose.yaml or from the StatefulSet, ConfigMap and Secret objects (with the
downward API, secretKeyRef, envFrom and $(VAR) expansion done as the kubelet does).  What a
machine without a container engine must change is kept apart, in `Node`: each node gets its own
loopback address (127.a.b.n) in place of its own network namespace, and the names the manifests
use for the other nodes resolve to those addresses through a private /etc/hosts.
"""
import json
import os
import re
import shlex

import yaml

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# ---------------------------------------------------------------------------------------------
# Dockerfile

class Image:
    """The final stage of a Dockerfile: what `docker run` would start."""

    def __init__(self, path):
        self.path = path
        self.stages = []          # FROM lines
        self.entrypoint = []
        self.cmd = []
        self.env = {}
        self.user = None
        self.expose = []
        self.healthcheck = None   # the CMD of HEALTHCHECK, as a list
        self.healthcheck_opts = {}
        self.copies = []          # (options, sources, destination) of the final stage
        self.run = []             # RUN lines of the final stage
        self.workdir = "/"
        self.all_stages = []      # every stage: {"from", "copies", "run", "workdir"}
        self._parse()

    def _instructions(self):
        text = open(self.path, encoding="utf-8").read()
        logical = ""
        for line in text.splitlines():
            if not logical and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.lstrip().startswith("#"):
                continue  # comment lines inside a continued instruction
            if line.endswith("\\"):
                logical += line[:-1] + " "
                continue
            logical += line
            word, _, rest = logical.strip().partition(" ")
            yield word.upper(), rest.strip()
            logical = ""

    @staticmethod
    def _exec_form(rest, what):
        if not rest.startswith("["):
            raise ValueError("%s must use the JSON (exec) form: %s" % (what, rest))
        return json.loads(rest)

    def _parse(self):
        for word, rest in self._instructions():
            if word == "FROM":
                self.stages.append(rest)
                self.entrypoint, self.cmd, self.env, self.user = [], [], {}, None
                self.expose, self.healthcheck, self.copies, self.run = [], None, [], []
                self.workdir = "/"
                self.all_stages.append({"from": rest, "copies": self.copies, "run": self.run,
                                        "workdir": "/"})
            elif word == "WORKDIR":
                self.workdir = rest
                self.all_stages[-1]["workdir"] = rest
            elif word == "ENTRYPOINT":
                self.entrypoint = self._exec_form(rest, "ENTRYPOINT")
                self.cmd = []  # as Docker does: a new ENTRYPOINT resets an inherited CMD
            elif word == "CMD":
                self.cmd = self._exec_form(rest, "CMD")
            elif word == "ENV":
                for part in shlex.split(rest):
                    k, _, v = part.partition("=")
                    self.env[k] = v
            elif word == "USER":
                self.user = rest
            elif word == "EXPOSE":
                self.expose = [int(p.split("/")[0]) for p in rest.split()]
            elif word == "HEALTHCHECK":
                opts, _, cmd = rest.partition("CMD")
                self.healthcheck_opts = dict(o.lstrip("-").split("=", 1) for o in opts.split())
                self.healthcheck = self._exec_form(cmd.strip(), "HEALTHCHECK CMD")
            elif word == "COPY":
                parts = shlex.split(rest)
                opts = [p for p in parts if p.startswith("--")]
                files = [p for p in parts if not p.startswith("--")]
                self.copies.append((opts, files[:-1], files[-1]))
            elif word == "RUN":
                self.run.append(rest)

    def path_map(self, build_bin):
        """{container path: path on this machine} for every file COPY puts into the image:
        files from the build context as they are, files from the build stage from build_bin."""
        out = {}
        for opts, srcs, dst in self.copies:
            from_stage = any(o.startswith("--from=") for o in opts)
            for src in srcs:
                target = dst.rstrip("/") + "/" + os.path.basename(src) if dst.endswith("/") else dst
                if from_stage:
                    out[target] = os.path.join(build_bin, os.path.basename(src))
                else:
                    out[target] = os.path.join(TOP, src)
        return out


# ---------------------------------------------------------------------------------------------
# A node as it would run in a container

class Node:
    """One server process: argv and env as the manifests give them (container paths mapped to
    this machine), its address, its ports, and the names to put into its private /etc/hosts."""

    def __init__(self, name, argv, env, ports, names):
        self.name = name
        self.argv = argv
        self.env = env
        self.ports = ports      # {"resp": 6379, "http": 8080, "bus": 16379}
        self.names = names      # host names that mean this node in the manifests
        self.address = None     # set by the test: 127.a.b.n
        self.proc = None


def map_paths(value, pmap):
    """Replace container paths (longest first) in one argument or environment value."""
    for cpath in sorted(pmap, key=len, reverse=True):
        if value == cpath or value.startswith(cpath.rstrip("/") + "/"):
            return pmap[cpath] + value[len(cpath):]
    return value


def container_argv(image, entrypoint=None, command=None):
    """Docker's rule: entrypoint (or the image's) + command (or, when the entry point was not
    replaced, the image's CMD)."""
    ep = image.entrypoint if entrypoint is None else entrypoint
    if command is not None:
        cmd = command
    elif entrypoint is None:
        cmd = image.cmd
    else:
        cmd = []
    return list(ep) + list(cmd)


def as_list(v):
    if v is None:
        return None
    return shlex.split(v) if isinstance(v, str) else [str(x) for x in v]


def env_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return "" if v is None else str(v)


# ---------------------------------------------------------------------------------------------
# Compose

def load_compose(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def compose_env(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: env_str(v) for k, v in env.items()}


def compose_nodes(compose, image, pmap, repram_services):
    """The repram services of a compose file as Nodes.  Ports are the container ports (the
    ones the process listens on), read from the published "host:port:container" entries."""
    nodes = []
    for name in repram_services:
        svc = compose["services"][name]
        env = dict(image.env)
        env.update(compose_env(svc))
        argv = container_argv(image, as_list(svc.get("entrypoint")), as_list(svc.get("command")))
        argv = [map_paths(a, pmap) for a in argv]
        env = {k: map_paths(v, pmap) for k, v in env.items()}
        published = [int(str(p).split(":")[-1].split("/")[0]) for p in svc.get("ports", [])]
        names = {name}
        if svc.get("hostname"):
            names.add(svc["hostname"])
        nodes.append(Node(name, argv, env, {"published": published}, sorted(names)))
    return nodes


# ---------------------------------------------------------------------------------------------
# Kubernetes

def load_objects(paths):
    objs = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if doc:
                    objs.append(doc)
    return objs


def find(objs, kind, name=None):
    out = [o for o in objs if o.get("kind") == kind and (name is None or o["metadata"]["name"] == name)]
    return out


def expand_refs(value, env):
    """$(VAR) references to variables defined earlier; $$(VAR) escapes; unknown ones stay."""
    def sub(m):
        if m.group(0).startswith("$$"):
            return m.group(0)[1:]
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", sub, value)


def pod_env(container, pod_name, namespace, objs):
    """The environment the kubelet gives a container: envFrom first, then env in order, each
    value with $(VAR) expanded against what came before."""
    env = {}
    for src in container.get("envFrom", []):
        if "configMapRef" in src:
            cm = find(objs, "ConfigMap", src["configMapRef"]["name"])
            if not cm:
                raise KeyError("envFrom: no ConfigMap %s" % src["configMapRef"]["name"])
            env.update({k: env_str(v) for k, v in (cm[0].get("data") or {}).items()})
        elif "secretRef" in src:
            sec = find(objs, "Secret", src["secretRef"]["name"])
            env.update(secret_data(sec[0]))
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = expand_refs(env_str(e["value"]), env)
            continue
        ref = e.get("valueFrom", {})
        if "fieldRef" in ref:
            field = ref["fieldRef"]["fieldPath"]
            env[e["name"]] = {"metadata.name": pod_name, "metadata.namespace": namespace}[field]
        elif "secretKeyRef" in ref:
            r = ref["secretKeyRef"]
            sec = find(objs, "Secret", r["name"])
            data = secret_data(sec[0]) if sec else {}
            if r["key"] in data:
                env[e["name"]] = data[r["key"]]
            elif not r.get("optional"):
                raise KeyError("secretKeyRef %s/%s does not exist: the pod would not start"
                               % (r["name"], r["key"]))
        elif "configMapKeyRef" in ref:
            r = ref["configMapKeyRef"]
            env[e["name"]] = env_str(find(objs, "ConfigMap", r["name"])[0]["data"][r["key"]])
        else:
            raise KeyError("env %s: unsupported valueFrom %s" % (e["name"], ref))
    return env


def secret_data(secret):
    import base64
    out = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    out.update({k: env_str(v) for k, v in (secret.get("stringData") or {}).items()})
    return out


def statefulset_nodes(objs, image, pmap, namespace, cluster_domain="cluster.local"):
    sts = find(objs, "StatefulSet")[0]
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    headless = spec["serviceName"]
    nodes = []
    for i in range(int(spec["replicas"])):
        pod_name = "%s-%d" % (sts["metadata"]["name"], i)
        env = dict(image.env)
        env.update(pod_env(container, pod_name, namespace, objs))
        env = {k: map_paths(v, pmap) for k, v in env.items()}
        argv = container_argv(image, container.get("command"), container.get("args"))
        argv = [map_paths(expand_refs(a, env), pmap) for a in argv]
        ports = {p["name"]: int(p["containerPort"]) for p in container.get("ports", [])}
        names = [pod_name, "%s.%s" % (pod_name, headless), "%s.%s.%s" % (pod_name, headless, namespace),
                 "%s.%s.%s.svc" % (pod_name, headless, namespace),
                 "%s.%s.%s.svc.%s" % (pod_name, headless, namespace, cluster_domain)]
        n = Node(pod_name, argv, env, ports, names)
        n.container = container
        nodes.append(n)
    return nodes
