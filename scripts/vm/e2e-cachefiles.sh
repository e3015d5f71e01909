#!/bin/sh
# Runs inside the test VM (scripts/vm-test): the daemon end to end with --backend cachefiles.
#   e2e-cachefiles.sh PREP STYX_JAR [AOT_DIR]
# A manifester on 127.0.0.1 serves manifests of a file:// binary cache made by Debian's Nix (built
# outside the VM by scripts/vm-test in PREP), the daemon mounts each store path listed in
# PREP/paths through cachefiles on-demand EROFS, and `nix-store --dump` of each mount must hash to
# the NarHash of its narinfo. The manifester's chunk counter shows that mounting fetches no chunk
# data and that a path sharing most chunks with an earlier one fetches only its own.
# Then the crash half, all through real processes: the daemon keeps /dev/cachefiles in a
# `styx fd-holder` (the LISTEN_FDS protocol), readers of freshly mounted paths block on chunks
# the stopped (SIGSTOP) manifester cannot serve, the daemon is SIGKILLed, a new daemon started with
# --backend auto takes the devnode back from the holder (so auto must pick cachefiles), writes
# `restore`, and the readers complete with the right bytes; every mounted path hashes right
# again. Last, with the holder gone, the same crash leaves a blocked reader an error, never wrong
# data. JVMs start from AOT caches trained outside (AOT_DIR: <command>.aot and java-opts).
# Prints "e2e: N passed, M failed" and timings; exits non-zero on any failure.
set -u
prep=$1
jar=$2
aot=${3:-}
w=/tmp/e2e
mkdir -p "$w" /mnt/e2e
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
jopts="--enable-native-access=ALL-UNNAMED --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED -XX:TieredStopAtLevel=1"
[ -n "$aot" ] && [ -f "$aot/java-opts" ] && jopts=$(cat "$aot/java-opts")
# Always run in the background (`java CMD ... &`): it execs, so $! is the JVM itself and the
# signals below reach it.
java() {
  a=
  if [ -n "$aot" ] && [ -f "$aot/$1.aot" ]; then a="-XX:AOTCache=$aot/$1.aot"; fi
  # shellcheck disable=SC2086
  exec "$JAVA_HOME/bin/java" $jopts $a -jar "$jar" "$@"
}
export STYX_CACHEFILES_DIR=/mnt/cache/e2e STYX_CACHEFILES_DOMAIN=e2e
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
cleanup() {
  [ -n "${mpid:-}" ] && kill -CONT "$mpid" 2>/dev/null
  for m in /mnt/e2e/*; do umount -l "$m" 2>/dev/null; done
  for p in ${dpid:-} ${mpid:-} ${hpid:-}; do kill "$p" 2>/dev/null; done
}
trap cleanup EXIT
t0=$(now)
holder=$w/holder.sock
java fd-holder --socket "$holder" >"$w/holder.log" 2>&1 &
hpid=$!
java manifester --listen 127.0.0.1:7420 --store "$w/ms" --signing-key "$prep/msk" \
  --upstream "file://$prep/cache" --upstream-key "$(cat "$prep/pk")" >"$w/manifester.log" 2>&1 &
mpid=$!
# waitfor SECONDS WHAT CMD...: polls CMD every 0.2 s.
waitfor() {
  lim=$(($1 * 5)); what=$2; shift 2; i=0
  until "$@"; do
    i=$((i + 1))
    if [ $i -gt $lim ]; then bad "$what within $((lim / 5)) s"; return 1; fi
    sleep 0.2
  done
}
# The daemon waits (up to 30 s) for the holder's socket: all three JVMs start at once.
java daemon --cache-dir "$w/d" --socket "$w/sock" --backend cachefiles \
  --fd-holder "$holder" >"$w/daemon1.log" 2>&1 &
dpid=$!
up() { [ -S "$w/sock" ] && curl -s -o /dev/null http://127.0.0.1:7420/; }
waitfor 150 "daemon and manifester up" up || { tail -20 "$w/daemon1.log" "$w/manifester.log"; exit 1; }
ok "fd holder, daemon (--backend cachefiles --fd-holder) and manifester up after $(since "$t0") s"
grep -q "devnode bound in .* kept in the fd holder" "$w/daemon1.log" &&
  ok "daemon 1 bound /dev/cachefiles and keeps it in the fd holder" ||
  bad "daemon 1 log does not say the devnode is kept in the holder: $(tail -3 "$w/daemon1.log")"
api() { curl -s --unix-socket "$w/sock" -X POST -H 'Content-Type: application/json' \
  "http://styx$1" -d "$2"; }
r=$(api /init "{\"ManifesterUrl\":\"http://127.0.0.1:7420\",\"ChunksUrl\":\"http://127.0.0.1:7420\",\"TrustedKeys\":[\"$(cat "$prep/mpk")\"]}")
case $r in *'"Success":true'*) ok "init";; *) bad "init: $r";; esac
served() { curl -s -m 5 http://127.0.0.1:7420/metrics | awk '$1 == "styx_chunks_served_total" {print $2}'; }
# Chunks of large manifests (over 64 KiB, stored as chunks) the daemon fetched to join them: the
# only chunks a lazy mount fetches.
mchunks() { curl -s -m 5 --unix-socket "$w/sock" http://styx/metrics | awk '$1 == "styx_manifest_chunks_fetched_total" {print $2}'; }
case $(served) in
  [0-9]*) ok "manifester chunk counter readable";;
  *) bad "no styx_chunks_served_total in the manifester's /metrics"; exit 1;;
esac
case $(mchunks) in
  [0-9]*) ok "daemon manifest-chunk counter readable";;
  *) bad "no styx_manifest_chunks_fetched_total in the daemon's /metrics"; exit 1;;
esac
narhash() {
  nar=$(sed -n 's/^NarHash: sha256://p' "$prep/cache/${1%%-*}.narinfo")
  nix-hash --type sha256 --to-base16 "$nar"
}
mountpath() {
  r=$(api /mount "{\"Upstream\":\"file://$prep/cache\",\"StorePath\":\"$1\",\"MountPoint\":\"/mnt/e2e/$1\",\"NarSize\":0}")
  case $r in *'"Success":true'*) return 0;; *) bad "mount $1: $r"; return 1;; esac
}
# The crash checks need paths nobody has read yet: the three largest that are not the family pair.
grep -v -e '-styx-family-[01]$' "$prep/paths" | tail -n 3 >"$w/fresh"
grep -v -x -F -f "$w/fresh" "$prep/paths" >"$w/main"
n=0
f0=; f1=
tl=$(now)
while read -r p; do
  base=${p#/nix/store/}
  mp=/mnt/e2e/$base
  ts=$(now)
  s0=$(served)
  m0=$(mchunks)
  mountpath "$base" || continue
  s1=$(served)
  mc=$(( $(mchunks) - m0 ))
  [ "$((s1 - s0))" = "$mc" ] || bad "$base: mounting fetched $((s1 - s0)) chunks (want $mc, the manifest's)"
  want=$(narhash "$base")
  got=$(nix-store --dump "$mp" | sha256sum | cut -d' ' -f1)
  d=$(( $(served) - s1 ))
  case $base in *-styx-family-0) f0=$d;; *-styx-family-1) f1=$d;; esac
  if [ "$want" = "$got" ]; then
    ok "$base: mount fetched no file data ($mc manifest chunks); nix-store --dump hashes to its NarHash ($d chunks, $(since "$ts") s)"
    n=$((n + 1))
  else
    bad "$base: NAR hash $got, want $want"
  fi
done <"$w/main"
echo "   (mount + dump of $(wc -l <"$w/main") paths: $(since "$tl") s)"
if [ -n "$f0" ] && [ -n "$f1" ]; then
  if [ "$f0" -gt 0 ] && [ $((f1 * 3)) -le "$f0" ]; then
    ok "second family path fetched $f1 chunks vs $f0 for the first (shared chunks not fetched again)"
  else
    bad "second family path fetched $f1 chunks vs $f0 for the first"
  fi
else
  echo "  (no styx-family paths in /nix/store: sharing through the daemon not checked here)"
fi

# ---- acceptance 4 through the daemon: SIGKILL with readers blocked, devnode in the holder.
echo "== restart: daemon SIGKILLed while readers wait for chunks; the fd holder keeps the devnode"
tr0=$(now)
set -- $(sed 's|^/nix/store/||' "$w/fresh")
r1=$1; r2=$2; r3=$3
for b in "$r1" "$r2" "$r3"; do mountpath "$b" || exit 1; done
# The largest file of a path: what a `cat` reader reads (compared with the host's copy).
bigfile() { (cd "/nix/store/$1" && find . -type f -printf '%s %P\n' | sort -n | tail -n 1 | cut -d' ' -f2-); }
big2=$(bigfile "$r2"); big3=$(bigfile "$r3")
s0=$(served)
kill -STOP "$mpid"  # the chunk server stalls: every fill now waits
nix-store --dump "/mnt/e2e/$r1" >"$w/r1.nar" 2>"$w/r1.err" & rd1=$!
nix-store --dump "/mnt/e2e/$r2" >"$w/r2.nar" 2>"$w/r2.err" & rd2=$!
cat "/mnt/e2e/$r2/$big2" >"$w/r3.out" 2>"$w/r3.err" & rd3=$!
state() { sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1; }
# blocked PID...: every reader sleeps in the kernel (D: waiting for its cachefiles READ).
blocked() { for p in "$@"; do [ "$(state "$p")" = D ] || return 1; done; }
if waitfor 60 "readers blocked on missing data" blocked $rd1 $rd2 $rd3; then
  sleep 1
  ok "3 readers of 2 fresh paths block in the kernel on data the stalled chunk server holds back"
else
  for p in $rd1 $rd2 $rd3; do echo "   reader $p state $(state $p)"; done
fi
kill -KILL "$dpid"; wait "$dpid" 2>/dev/null
tk=$(now)
kill -CONT "$mpid"
sleep 2
if blocked $rd1 $rd2 $rd3 && [ ! -s "$w/r1.err" ] && [ ! -s "$w/r2.err" ] && [ ! -s "$w/r3.err" ]; then
  ok "daemon 1 SIGKILLed; with no daemon the readers still wait (no error, no data)"
else
  bad "after the SIGKILL a reader ended or failed: $(cat "$w"/r?.err | head -3)"
fi
rm -f "$w/sock"
java daemon --cache-dir "$w/d" --socket "$w/sock" --backend auto \
  --fd-holder "$holder" >"$w/daemon2.log" 2>&1 &
dpid=$!
# gone PID...: every reader has exited (a zombie not yet waited for counts).
gone() { for p in "$@"; do [ -d "/proc/$p" ] && [ "$(state "$p")" != Z ] && return 1; done; return 0; }
# Killed if they never finish: `wait` must not hang the tier (they sleep killable).
waitfor 150 "readers done after the restart" gone $rd1 $rd2 $rd3 || kill -KILL $rd1 $rd2 $rd3 2>/dev/null
wait $rd1; e1=$?; wait $rd2; e2=$?; wait $rd3; e3=$?
echo "   (readers done $(since "$tk") s after the SIGKILL; daemon 2 started meanwhile)"
grep -q "backend auto: cachefiles (the fd holder at .* holds the /dev/cachefiles fd" "$w/daemon2.log" &&
  ok "daemon 2 (--backend auto) picked cachefiles: the holder had the devnode" ||
  bad "daemon 2 did not pick cachefiles for the held devnode: $(grep -m1 'backend auto' "$w/daemon2.log")"
grep -q "took /dev/cachefiles back from the fd holder .* and restored its requests" "$w/daemon2.log" &&
  ok "daemon 2 took the devnode back from the holder and wrote restore" ||
  bad "daemon 2 log has no restore: $(tail -3 "$w/daemon2.log")"
for i in 1 2; do
  eval "b=\$r$i e=\$e$i"
  got=$(sha256sum <"$w/r$i.nar" | cut -d' ' -f1)
  if [ "$e" = 0 ] && [ "$got" = "$(narhash "$b")" ]; then
    ok "blocked reader $i completed after restore: nix-store --dump of $b hashes to its NarHash"
    n=$((n + 1))
  else
    bad "reader $i of $b: exit $e, NAR hash $got ($(head -c 200 "$w/r$i.err"))"
  fi
done
if [ "$e3" = 0 ] && cmp -s "$w/r3.out" "/nix/store/$r2/$big2"; then
  ok "blocked cat reader completed after restore: $(stat -c %s "$w/r3.out") bytes equal to /nix/store/$r2/$big2"
else
  bad "cat reader: exit $e3, $(stat -c %s "$w/r3.out") bytes, $(cmp "$w/r3.out" "/nix/store/$r2/$big2" 2>&1 | head -1)"
fi
echo "   (fetched $(( $(served) - s0 )) chunks for the blocked readers)"
# Every mounted path again, through the restarted daemon, two at a time while daemon 2 finishes
# starting (warm data is served by the kernel from the cache files).
tv=$(now)
: >"$w/rehash"
i=0
for m in /mnt/e2e/*; do
  b=${m#/mnt/e2e/}
  [ "$b" = "$r3" ] && continue
  (printf '%s %s %s\n' "$b" "$(narhash "$b")" "$(nix-store --dump "$m" | sha256sum | cut -d' ' -f1)" >>"$w/rehash") &
  eval "j$((i % 2))=\$!"
  i=$((i + 1))
  # Only the two hashing jobs: a bare `wait` would wait for daemon 2 as well.
  [ $((i % 2)) -eq 0 ] && wait $j0 $j1
done
[ $((i % 2)) -eq 1 ] && wait $j0
awk '$2 != $3 {print "   " $1 ": got " $3 ", want " $2}' "$w/rehash"
bads=$(awk '$2 != $3' "$w/rehash" | wc -l)
[ "$bads" -eq 0 ] && [ "$(wc -l <"$w/rehash")" -eq "$i" ] &&
  ok "after the restart all $i mounted paths still hash to their NarHash ($(since "$tv") s)" ||
  bad "after the restart $bads of $i mounted paths hash wrong ($(wc -l <"$w/rehash") checked)"
waitfor 150 "daemon 2 ready" grep -q "styx daemon ready" "$w/daemon2.log" &&
  ok "daemon 2 ready ($(sed -n 's/.*styx daemon ready: \([0-9]* store paths mounted\).*/\1/p' "$w/daemon2.log")) $(since "$tk") s after the SIGKILL"
echo "   (restart section: $(since "$tr0") s)"

# ---- without the devnode held: the holder exits, daemon 2 has the only copy.
echo "== crash without the devnode held"
tn=$(now)
kill -TERM "$hpid"; wait "$hpid" 2>/dev/null; hpid=
kill -STOP "$mpid"
cat "/mnt/e2e/$r3/$big3" >"$w/r4.out" 2>"$w/r4.err" & rd4=$!
waitfor 60 "no-holder reader blocked on missing data" blocked $rd4
sleep 1
kill -KILL "$dpid"; wait "$dpid" 2>/dev/null; dpid=
waitfor 30 "no-holder reader ends after the SIGKILL" gone $rd4 || kill -KILL $rd4 2>/dev/null
wait $rd4; e4=$?
kill -CONT "$mpid"
sz=$(stat -c %s "$w/r4.out"); full=$(stat -c %s "/nix/store/$r3/$big3")
if [ "$e4" != 0 ] && [ "$sz" -lt "$full" ] && cmp -s -n "$sz" "$w/r4.out" "/nix/store/$r3/$big3"; then
  ok "reader of the SIGKILLed daemon without the devnode held fails (exit $e4: $(sed 's/.*: //' "$w/r4.err" | head -n 1)); the $sz bytes it got are right"
else
  bad "no-holder reader: exit $e4, $sz of $full bytes, $(cmp -n "$sz" "$w/r4.out" "/nix/store/$r3/$big3" 2>&1 | head -1)"
fi
cat "/mnt/e2e/$r3/$big3" >"$w/r5.out" 2>"$w/r5.err"; e5=$?
sz=$(stat -c %s "$w/r5.out")
if [ "$e5" != 0 ] && cmp -s -n "$sz" "$w/r5.out" "/nix/store/$r3/$big3"; then
  ok "a later read of the missing data fails too (exit $e5), never zeros or wrong bytes"
else
  bad "later read: exit $e5, $sz of $full bytes"
fi
echo "   (no-holder section: $(since "$tn") s)"

[ $n -ge 10 ] && ok "$n store paths verified against their NarHash (>= 10)" || bad "only $n store paths verified (< 10)"
grep -h -E "WARN|ERROR" "$w/daemon1.log" "$w/daemon2.log" | grep -v -e MacAddressUtil -e "reader gets EIO" | head -5
echo "e2e wall time: $(since "$t0") s"
echo "e2e: $passed passed, $failed failed"
[ $failed -eq 0 ]
