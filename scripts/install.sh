#!/usr/bin/env bash
# Installs everything Understudy needs on a Debian 12 machine. Idempotent: a second run only checks.
# CRIU >= 4.2 is built from Debian's own source package (unstable), because Debian 12's criu 3.17
# fails on recent kernels; the system's apt sources are never changed (a private apt config is used).
set -euo pipefail

CRIU_MIN="4.2"
PREFIX="${UNDERSTUDY_PREFIX:-/usr/local}"
SRC_CACHE="${UNDERSTUDY_CACHE:-/var/cache/understudy}"
say() { printf '[install] %s\n' "$*" >&2; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0): it installs Debian packages and CRIU under $PREFIX"

PKGS=(
  redis-server redis-tools iptables iproute2 util-linux procps
  libnetfilter-queue1 libxxhash0
  # the idle-cost bench protects a socat echo service
  socat
  # the stream-security tests capture the pair's traffic off the LAN bridge, as an attacker there would
  tcpdump
  # --state-dir: each host's copy of the service's files is a btrfs loop image (snapshot, send, receive);
  # sqlite3 for the state-dir tests' SQLite service
  btrfs-progs python3 sqlite3
  # CRIU build and runtime dependencies
  build-essential patch pkgconf libbsd-dev libcap-dev libgnutls28-dev libnet1-dev libnftables-dev
  libnl-3-dev libprotobuf-c-dev libprotobuf-dev protobuf-c-compiler protobuf-compiler uuid-dev
  python3-protobuf libaio-dev xz-utils curl ca-certificates
  # the JVM build
  openjdk-17-jdk-headless maven
  # the chaos suite: a local Docker engine, and debootstrap for its node image (no registry is reachable)
  docker.io debootstrap unzip
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts redis-server as a system service where systemd runs; Understudy starts its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
  systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# The CRIU patches kept in this repository (native/criu-patches): the installed CRIU must be built with
# exactly these and these build options, so their hash is recorded beside it and a change rebuilds it.
ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
PATCH_DIR="$ROOT/native/criu-patches"
STAMP_DIR="$PREFIX/share/understudy"
# CRIU caches what it learnt of the kernel in RUNDIR/criu.kdat, and only on a tmpfs (gone at reboot). Where
# /run is not one (this project's machines) every dump probed the kernel again, about 30 ms before each
# freeze, a test network namespace and veth included; /dev/shm is a tmpfs everywhere.
CRIU_MAKE_OPTS=(RUNDIR=/dev/shm)
patches_hash=$({ cat "$PATCH_DIR"/*.patch 2>/dev/null; echo "${CRIU_MAKE_OPTS[*]}"; } | sha256sum | cut -c1-64)

criu_ok() {
  local bin="$1" v
  [ -x "$bin" ] || return 1
  v=$("$bin" --version 2>/dev/null | awk '/^Version:/{print $2}')
  [ -n "$v" ] && version_ge "$v" "$CRIU_MIN" || return 1
  [ "$(cat "$STAMP_DIR/criu-patches.sha256" 2>/dev/null)" = "$patches_hash" ] || return 1
  "$bin" check >/dev/null 2>&1
}

if criu_ok "$PREFIX/sbin/criu"; then
  say "CRIU $("$PREFIX/sbin/criu" --version | awk '/^Version:/{print $2}') at $PREFIX/sbin/criu passes 'criu check'"
else
  if [ -x /usr/sbin/criu ]; then
    v=$(/usr/sbin/criu --version 2>/dev/null | awk '/^Version:/{print $2}')
    say "found Debian's criu $v at /usr/sbin/criu: it is older than $CRIU_MIN and fails on this kernel; building CRIU >= $CRIU_MIN under $PREFIX (that one wins on PATH)"
  fi
  # The archive URI the system already uses; a private apt config fetches the Sources index of unstable.
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || die "no Debian archive URI found in /etc/apt: cannot fetch CRIU's source package"
  mirror=${mirror%/}
  apt_dir=$(mktemp -d); trap 'rm -rf "$apt_dir"' EXIT
  mkdir -p "$apt_dir/lists/partial"
  echo "deb-src $mirror sid main" > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o APT::Sandbox::User=root)
  say "reading the Sources index of unstable from $mirror"
  apt-get "${apt_opts[@]}" update -qq >/dev/null
  # apt verified the index against the archive keyring; its SHA-256 is what the tarball must match.
  line=$(apt-get "${apt_opts[@]}" source --print-uris criu 2>/dev/null | grep -E "\.orig\.tar\.(xz|gz|bz2)'" | head -n1)
  [ -n "$line" ] || die "the Sources index of unstable lists no criu orig tarball"
  uri=$(echo "$line" | awk '{print $1}' | tr -d "'")
  file=$(echo "$line" | awk '{print $2}')
  sha=$(echo "$line" | awk '{print $4}' | sed 's/^SHA256://')
  [ ${#sha} -eq 64 ] || die "no SHA-256 for $file in the Sources index"
  mkdir -p "$SRC_CACHE"
  if ! echo "$sha  $SRC_CACHE/$file" | sha256sum -c --status 2>/dev/null; then
    say "fetching $file"
    curl -fsSL -o "$SRC_CACHE/$file.part" "$uri"
    mv "$SRC_CACHE/$file.part" "$SRC_CACHE/$file"
  fi
  echo "$sha  $SRC_CACHE/$file" | sha256sum -c --status || { rm -f "$SRC_CACHE/$file"; die "SHA-256 of $file does not match the Sources index"; }
  say "SHA-256 of $file matches the Sources index"
  build=$(mktemp -d)
  tar -C "$build" -xf "$SRC_CACHE/$file"
  srcdir=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -n1)
  for p in "$PATCH_DIR"/*.patch; do
    say "applying $(basename "$p")"
    patch -d "$srcdir" -p1 --quiet --forward < "$p" || die "patch $(basename "$p") does not apply to $file"
  done
  say "building CRIU in $srcdir (about a minute on 2 cores)"
  make -C "$srcdir" -j"$(nproc)" "${CRIU_MAKE_OPTS[@]}" criu >"$build/build.log" 2>&1 || { tail -20 "$build/build.log" >&2; die "CRIU build failed (log: $build/build.log)"; }
  install -D -m 0755 "$srcdir/criu/criu" "$PREFIX/sbin/criu"
  rm -rf "$build"
  mkdir -p "$STAMP_DIR" && echo "$patches_hash" > "$STAMP_DIR/criu-patches.sha256"
  rm -f /run/criu.kdat /dev/shm/criu.kdat # kernel facts cached by another build of CRIU
  criu_ok "$PREFIX/sbin/criu" || { "$PREFIX/sbin/criu" check >&2 || true; die "built CRIU fails 'criu check' on this kernel"; }
  say "installed CRIU $("$PREFIX/sbin/criu" --version | awk '/^Version:/{print $2}') at $PREFIX/sbin/criu"
fi

# The dirty-page tracker: a small helper that holds a userfaultfd of each process of the service.
TRACKER_SRC="$ROOT/native/uffd-tracker/understudy-uffd.c"
TRACKER_BIN="$PREFIX/lib/understudy/understudy-uffd"
tracker_hash=$(sha256sum "$TRACKER_SRC" | cut -c1-64)
if [ "$(cat "$STAMP_DIR/understudy-uffd.sha256" 2>/dev/null)" != "$tracker_hash" ] || [ ! -x "$TRACKER_BIN" ]; then
  mkdir -p "$(dirname "$TRACKER_BIN")" "$STAMP_DIR"
  cc -O2 -Wall -Wextra -Werror -o "$TRACKER_BIN" "$TRACKER_SRC" || die "building $TRACKER_SRC failed"
  echo "$tracker_hash" > "$STAMP_DIR/understudy-uffd.sha256"
  say "built the dirty-page tracker at $TRACKER_BIN"
fi

# The chaos suite's containers need a running Docker engine; where no init system starts it, start it here.
if ! docker info >/dev/null 2>&1; then
  if command -v systemctl >/dev/null && systemctl start docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    say "started docker"
  else
    say "starting dockerd (log: /var/log/understudy-dockerd.log)"
    setsid nohup dockerd >/var/log/understudy-dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || die "dockerd did not start (see /var/log/understudy-dockerd.log)"
  fi
fi
