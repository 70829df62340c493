#!/usr/bin/env bash
# Installs the Debian packages the test environment's node and the daemonless image build need:
# containerd and runc (the node's runtime), the CNI plugins, iproute2 (the node's network), and
# buildah (builds the operator image without a daemon). Run as root; a no-op when all are present.
# Everything else the environment needs is built from Maven Central, the Go module proxy and npm.
set -euo pipefail
packages=(containerd runc containernetworking-plugins iproute2 buildah)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run: sudo $0" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
# The distribution's containerd service is not the test node's: the environment starts its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet containerd 2>/dev/null; then
  systemctl disable --now containerd >/dev/null 2>&1 || true
fi
