# Sourced by the repository's scripts: makes sure JAVA_HOME names a Java 21 or newer and puts its
# bin/ first on PATH. Order: an existing JAVA_HOME if it is new enough, the `java` on PATH if it is
# new enough, then the newest one under /usr/lib/jvm (Debian's and Temurin's layout), /opt/java
# and /opt/jdk*. Prints what it picked when it had to choose, and exits with instructions when
# there is none.
#
# Before sourcing, a script may set
#   EDGESLM_JAVA_NEEDS=java   a runtime is enough (the default, jdk, also needs javac: to build)
#   EDGESLM_JAVA_CALLER=name  the name its messages start with (default: the script's name)
#   EDGESLM_JAVA_SEARCH=dirs  where to look after JAVA_HOME and PATH: directories separated by ':',
#                             each holding Java homes (default: /usr/lib/jvm, /opt/java and the
#                             /opt/jdk* directories themselves). JavaFinderTest uses it to look where
#                             there is only an old JDK.

edgeslm_java_major() { # $1 = path to a java binary; prints its feature version or nothing
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

edgeslm_java_ok() { # $1 = a Java home; true if it is new enough and complete enough
  [ -x "$1/bin/java" ] || return 1
  if [ "${EDGESLM_JAVA_NEEDS:-jdk}" = jdk ] && [ ! -x "$1/bin/javac" ]; then return 1; fi
  edgeslm_java_found=$(edgeslm_java_major "$1/bin/java")
  [ "${edgeslm_java_found:-0}" -ge 21 ] 2>/dev/null
}

edgeslm_select_java() {
  local who=${EDGESLM_JAVA_CALLER:-$(basename "$0")} candidate home best="" best_major=0 dir
  local what="Java 21 or newer" where="under /usr/lib/jvm, /opt/java or /opt/jdk*"
  local candidates=(/usr/lib/jvm/*/ /opt/java/*/ /opt/jdk*/) dirs=()
  if [ -n "${EDGESLM_JAVA_SEARCH:-}" ]; then
    IFS=: read -r -a dirs <<<"$EDGESLM_JAVA_SEARCH"
    candidates=()
    for dir in "${dirs[@]}"; do [ -n "$dir" ] && candidates+=("${dir%/}"/*/); done
    where="under ${EDGESLM_JAVA_SEARCH//:/ or }"
  fi
  [ "${EDGESLM_JAVA_NEEDS:-jdk}" = jdk ] && what="JDK 21 or newer (with javac)"
  if [ -n "${JAVA_HOME:-}" ]; then
    if edgeslm_java_ok "$JAVA_HOME"; then return 0; fi
    echo "$who: JAVA_HOME=$JAVA_HOME is not a $what (Java ${edgeslm_java_found:-unknown}); looking for another." >&2
  fi
  if command -v java >/dev/null 2>&1; then
    # /usr/bin/java is a chain of links (Debian's alternatives) into the real Java home.
    home=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    if edgeslm_java_ok "$home"; then
      export JAVA_HOME=$home
      return 0
    fi
  fi
  for candidate in "${candidates[@]}"; do
    candidate=${candidate%/}
    edgeslm_java_ok "$candidate" || continue
    if [ "$edgeslm_java_found" -gt "$best_major" ]; then best=$candidate; best_major=$edgeslm_java_found; fi
  done
  if [ -n "$best" ]; then
    export JAVA_HOME=$best
    echo "$who: using Java $best_major at $JAVA_HOME (the default java is missing or older than 21; set JAVA_HOME to choose another)." >&2
    return 0
  fi
  echo "$who: EdgeSLM needs a $what and found none in JAVA_HOME, on PATH or $where; install one (docs/deployment.md, \"Java\", has the line for your distribution) or set JAVA_HOME to it." >&2
  return 1
}

edgeslm_select_java || exit 1
export PATH="$JAVA_HOME/bin:$PATH"
