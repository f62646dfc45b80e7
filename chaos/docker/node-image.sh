#!/usr/bin/env bash
# Builds the chaos suite's node image on this machine (no image registry is reachable) and prints its tag.
# Base: debootstrap minbase bookworm + a JRE, Redis, iproute2/iptables, btrfs-progs (state stores), libnetfilter_queue, CRIU's runtime
# libraries and the CRIU and dirty-page tracker that scripts/install.sh built; tagged by a hash of those inputs, so it is built
# once. On top, a thin layer with the Understudy distribution, tagged by the distribution's content hash.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
criu=/usr/local/sbin/criu
tracker=/usr/local/lib/understudy/understudy-uffd
[ -x "$criu" ] && [ -x "$tracker" ] || { echo "node-image: no CRIU at $criu or tracker at $tracker: run ./scripts/install.sh" >&2; exit 2; }
[ -f "$here/cli/target/understudy-cli.jar" ] || { echo "node-image: build the distribution first (mvn install)" >&2; exit 2; }
packages="openjdk-17-jre-headless redis-server iproute2 iptables libnetfilter-queue1 libxxhash0 procps util-linux btrfs-progs
  libprotobuf-c1 libnl-3-200 libnet1 libnftables1 libbsd0 libgnutls30 libuuid1"
mirror=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)

base_hash=$( (echo "$packages $mirror"; sha256sum "$criu" "$tracker") | sha256sum | cut -c1-16)
base="understudy-node-base:$base_hash"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  rootfs=$(mktemp -d /var/tmp/understudy-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  echo "node-image: debootstrap bookworm into $rootfs (a few minutes, once)..." >&2
  debootstrap --variant=minbase --include="$(echo $packages | tr ' ' ,)" bookworm "$rootfs" "$mirror" >&2
  install -m 0755 "$criu" "$rootfs/usr/local/sbin/criu"
  install -D -m 0755 "$tracker" "$rootfs$tracker"
  chroot "$rootfs" apt-get clean
  rm -rf "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --numeric-owner -c . | docker import - "$base" >&2
fi

dist_hash=$( (echo "$base"; sha256sum "$here/jvm.properties"; cd "$here/cli/target" && unzip -p understudy-cli.jar | sha256sum;
  ls lib | sort; for jar in lib/understudy-*.jar; do unzip -p "$jar"; done | sha256sum) | sha256sum | cut -c1-16)
image="understudy-node:$dist_hash"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  ctx=$(mktemp -d /var/tmp/understudy-node-ctx.XXXXXX)
  cp "$here/cli/target/understudy-cli.jar" "$here/jvm.properties" "$ctx/"
  cp -r "$here/cli/target/lib" "$ctx/lib"
  cat > "$ctx/understudy" <<'SH'
#!/bin/sh
flags=$(sed -n 's/^understudy_jvm_flags=//p' /opt/understudy/jvm.properties)
exec java $flags -Xmx384m -cp "/opt/understudy/understudy-cli.jar:/opt/understudy/lib/*" dev.understudy.cli.Understudy "$@"
SH
  cat > "$ctx/Dockerfile" <<DOCKER
FROM $base
COPY understudy-cli.jar jvm.properties /opt/understudy/
COPY lib /opt/understudy/lib
COPY understudy /usr/local/bin/understudy
RUN chmod 0755 /usr/local/bin/understudy
DOCKER
  docker build -q -t "$image" "$ctx" >&2
  rm -rf "$ctx"
fi
echo "$image"
