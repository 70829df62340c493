#!/usr/bin/env bash
# Assembles the operator image's root filesystem: the Dockerfile runs it in its build stage, and
# `npm run image` runs it on this machine, so both images have the same layout.
#
# usage: rootfs.sh NODE_BINARY APP_DIR OUT_DIR
#   NODE_BINARY  the node executable to ship (Node 24)
#   APP_DIR      a directory with package.json, build/cli/ (the bundled CLI) and node_modules/ (production only)
#   OUT_DIR      the root filesystem to create (must not exist)
set -euo pipefail
node_bin=$1 app=$2 out=$3
[ -x "$node_bin" ] || { echo "rootfs.sh: $node_bin is not an executable" >&2; exit 2; }
for f in package.json build/cli/kafka-backup.js node_modules; do
  [ -e "$app/$f" ] || { echo "rootfs.sh: $app/$f is missing (build and install production dependencies first)" >&2; exit 2; }
done
[ ! -e "$out" ] || { echo "rootfs.sh: $out already exists" >&2; exit 2; }

mkdir -p "$out"/{usr/local/bin,etc/ssl/certs,app,tmp}
chmod 1777 "$out/tmp"
install -m 0755 "$node_bin" "$out/usr/local/bin/node"

# The shared libraries (glibc, libstdc++, libgcc, librt, ...) of Node and of the native addons among
# the dependencies (lz4, zstd), and the dynamic loader, at the paths they were linked with.
{ echo "$node_bin"; find "$app/node_modules" -name '*.node' -type f; } | while read -r elf; do
  ldd "$elf" 2>/dev/null || true
done | awk '/=> \//{print $3} /^\s*\/lib/{print $1}' | sort -u | while read -r lib; do
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done
# Debian's /lib and /lib64 are links into /usr; keep the paths the loader looks at.
[ -e /lib64/ld-linux-x86-64.so.2 ] && mkdir -p "$out/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$out/lib64/"

cp -L /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$out/etc/group"
printf 'hosts: files dns\n' >"$out/etc/nsswitch.conf"

cp -a "$app/package.json" "$app/build" "$app/node_modules" "$out/app/"
# Source maps and type declarations are for developers; the image runs the JavaScript.
find "$out/app/build" \( -name '*.map' -o -name '*.d.ts' \) -delete
