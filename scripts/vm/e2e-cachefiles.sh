#!/bin/sh
# Runs inside the test VM (scripts/vm-test): the daemon end to end with --backend cachefiles.
# A manifester on 127.0.0.1 serves manifests of a file:// binary cache made by Debian's Nix (built
# outside the VM by scripts/vm-test in $1), the daemon mounts each store path listed in $1/paths
# through cachefiles on-demand EROFS, and `nix-store --dump` of each mount must hash to the NarHash
# of its narinfo. The manifester's chunk counter shows that mounting fetches no chunk data and that
# a path sharing most chunks with an earlier one fetches only its own. Prints "e2e: N passed, M failed"; exits non-zero on any failure.
set -u
prep=$1
jar=$2
w=/tmp/e2e
mkdir -p "$w" /mnt/e2e
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
java() { "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED \
  --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED \
  -XX:TieredStopAtLevel=1 -jar "$jar" "$@"; }
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL $*"; }
cleanup() {
  for m in /mnt/e2e/*; do umount -l "$m" 2>/dev/null; done
  [ -n "${dpid:-}" ] && kill "$dpid" 2>/dev/null
  [ -n "${mpid:-}" ] && kill "$mpid" 2>/dev/null
}
trap cleanup EXIT
t0=$(date +%s)
java manifester --listen 127.0.0.1:7420 --store "$w/ms" --signing-key "$prep/msk" \
  --upstream "file://$prep/cache" --upstream-key "$(cat "$prep/pk")" >"$w/manifester.log" 2>&1 &
mpid=$!
STYX_CACHEFILES_DIR=/mnt/cache/e2e STYX_CACHEFILES_DOMAIN=e2e \
  java daemon --cache-dir "$w/d" --socket "$w/sock" --backend cachefiles >"$w/daemon.log" 2>&1 &
dpid=$!
i=0
until [ -S "$w/sock" ] && curl -s -o /dev/null http://127.0.0.1:7420/; do
  i=$((i + 1))
  if [ $i -gt 600 ]; then
    bad "daemon and manifester up within 120 s"
    tail -20 "$w/daemon.log" "$w/manifester.log"; exit 1
  fi
  sleep 0.2
done
ok "daemon (--backend cachefiles) and manifester up after $(( $(date +%s) - t0 )) s"
grep -q "cachefiles" "$w/daemon.log" && ok "daemon log names the cachefiles backend" ||
  bad "daemon log does not mention cachefiles: $(tail -3 "$w/daemon.log")"
api() { curl -s --unix-socket "$w/sock" -X POST -H 'Content-Type: application/json' \
  "http://styx$1" -d "$2"; }
r=$(api /init "{\"ManifesterUrl\":\"http://127.0.0.1:7420\",\"ChunksUrl\":\"http://127.0.0.1:7420\",\"TrustedKeys\":[\"$(cat "$prep/mpk")\"]}")
case $r in *'"Success":true'*) ok "init";; *) bad "init: $r";; esac
served() { curl -s http://127.0.0.1:7420/metrics | awk '$1 == "styx_chunks_served_total" {print $2}'; }
case $(served) in
  [0-9]*) ok "manifester chunk counter readable";;
  *) bad "no styx_chunks_served_total in the manifester's /metrics"; exit 1;;
esac
n=0
f0=; f1=
while read -r p; do
  base=${p#/nix/store/}
  mp=/mnt/e2e/$base
  ts=$(date +%s)
  s0=$(served)
  r=$(api /mount "{\"Upstream\":\"file://$prep/cache\",\"StorePath\":\"$base\",\"MountPoint\":\"$mp\",\"NarSize\":0}")
  case $r in *'"Success":true'*) ;; *) bad "mount $base: $r"; continue;; esac
  s1=$(served)
  [ "$s1" = "$s0" ] || bad "$base: mounting fetched $((s1 - s0)) chunks (want 0)"
  nar=$(sed -n 's/^NarHash: sha256://p' "$prep/cache/${base%%-*}.narinfo")
  want=$(nix-hash --type sha256 --to-base16 "$nar")
  got=$(nix-store --dump "$mp" | sha256sum | cut -d' ' -f1)
  d=$(( $(served) - s1 ))
  case $base in *-styx-family-0) f0=$d;; *-styx-family-1) f1=$d;; esac
  if [ "$want" = "$got" ]; then
    ok "$base: mount fetched nothing; nix-store --dump hashes to its NarHash ($d chunks, $(( $(date +%s) - ts )) s)"
    n=$((n + 1))
  else
    bad "$base: NAR hash $got, want $want"
  fi
done <"$prep/paths"
if [ -n "$f0" ] && [ -n "$f1" ]; then
  if [ "$f0" -gt 0 ] && [ $((f1 * 3)) -le "$f0" ]; then
    ok "second family path fetched $f1 chunks vs $f0 for the first (shared chunks not fetched again)"
  else
    bad "second family path fetched $f1 chunks vs $f0 for the first"
  fi
else
  echo "  (no styx-family paths in /nix/store: sharing through the daemon not checked here)"
fi
[ $n -ge 10 ] && ok "$n store paths verified (>= 10)" || bad "only $n store paths verified (< 10)"
grep -E "WARN|ERROR" "$w/daemon.log" | head -5
echo "e2e wall time: $(( $(date +%s) - t0 )) s"
echo "e2e: $passed passed, $failed failed"
[ $failed -eq 0 ]
