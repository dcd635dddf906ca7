#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# gen-secret.sh [NAMESPACE]: create the Secret "repram" the manifests of this directory read,
# with a random cluster secret (the bus's TLS 1.3 key is derived from it) and client password.
# Run it once before `kubectl apply -k deploy/k8s`; it refuses to replace an existing Secret
# (a new cluster secret would split a running cluster: see docs/operations.md, "Rotating secrets").
#
#   deploy/k8s/gen-secret.sh my-namespace
#   kubectl -n my-namespace get secret repram -o jsonpath='{.data.requirepass}' | base64 -d
set -eu
ns=${1:-$(kubectl config view --minify -o jsonpath='{..namespace}')}
ns=${ns:-default}
if kubectl -n "$ns" get secret repram >/dev/null 2>&1; then
    echo "gen-secret.sh: secret repram already exists in namespace $ns; not replacing it" >&2
    exit 1
fi
rand() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
kubectl -n "$ns" create secret generic repram \
    --from-literal=cluster-secret="$(rand)" \
    --from-literal=requirepass="$(rand)"
