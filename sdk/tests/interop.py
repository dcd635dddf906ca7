#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""interop.py: an independent implementation of sdk/FORMAT.md (repram blob format v1), written from
the specification alone with Debian's python3-cryptography.  It shares no code with librepram; the
integration suite uses it to open what the C SDK wrote and to write what the C SDK must open.

Run it with /usr/bin/python3 (Debian's interpreter, which has python3-cryptography).

    interop.py vectors FORMAT.md                       check every test vector; TAP lines out
    interop.py derive --passphrase P --namespace NS [--n N --r R --p P]   print the master key
    interop.py blind  --key HEX [--prefix P] --name NAME                  print the stored name
    interop.py seal   --key HEX [--prefix P] --name NAME --in F --out F [--nonce HEX]
    interop.py open   --key HEX [--prefix P] --name NAME --in F --out F

`open` exits 0 on success, else 1 after printing the error class of FORMAT.md section 5
(NOT_BLOB, VERSION, TRUNCATED, TAMPERED, WRONG_KEY) on standard output.  NAME is taken as UTF-8;
--name-hex gives raw bytes instead.
"""
import argparse
import base64
import hashlib
import hmac
import os
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MAGIC = b"RPRM"
HEADER_LEN = 28
TAG_LEN = 16
OVERHEAD = HEADER_LEN + TAG_LEN


class FormatError(Exception):
    """A blob rejected by one of the checks of FORMAT.md section 5; args[0] is the class."""


def derive_master(passphrase: bytes, namespace: bytes, n=32768, r=8, p=1) -> bytes:
    if not namespace:
        raise ValueError("the namespace (scrypt salt) must not be empty")
    return Scrypt(salt=b"repram.v1.scrypt:" + namespace, length=32, n=n, r=r, p=p).derive(passphrase)


def subkeys(master: bytes) -> dict:
    if len(master) != 32:
        raise ValueError("a master key is 32 bytes")
    out = {}
    for name in ("value", "name", "check"):
        out[name] = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"repram.v1.hkdf",
                         info=b"repram.v1." + name.encode()).derive(master)
    return out


def stored_name(keys: dict, prefix: bytes, name: bytes) -> bytes:
    mac = hmac.new(keys["name"], bytes([len(prefix)]) + prefix + name, hashlib.sha256).digest()
    return prefix + b"rp1:" + base64.urlsafe_b64encode(mac).rstrip(b"=")


def key_check(keys: dict, nonce: bytes) -> bytes:
    return hmac.new(keys["check"], nonce, hashlib.sha256).digest()[:4]


def seal(keys: dict, prefix: bytes, name: bytes, value: bytes, nonce: bytes = None) -> bytes:
    nonce = os.urandom(12) if nonce is None else nonce
    header = (MAGIC + bytes([1, 1, 0, 0]) + len(value).to_bytes(4, "big")
              + key_check(keys, nonce) + nonce)
    assert len(header) == HEADER_LEN
    aad = header + stored_name(keys, prefix, name)
    return header + AESGCM(keys["value"]).encrypt(nonce, value, aad)


def open_blob(keys: dict, prefix: bytes, name: bytes, blob: bytes) -> bytes:
    n = len(blob)
    if n == 0 or blob[:4] != MAGIC[:min(4, n)]:
        raise FormatError("NOT_BLOB")
    if n < 5:
        raise FormatError("TRUNCATED")
    if blob[4] != 1:
        raise FormatError("VERSION")
    if n < 6:
        raise FormatError("TRUNCATED")
    if blob[5] != 1:
        raise FormatError("VERSION")
    if n < 8:
        raise FormatError("TRUNCATED")
    if blob[6:8] != b"\0\0":
        raise FormatError("VERSION")
    if n < OVERHEAD:
        raise FormatError("TRUNCATED")
    length = int.from_bytes(blob[8:12], "big")
    if n < OVERHEAD + length:
        raise FormatError("TRUNCATED")
    if n > OVERHEAD + length:
        raise FormatError("TAMPERED")
    nonce = blob[16:28]
    if not hmac.compare_digest(key_check(keys, nonce), blob[12:16]):
        raise FormatError("WRONG_KEY")
    aad = blob[:HEADER_LEN] + stored_name(keys, prefix, name)
    try:
        return AESGCM(keys["value"]).decrypt(nonce, blob[HEADER_LEN:], aad)
    except InvalidTag:
        raise FormatError("TAMPERED") from None


# ---- test vectors (FORMAT.md section 9) ------------------------------------------------------

def parse_vectors(path: str) -> dict:
    """Every ```-fenced block that starts with 'vector: ID' becomes {field: value}."""
    vectors, cur, in_block = {}, None, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("```"):
                in_block, cur = not in_block, None
                continue
            if not in_block or ":" not in line:
                continue
            field, _, value = line.partition(":")
            value = value.strip()
            if field == "vector":
                cur = vectors[value] = {}
            elif cur is not None:
                cur[field] = value
    return vectors


def apply_edit(blob: bytes, edit: str) -> bytes:
    words = edit.split()
    b = bytearray(blob)
    if words[0] == "none":
        return bytes(b)
    if words[0] == "keep":
        return bytes(b[:int(words[1])])
    if words[0] == "append":
        return bytes(b) + bytes.fromhex(words[1])
    off, data = int(words[1]), bytes.fromhex(words[2])
    if off < 0:
        off += len(b)
    for i, x in enumerate(data):
        b[off + i] = x if words[0] == "set" else b[off + i] ^ x
    return bytes(b)


def check_vectors(path: str) -> int:
    vectors = parse_vectors(path)
    failures = 0

    def result(ok, what, detail=""):
        nonlocal failures
        print(("ok - " if ok else "not ok - ") + what)
        if not ok:
            failures += 1
            print("#   " + detail)

    if not vectors:
        result(False, "FORMAT.md has test vectors", "none found in " + path)
    for vid, v in vectors.items():
        if vid.startswith("keys-"):
            k = subkeys(bytes.fromhex(v["master_key"]))
            for name in ("value", "name", "check"):
                result(k[name].hex() == v[name + "_key"], f"{vid}: {name} key",
                       f"got {k[name].hex()}")
        elif vid.startswith("seal-"):
            k = subkeys(bytes.fromhex(v["master_key"]))
            prefix, name = v["prefix"].encode(), bytes.fromhex(v["name_hex"])
            pt = bytes.fromhex(v["plaintext_hex"])
            sn = stored_name(k, prefix, name)
            result(sn.decode() == v["stored_name"], f"{vid}: stored name", f"got {sn.decode()}")
            blob = seal(k, prefix, name, pt, bytes.fromhex(v["nonce"]))
            result(blob.hex() == v["blob"], f"{vid}: blob byte for byte", f"got {blob.hex()}")
            try:
                back = open_blob(k, prefix, name, bytes.fromhex(v["blob"]))
                result(back == pt, f"{vid}: opens to the plaintext")
            except FormatError as e:
                result(False, f"{vid}: opens to the plaintext", f"error {e.args[0]}")
        elif vid.startswith("scrypt-"):
            mk = derive_master(v["passphrase"].encode(), v["namespace"].encode(),
                               int(v["n"]), int(v["r"]), int(v["p"]))
            result(mk.hex() == v["master_key"], f"{vid}: master key", f"got {mk.hex()}")
            sn = stored_name(subkeys(mk), b"", b"greeting")
            result(sn.decode() == v["stored_name"], f"{vid}: stored name", f"got {sn.decode()}")
        elif vid.startswith("reject-"):
            base = vectors[v["base"]]
            blob = apply_edit(bytes.fromhex(base["blob"]), v["edit"])
            k = subkeys(bytes.fromhex(v.get("master_key", base["master_key"])))
            name = bytes.fromhex(v.get("name_hex", base["name_hex"]))
            try:
                open_blob(k, base["prefix"].encode(), name, blob)
                result(False, f"{vid}: rejected as {v['error']}", "it opened")
            except FormatError as e:
                result(e.args[0] == v["error"], f"{vid}: rejected as {v['error']}",
                       f"got {e.args[0]}")
    print(f"{len(vectors)} vectors, {failures} failures")
    return 1 if failures else 0


# ---- command line ---------------------------------------------------------------------------

def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("vectors")
    v.add_argument("path")
    d = sub.add_parser("derive")
    d.add_argument("--passphrase", required=True)
    d.add_argument("--namespace", required=True)
    d.add_argument("--n", type=int, default=32768)
    d.add_argument("--r", type=int, default=8)
    d.add_argument("--p", type=int, default=1)
    for cmd in ("blind", "seal", "open"):
        c = sub.add_parser(cmd)
        c.add_argument("--key", required=True, help="master key, 64 hex digits")
        c.add_argument("--prefix", default="")
        g = c.add_mutually_exclusive_group(required=True)
        g.add_argument("--name")
        g.add_argument("--name-hex")
        if cmd != "blind":
            c.add_argument("--in", dest="inp", required=True)
            c.add_argument("--out", required=True)
        if cmd == "seal":
            c.add_argument("--nonce")
    a = ap.parse_args(argv)

    if a.cmd == "vectors":
        return check_vectors(a.path)
    if a.cmd == "derive":
        print(derive_master(a.passphrase.encode(), a.namespace.encode(), a.n, a.r, a.p).hex())
        return 0
    keys = subkeys(bytes.fromhex(a.key))
    name = bytes.fromhex(a.name_hex) if a.name_hex is not None else a.name.encode()
    prefix = a.prefix.encode()
    if a.cmd == "blind":
        print(stored_name(keys, prefix, name).decode())
        return 0
    with open(a.inp, "rb") as f:
        data = f.read()
    if a.cmd == "seal":
        out = seal(keys, prefix, name, data, bytes.fromhex(a.nonce) if a.nonce else None)
    else:
        try:
            out = open_blob(keys, prefix, name, data)
        except FormatError as e:
            print(e.args[0])
            return 1
    with open(a.out, "wb") as f:
        f.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
