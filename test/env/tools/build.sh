#!/usr/bin/env bash
# Builds the Go-based test components (kube-apiserver, kubectl, the node's kubelet,
# kube-controller-manager and kube-scheduler, etcd, helm, minio, fake-gcs-server, toxiproxy)
# from the Go module proxy into a cache outside the repo.
# Each module is cached under a key derived from its go.mod and go.sum, so a pin change
# rebuilds it and a warm machine skips it.
#
# usage: build.sh [module ...]      (default: all modules)
# prints: one line per module, "<module> <bin-dir>"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KAFKA_BACKUP_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-backup-test}
modules=("$@")
[ ${#modules[@]} -gt 0 ] || modules=(kube etcd helm minio fakegcs toxiproxy)

# Release stamps, so servers and clients report real versions (kubectl/helm check them).
ldflags() {
  local v
  case $1 in
    kube|kube-node)
      v=$(grep -oE "k8s.io/kubernetes v[0-9.]+" "$here/kube/go.mod" | head -1 | cut -d" " -f2)
      local minor=${v#v1.}; minor=${minor%%.*}
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean ' "$p" "$v" "$p" "$p" "$minor" "$p"
      done ;;
    helm)
      v=$(grep -oE "helm.sh/helm/v3 v[0-9.]+" "$here/helm/go.mod" | head -1 | cut -d" " -f2)
      printf -- '-X helm.sh/helm/v3/internal/version.version=%s' "$v" ;;
  esac
}

binaries() {
  case $1 in
    kube) echo "kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver kubectl=k8s.io/kubernetes/cmd/kubectl" ;;
    # Same module and release as kube; built only when a test needs a node (kubelet is minutes cold).
    kube-node) echo "kubelet=k8s.io/kubernetes/cmd/kubelet kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler" ;;
    etcd) echo "etcd=go.etcd.io/etcd/server/v3" ;;
    helm) echo "helm=helm.sh/helm/v3/cmd/helm" ;;
    minio) echo "minio=github.com/minio/minio" ;;
    fakegcs) echo "fake-gcs-server=github.com/fsouza/fake-gcs-server" ;;
    pause) echo "pause=." ;;
    toxiproxy) echo "toxiproxy-server=github.com/Shopify/toxiproxy/v2/cmd/server toxiproxy-cli=github.com/Shopify/toxiproxy/v2/cmd/cli" ;;
    *) echo "unknown module '$1' (known: kube kube-node pause etcd helm minio fakegcs toxiproxy)" >&2; return 1 ;;
  esac
}

# The Go module directory a build target comes from.
source_dir() {
  case $1 in
    kube-node) echo "$here/kube" ;;
    *) echo "$here/$1" ;;
  esac
}

for m in "${modules[@]}"; do
  specs=$(binaries "$m")
  src=$(source_dir "$m")
  key=$(cat "$0" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-12)
  out="$cache/go/$m-$key"
  mkdir -p "$cache/go"
  # One build per module at a time, across processes: a second caller waits, then finds it built.
  exec 9>"$cache/go/$m-$key.lock"
  flock 9
  if [ ! -f "$out/.complete" ]; then
    mkdir -p "$out"
    log="$cache/go/$m-$key.build.log"
    echo "building $m into $out (log: $log)" >&2
    for spec in $specs; do
      name=${spec%%=*}; pkg=${spec#*=}
      if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags="-s -w $(ldflags "$m")" -o "$out/$name" "$pkg") >>"$log" 2>&1; then
        echo "failed to build $name for the test environment; see $log" >&2
        tail -20 "$log" >&2
        exit 1
      fi
    done
    touch "$out/.complete"
  fi
  flock -u 9
  echo "$m $out"
done
