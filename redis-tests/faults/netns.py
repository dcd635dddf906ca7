# SPDX-License-Identifier: BSD-3-Clause
"""Network namespaces for the fault-injection suite: one namespace per node, a bridge between
them, and iptables rules that cut or thin out cluster-bus traffic only.

Topology (every name carries this process's PID, so two runs never collide):

    root namespace: this test process, veth rp<pid>h = 10.77.<x>.254/24
          |
    namespace rp<pid>b: bridge br0 with the other ends of every veth
          |           |           |
    rp<pid>n1      rp<pid>n2   ...   one namespace per node: eth0 = 10.77.<x>.<i>/24, lo up

Every node uses the same ports (RESP 6379, bus 16379) on its own address.  Faults are iptables
rules in a chain RPFAULT inside a node's namespace (hooked into INPUT), matching only TCP packets
to or from the bus port: clients (this process, over the bridge) keep reaching every node, so a
node cut off from the majority is still asked to write (that is what shows minority behaviour).

Clean-up deletes exactly the namespaces and the root veth this object created, by name; deleting
a namespace removes its links and its rules with it.  Servers must be stopped first (by PID).

Only /usr/bin/python3 and its standard library; needs root, iproute2 and iptables (nf_tables or
legacy).  `Net.probe()` says why it cannot work here, or None.
"""
import os
import subprocess

RESP_PORT = 6379
BUS_PORT = 16379


def run(argv, check=True, timeout=20):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode,
                                                 r.stdout.decode("utf-8", "replace").strip()[-300:]))
    return r


def _iptables_cmd(ns):
    """The first iptables flavour that can add a statistic rule inside namespace ns."""
    for cmd in ("iptables", "iptables-legacy", "iptables-nft"):
        r = subprocess.run(["ip", "netns", "exec", ns, cmd, "-A", "INPUT", "-p", "tcp", "--dport",
                            "1", "-m", "statistic", "--mode", "random", "--probability", "0.5",
                            "-j", "DROP"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode == 0:
            subprocess.run(["ip", "netns", "exec", ns, cmd, "-F", "INPUT"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return cmd
    return None


class Net:
    def __init__(self, n):
        self.pid = os.getpid()
        self.n = n
        self.prefix = "rp%d" % self.pid
        self.bridge_ns = self.prefix + "b"
        self.host_link = self.prefix + "h"
        self.x = self._pick_subnet()
        self.created = []  # namespaces, in creation order
        self.host_created = False
        self.ipt = None
        self.faults = {}  # node index -> list of rule descriptions (for reports)

    # ---- addresses and names

    def _pick_subnet(self):
        routes = run(["ip", "-4", "route", "show"]).stdout.decode()
        for k in range(250):
            x = (self.pid + k) % 250 + 1
            if ("10.77.%d." % x) not in routes:
                return x
        raise RuntimeError("no free 10.77.x.0/24 subnet")

    def ns(self, i):
        """Namespace of node i (1-based)."""
        return "%sn%d" % (self.prefix, i)

    def ip(self, i):
        return "10.77.%d.%d" % (self.x, i)

    @property
    def host_ip(self):
        return "10.77.%d.254" % self.x

    # ---- set-up and clean-up

    @staticmethod
    def probe():
        """None when namespaces, veth, bridges and iptables work here; else the reason."""
        if os.geteuid() != 0:
            return "not root (ip netns needs CAP_SYS_ADMIN)"
        for tool in ("ip",):
            if subprocess.run(["sh", "-c", "command -v %s" % tool], stdout=subprocess.DEVNULL).returncode:
                return "%s not installed (iproute2)" % tool
        name = "rp%dprobe" % os.getpid()
        r = subprocess.run(["ip", "netns", "add", name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            return "ip netns add failed: %s" % r.stdout.decode("utf-8", "replace").strip()
        try:
            if not _iptables_cmd(name):
                return "iptables with the statistic match does not work in a namespace " \
                       "(install iptables: make deps)"
            r = subprocess.run(["ip", "-n", name, "link", "add", "br0", "type", "bridge"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            if r.returncode != 0:
                return "cannot create a bridge: %s" % r.stdout.decode("utf-8", "replace").strip()
        finally:
            subprocess.run(["ip", "netns", "del", name], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return None

    def _add_ns(self, name):
        run(["ip", "netns", "add", name])
        self.created.append(name)
        run(["ip", "-n", name, "link", "set", "lo", "up"])

    def setup(self):
        """Create everything; on failure remove what was made and raise."""
        try:
            return self._setup()
        except BaseException:
            self.cleanup()
            raise

    def _setup(self):
        self._add_ns(self.bridge_ns)
        run(["ip", "-n", self.bridge_ns, "link", "add", "br0", "type", "bridge"])
        run(["ip", "-n", self.bridge_ns, "link", "set", "br0", "up"])
        # this process's way in: a veth from the root namespace to the bridge
        run(["ip", "link", "add", self.host_link, "type", "veth", "peer", "name", "hostport",
             "netns", self.bridge_ns])
        self.host_created = True
        run(["ip", "-n", self.bridge_ns, "link", "set", "hostport", "master", "br0"])
        run(["ip", "-n", self.bridge_ns, "link", "set", "hostport", "up"])
        run(["ip", "addr", "add", self.host_ip + "/24", "dev", self.host_link])
        run(["ip", "link", "set", self.host_link, "up"])
        for i in range(1, self.n + 1):
            ns = self.ns(i)
            self._add_ns(ns)
            port = "p%d" % i
            run(["ip", "-n", self.bridge_ns, "link", "add", port, "type", "veth", "peer", "name",
                 "eth0", "netns", ns])
            run(["ip", "-n", self.bridge_ns, "link", "set", port, "master", "br0"])
            run(["ip", "-n", self.bridge_ns, "link", "set", port, "up"])
            run(["ip", "-n", ns, "addr", "add", self.ip(i) + "/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            if self.ipt is None:
                self.ipt = _iptables_cmd(ns)
                if not self.ipt:
                    raise RuntimeError("iptables does not work inside %s" % ns)
            self._ipt(i, "-N", "RPFAULT")
            self._ipt(i, "-A", "INPUT", "-j", "RPFAULT")
        return self

    def cleanup(self):
        """Delete what setup created, by name.  Returns a list of problems (empty when clean)."""
        problems = []
        for name in reversed(self.created):
            r = subprocess.run(["ip", "netns", "del", name], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            if r.returncode != 0:
                problems.append("ip netns del %s: %s" % (name, r.stdout.decode().strip()))
        self.created = []
        if self.host_created:
            # normally gone with its peer in the bridge namespace
            subprocess.run(["ip", "link", "del", self.host_link], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.host_created = False
        left = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE).stdout.decode()
        for line in left.splitlines():
            if line.split() and line.split()[0].startswith(self.prefix):
                problems.append("namespace %s still exists" % line.split()[0])
        return problems

    # ---- faults (bus traffic only)

    def _ipt(self, i, *args):
        return run(["ip", "netns", "exec", self.ns(i), self.ipt] + list(args))

    def _drop_from(self, i, j, extra=()):
        """In node i's namespace: drop bus packets arriving from node j (both link directions:
        i's link to j's bus port and j's link to i's bus port)."""
        for port in ("--dport", "--sport"):
            self._ipt(i, "-A", "RPFAULT", "-s", self.ip(j), "-p", "tcp", port, str(BUS_PORT),
                      *extra, "-j", "DROP")

    def partition(self, groups):
        """Cut the bus between every two nodes in different groups (lists of 1-based indices);
        nodes in no group are cut from everyone.  Replaces any previous fault."""
        self.heal()
        where = {}
        for g, members in enumerate(groups):
            for i in members:
                where[i] = g
        for i in range(1, self.n + 1):
            for j in range(1, self.n + 1):
                if i != j and where.get(i, -i) != where.get(j, -j):
                    self._drop_from(i, j)
                    self.faults.setdefault(i, []).append("drop from n%d" % j)

    def cut(self, pairs):
        """Cut exactly these pairs (i, j), both ways; replaces any previous fault."""
        self.heal()
        for i, j in pairs:
            self._drop_from(i, j)
            self._drop_from(j, i)

    def isolate(self, i):
        self.partition([[j for j in range(1, self.n + 1) if j != i]])

    def loss(self, p, nodes=None):
        """Drop each incoming bus packet with probability p in every node's namespace (so each
        direction of each link loses about p of its packets).  Replaces any previous fault."""
        self.heal()
        for i in nodes or range(1, self.n + 1):
            for port in ("--dport", "--sport"):
                self._ipt(i, "-A", "RPFAULT", "-p", "tcp", port, str(BUS_PORT), "-m", "statistic",
                          "--mode", "random", "--probability", "%.4f" % p, "-j", "DROP")

    def heal(self):
        for i in range(1, self.n + 1):
            self._ipt(i, "-F", "RPFAULT")
        self.faults = {}

    def counters(self):
        """Packets dropped so far by the fault rules, per node."""
        out = {}
        for i in range(1, self.n + 1):
            r = self._ipt(i, "-L", "RPFAULT", "-n", "-v", "-x")
            total = 0
            for line in r.stdout.decode().splitlines()[2:]:
                parts = line.split()
                if parts and parts[0].isdigit():
                    total += int(parts[0])
            out[i] = total
        return out
