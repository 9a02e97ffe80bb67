{{/* Names: every object is <release>-<component>, cut to 63 characters. */}}
{{- define "k8s-chatops.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "k8s-chatops.name" -}}
{{- printf "%s-%s" (include "k8s-chatops.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "k8s-chatops.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "k8s-chatops.labels" -}}
{{ include "k8s-chatops.selectorLabels" . }}
app.kubernetes.io/part-of: k8s-chatops
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The one image every process runs (bot, worker, node agent, the policy hook). */}}
{{- define "k8s-chatops.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The restricted Pod Security Standard, for every pod but the node agent. */}}
{{- define "k8s-chatops.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "k8s-chatops.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The node agent's namespace. */}}
{{- define "k8s-chatops.agentNamespace" -}}
{{- .Values.nodeAgent.namespace.name -}}
{{- end -}}

{{/* The Redis password Secret's name (internal Redis). */}}
{{- define "k8s-chatops.redisAuthSecret" -}}
{{- default (include "k8s-chatops.name" (dict "root" . "component" "redis-auth")) .Values.redis.internal.auth.existingSecret -}}
{{- end -}}

{{- define "k8s-chatops.redisHost" -}}
{{- printf "%s.%s.svc" (include "k8s-chatops.name" (dict "root" . "component" "redis")) .Release.Namespace -}}
{{- end -}}

{{/*
The environment that points a process at Redis. The password (internal Redis) or the whole
URL (external Redis) comes from a Secret; the URL is composed by the kubelet ($(VAR)), so no
credential is written into a rendered manifest.
*/}}
{{- define "k8s-chatops.redisEnv" -}}
{{- $secret := .Values.redis.external.existingSecret -}}
{{- if eq .Values.redis.mode "internal" -}}{{- $secret = include "k8s-chatops.redisAuthSecret" . -}}{{- end -}}
{{- if eq .Values.redis.mode "sentinel" -}}{{- $secret = .Values.redis.sentinel.existingSecret -}}{{- end -}}
{{- include "k8s-chatops.redisEnvFrom" (dict "root" . "secret" $secret) -}}
{{- end -}}

{{/* The same, from a named Secret of the pod's namespace (the node agents' own copy). */}}
{{- define "k8s-chatops.redisEnvFrom" -}}
{{- $root := .root -}}
{{- if eq $root.Values.redis.mode "internal" }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: password
- name: K8S_CHATOPS_REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/0" (include "k8s-chatops.redisHost" $root) | quote }}
{{- else if eq $root.Values.redis.mode "sentinel" }}
{{- $s := $root.Values.redis.sentinel }}
{{- /* With sentinels the URL gives only the database and TLS; its host is never dialled. */}}
- name: K8S_CHATOPS_REDIS_URL
  value: {{ printf "%s://sentinel-managed/%d" (ternary "rediss" "redis" $s.tls) ($s.db | int) | quote }}
- name: K8S_CHATOPS_REDIS_SENTINELS
  value: {{ join "," $s.hosts | quote }}
- name: K8S_CHATOPS_REDIS_SENTINEL_MASTER
  value: {{ $s.masterName | quote }}
{{- if .secret }}
- name: K8S_CHATOPS_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ $s.passwordKey }}
{{- if $s.sentinelPasswordKey }}
- name: K8S_CHATOPS_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ $s.sentinelPasswordKey }}
{{- end }}
{{- end }}
{{- else }}
- name: K8S_CHATOPS_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ $root.Values.redis.external.urlKey }}
{{- end }}
{{- end -}}

{{/*
The Secret, in the node agents' namespace, they read Redis's password (or URL) from. A pod
reads Secrets of its own namespace only: the chart copies the password it generated; a
Secret the operator made (redis.internal.auth.existingSecret, redis.external.existingSecret,
redis.sentinel.existingSecret) the operator copies too, and names in nodeAgent.redisSecret, or the render stops here.
*/}}
{{- define "k8s-chatops.agentRedisSecret" -}}
{{- $own := .Values.nodeAgent.redisSecret -}}
{{- $chartMade := and (eq .Values.redis.mode "internal") (not .Values.redis.internal.auth.existingSecret) -}}
{{- $sentinel := eq .Values.redis.mode "sentinel" -}}
{{- if $own -}}
{{- $own -}}
{{- else if $chartMade -}}
{{- include "k8s-chatops.redisAuthSecret" . -}}
{{- else if and $sentinel (not .Values.redis.sentinel.existingSecret) -}}
{{- /* Sentinels and a master that ask for no password: no Secret to copy. */ -}}
{{- else -}}
{{- $theirs := ternary .Values.redis.internal.auth.existingSecret .Values.redis.external.existingSecret (eq .Values.redis.mode "internal") -}}
{{- $key := ternary "password" .Values.redis.external.urlKey (eq .Values.redis.mode "internal") -}}
{{- if $sentinel -}}
{{- $theirs = .Values.redis.sentinel.existingSecret -}}
{{- $key = .Values.redis.sentinel.passwordKey -}}
{{- if .Values.redis.sentinel.sentinelPasswordKey -}}{{- $key = printf "%s (and %s)" $key .Values.redis.sentinel.sentinelPasswordKey -}}{{- end -}}
{{- end -}}
{{- fail (printf "nodeAgent.redisSecret is required with your own Redis Secret %s: pods read Secrets of their own namespace only, so create a Secret with the key %s in the node agents' namespace %s (a copy of %s) and name it in nodeAgent.redisSecret" $theirs $key (include "k8s-chatops.agentNamespace" .) $theirs) -}}
{{- end -}}
{{- end -}}

{{/* Settings every process reads. */}}
{{- define "k8s-chatops.commonEnv" -}}
- name: K8S_CHATOPS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: K8S_CHATOPS_JOB_RETENTION_SECONDS
  value: {{ .Values.jobRetentionSeconds | int64 | quote }}
- name: K8S_CHATOPS_AUDIT_RETENTION_SECONDS
  value: {{ .Values.auditRetentionSeconds | int64 | quote }}
{{- end -}}

{{/* Checks the schema cannot express; each fails the render with one sentence. */}}
{{- define "k8s-chatops.validate" -}}
{{- if not .Values.slack.existingSecret -}}
{{- fail "slack.existingSecret is required: the name of the Secret holding SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET or SLACK_APP_TOKEN); the chart never renders a token" -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "external") (not .Values.redis.external.existingSecret) -}}
{{- fail "redis.external.existingSecret is required when redis.mode is external: the Secret holding the Redis URL" -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "sentinel") (not .Values.redis.sentinel.hosts) -}}
{{- fail "redis.sentinel.hosts is required when redis.mode is sentinel: the sentinels' host:port, one per entry" -}}
{{- end -}}
{{- if and (eq .Values.redis.mode "sentinel") (not .Values.redis.sentinel.masterName) -}}
{{- fail "redis.sentinel.masterName is required when redis.mode is sentinel: the name the sentinels monitor the master under" -}}
{{- end -}}
{{- $seen := dict -}}
{{- $root := . -}}
{{- range .Values.workers -}}
{{- $name := include "k8s-chatops.name" (dict "root" $root "component" (printf "worker-%s" .cluster)) -}}
{{- if hasKey $seen $name -}}
{{- fail (printf "workers: cluster %s is listed twice (or its name is cut to one already used: %s); one entry per cluster, replicas for more workers" .cluster $name) -}}
{{- end -}}
{{- $_ := set $seen $name true -}}
{{- end -}}
{{- if ne .Values.worker.impersonate "none" -}}
{{- $inCluster := false -}}
{{- range .Values.workers -}}{{- if not .kubeconfigSecret -}}{{- $inCluster = true -}}{{- end -}}{{- end -}}
{{- if and $inCluster (not .Values.worker.impersonateUsers) -}}
{{- fail "worker.impersonateUsers must list the Slack user IDs the worker may act as when worker.impersonate is on: an unrestricted impersonate grant lets its account act as anyone" -}}
{{- end -}}
{{- if and $inCluster (eq .Values.worker.impersonate "user-and-roles") (not .Values.worker.impersonateRoles) -}}
{{- fail "worker.impersonateRoles must list the policy roles whose groups (k8s-chatops:ROLE) the worker may act as when worker.impersonate is user-and-roles" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.nodeAgent.enabled (eq .Values.nodeAgent.namespace.name .Release.Namespace) -}}
{{- fail "nodeAgent.namespace.name must differ from the release namespace: the agent needs the privileged Pod Security level, everything else runs under restricted" -}}
{{- end -}}
{{- end -}}

{{/*
The internal Redis password: the one already in the cluster (kept across upgrades), else a new
random one, made once per render so every copy of the Secret agrees.
*/}}
{{- define "k8s-chatops.redisPassword" -}}
{{- $auth := .Values.redis.internal.auth -}}
{{- if not (hasKey $auth "generatedPassword") -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "k8s-chatops.redisAuthSecret" .) -}}
{{- if and $existing $existing.data (hasKey $existing.data "password") -}}
{{- $_ := set $auth "generatedPassword" (index $existing.data "password" | b64dec) -}}
{{- else -}}
{{- $_ := set $auth "generatedPassword" (randAlphaNum 40) -}}
{{- end -}}
{{- end -}}
{{- $auth.generatedPassword -}}
{{- end -}}

{{/* The cluster the node agents report under: the in-cluster worker's. */}}
{{- define "k8s-chatops.localCluster" -}}
{{- $found := "" -}}
{{- range .Values.workers -}}
{{- if and (not $found) (not .kubeconfigSecret) -}}{{- $found = .cluster -}}{{- end -}}
{{- end -}}
{{- default "default" (default $found .Values.nodeAgent.cluster) -}}
{{- end -}}
