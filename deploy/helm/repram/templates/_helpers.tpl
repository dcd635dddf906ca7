{{/* SPDX-License-Identifier: BSD-3-Clause */}}
{{/*
Helpers of the repram chart.  The chart keeps to a small subset of Go templates (values,
if/range/with, include of these helpers, toYaml, quote, default, required, fail, printf and
a few sprig functions) so that redis-tests/deploy/helmlite.py can render it where no helm
binary exists.
*/}}

{{- define "repram.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Pods are <fullname>-0, -1, ...: at most 52 characters leave room for the StatefulSet's
     controller-revision-hash label. */}}
{{- define "repram.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "repram.headless" -}}
{{- printf "%s-headless" (include "repram.fullname" .) -}}
{{- end -}}

{{/* The number of voters, validated: odd and at least 1. */}}
{{- define "repram.replicas" -}}
{{- $n := int .Values.replicas -}}
{{- if lt $n 1 -}}
{{- fail (printf "replicas must be at least 1, got %d" $n) -}}
{{- end -}}
{{- if eq (mod $n 2) 0 -}}
{{- fail (printf "replicas must be odd (1, 3, 5, ...), got %d: a write needs a majority, so %d nodes survive no more failures than %d" $n $n (sub $n 1)) -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/* Voters a write needs: floor(replicas/2)+1. */}}
{{- define "repram.quorum" -}}
{{- add (div (int (include "repram.replicas" .)) 2) 1 -}}
{{- end -}}

{{- define "repram.selectorLabels" -}}
app.kubernetes.io/name: {{ include "repram.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "repram.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{ include "repram.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "repram.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "repram.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "repram.secretName" -}}
{{- default (include "repram.fullname" .) .Values.auth.existingSecret -}}
{{- end -}}

{{/* A configuration value as text: numbers without an exponent (values are float64, and
     Go would print 1000000 as 1e+06), booleans as yes/no. */}}
{{- define "repram.scalar" -}}
{{- if kindIs "float64" . -}}
{{- printf "%.0f" . -}}
{{- else if kindIs "bool" . -}}
{{- ternary "yes" "no" . -}}
{{- else -}}
{{- . -}}
{{- end -}}
{{- end -}}

{{/* Cross-value checks; included by the StatefulSet so a bad combination fails the render. */}}
{{- define "repram.validate" -}}
{{- $n := int (include "repram.replicas" .) -}}
{{- if and (not .Values.auth.enabled) (not .Values.networkPolicy.enabled) -}}
{{- fail "auth.enabled=false serves every client without a password: it needs networkPolicy.enabled=true to limit who can connect" -}}
{{- end -}}
{{- if and (or .Values.tls.enabled .Values.tls.http .Values.tls.bus) (not .Values.tls.existingSecret) -}}
{{- fail "tls.enabled, tls.http and tls.bus need tls.existingSecret (a Secret with tls.crt, tls.key and ca.crt)" -}}
{{- end -}}
{{- if and .Values.tls.http (eq (include "repram.scalar" .Values.tls.authClients) "yes") -}}
{{- fail "tls.http=true with tls.authClients=\"yes\" would refuse the kubelet's probes, which present no client certificate: set tls.authClients to \"optional\" or \"no\"" -}}
{{- end -}}
{{- if and (not .Values.auth.existingSecret) (gt $n 1) (not .Values.tls.bus) -}}
{{- $s := required "auth.clusterSecret is required for replicas > 1 (openssl rand -hex 32), or set auth.existingSecret or tls.bus" .Values.auth.clusterSecret -}}
{{- if lt (len $s) 16 -}}
{{- fail "auth.clusterSecret must be at least 16 characters (openssl rand -hex 32)" -}}
{{- end -}}
{{- end -}}
{{- if and (not .Values.auth.existingSecret) .Values.auth.enabled -}}
{{- $p := required "auth.password is required with auth.enabled=true (openssl rand -hex 24), or set auth.existingSecret" .Values.auth.password -}}
{{- end -}}
{{- end -}}
