#!/usr/bin/env bash
# What uffd-wp dirty tracking costs the service itself, with no checkpoint at all: Redis's SET throughput
# (redis-benchmark, pipelined, random keys over a populated dataset) bare, then with every writable
# mapping registered by understudy-uffd and write-protected once (one CRIU dump with --track-mem re-arms
# it), so each first write to a page faults once. Usage: scripts/bench-tracking-cost.sh [DATASET_MB] [ROUNDS]
set -euo pipefail
mb=${1:-512}
rounds=${2:-3}
port=6391
work=$(mktemp -d /dev/shm/understudy-tracking-cost.XXXXXX)
helper=/usr/local/lib/understudy/understudy-uffd
[ -x "$helper" ] || { echo "understudy-uffd is missing: run scripts/install.sh" >&2; exit 1; }
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

redis-server --port $port --save "" --appendonly no --enable-debug-command yes --daemonize no \
  >"$work/redis.log" 2>&1 </dev/null &
pid=$!
until redis-cli -p $port ping >/dev/null 2>&1; do sleep 0.1; done
keys=$((mb * 1000 * 1000 / 1100))
redis-cli -p $port DEBUG POPULATE "$keys" key 1000 >/dev/null

measure() {
  redis-benchmark -p $port -t set -n 400000 -r "$keys" -d 1000 -P 16 -c 4 -q 2>/dev/null |
    awk '/SET/ {for (i = 1; i <= NF; i++) if ($i ~ /requests/) print $(i-1)}' | tr -d ','
}

echo "rss_mb=$(( $(awk '/VmRSS/ {print $2}' /proc/$pid/status) / 1024 ))"
bare=(); tracked=()
for r in $(seq "$rounds"); do bare+=("$(measure)"); done

coproc TRACKER { "$helper"; }
echo "root $pid" >&"${TRACKER[1]}"
echo refresh >&"${TRACKER[1]}"; read -r answer <&"${TRACKER[0]}"
echo "tracker: $answer"
for r in $(seq "$rounds"); do
  # Arm: CRIU's incremental dump write-protects every written page while the process is frozen.
  rm -rf "$work/d"; mkdir -p "$work/d"
  criu dump -t "$pid" -D "$work/d" --leave-running --shell-job --track-mem --dirty-track uffd-wp -o dump.log
  tracked+=("$(measure)")
done
echo quit >&"${TRACKER[1]}"

printf 'bare_set_per_s=%s\ntracked_set_per_s=%s\n' "${bare[*]}" "${tracked[*]}"
python3 - "${bare[*]}" "${tracked[*]}" <<'PY'
import statistics, sys
bare = [float(x) for x in sys.argv[1].split()]
tracked = [float(x) for x in sys.argv[2].split()]
print(f"median bare {statistics.median(bare):.0f} SET/s, tracked {statistics.median(tracked):.0f} SET/s, "
      f"ratio {statistics.median(tracked) / statistics.median(bare):.3f}")
PY
