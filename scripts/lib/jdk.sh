# Sourced by scripts/* and .ci/run: exports JAVA_HOME pointing at a JDK >= 21.
# Order: $JAVA_HOME if it qualifies, else the newest JDK under /usr/lib/jvm.
# Also forces a UTF-8 locale: without one the JVM cannot name non-ASCII files (sun.jnu.encoding),
# and Nix store trees are full of them.
case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
  *UTF-8*|*utf8*|*UTF8*|*utf-8*) ;;
  *) export LC_ALL=C.UTF-8 ;;
esac

styx_java_major() { # $1 = JDK home; prints its feature version or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p')
  fi
  echo "$v"
}

styx_find_jdk() {
  local min=21 best="" bestv=0 d v
  if [ -n "${JAVA_HOME:-}" ]; then
    v=$(styx_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge "$min" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
      export JAVA_HOME; return 0
    fi
  fi
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    [ -L "$d" ] && continue
    [ -x "$d/bin/javac" ] || continue
    v=$(styx_java_major "$d")
    [ -n "$v" ] || continue
    if [ "$v" -ge "$min" ] && [ "$v" -gt "$bestv" ]; then best=$d; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "styx: no JDK >= $min found (JAVA_HOME=${JAVA_HOME:-unset}, nothing suitable under /usr/lib/jvm)." >&2
    echo "styx: install one (e.g. apt-get install openjdk-21-jdk-headless) or point JAVA_HOME at it." >&2
    return 1
  fi
  export JAVA_HOME=$best
}
