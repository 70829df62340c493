{{/*
The release's full name: the release name when it already contains the chart name (so
`helm install kafka-backup-operator` names everything exactly as lib/operator.ts does), else
"<release>-kafka-backup-operator". Cluster-scoped objects carry it, so two releases never collide.
At most 55 characters, so that "<fullname>-metrics" is still a valid Service name.
*/}}
{{- define "kafka-backup-operator.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/*
Selector labels: the same two as lib/operator.ts, so Pods, the PDB, the NetworkPolicy and the
ServiceMonitor select alike whichever way the operator was installed. Fixed, because a Deployment's
selector cannot change after install.
*/}}
{{- define "kafka-backup-operator.selectorLabels" -}}
app.kubernetes.io/name: kafka-backup-operator
app.kubernetes.io/component: operator
{{- end -}}

{{- define "kafka-backup-operator.labels" -}}
{{ include "kafka-backup-operator.selectorLabels" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: kafka-backup
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kafka-backup-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kafka-backup-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Lease leader election uses; the leader-election Role allows this name only. */}}
{{- define "kafka-backup-operator.leaseName" -}}
{{- printf "%s-leader" (include "kafka-backup-operator.fullname" .) -}}
{{- end -}}

{{/* The watched namespaces, sorted and without repeats (as InstallMode.namespaced() keeps them). */}}
{{- define "kafka-backup-operator.watchNamespaces" -}}
{{- .Values.watchNamespaces | uniq | sortAlpha | join "," -}}
{{- end -}}

{{/*
The one rule of the Secrets Role: get (never list or watch, so no Secret is disclosed in bulk),
limited to rbac.secretNames when given.
*/}}
{{- define "kafka-backup-operator.secretRules" -}}
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
  {{- with .Values.rbac.secretNames }}
  resourceNames: {{ . | uniq | sortAlpha | toJson }}
  {{- end }}
{{- end -}}

{{/*
What the operator may do in a watched namespace; the same permissions as lib/operator.ts grants
(test/unit/chart/chart.test.ts compares them).
*/}}
{{- define "kafka-backup-operator.watchRules" -}}
{{- $kinds := list "kafkabackups" "kafkarestores" "kafkaoffsetresets" "kafkaoffsetrollbacks" "kafkabackupvalidations" -}}
# Reads the specs; patch adds and removes the finalizer.
- apiGroups: ["kafka.oso.sh"]
  resources: {{ $kinds | toJson }}
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["kafka.oso.sh"]
  resources:
  {{- range $kinds }}
    - {{ . }}/status
  {{- end }}
  verbs: ["get", "patch", "update"]
- apiGroups: ["kafka.oso.sh"]
  resources:
  {{- range $kinds }}
    - {{ . }}/finalizers
  {{- end }}
  verbs: ["update"]
# Backups and restores run as Jobs owned by the resource.
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end -}}

{{/* The operator's image reference (the tag defaults to the chart's appVersion). */}}
{{- define "kafka-backup-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}
