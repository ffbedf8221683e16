# Sourced by the repository's scripts: makes sure JAVA_HOME names a JDK 21 or newer.
# Order: an existing JAVA_HOME if it is new enough, the `java` on PATH if it is new enough, then the
# newest JDK under /usr/lib/jvm (Debian's layout; Temurin installs there too). Prints what it picked
# when it had to choose, and fails with instructions when there is none.

edgeslm_java_major() { # $1 = path to a java binary; prints its feature version or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n 1
}

edgeslm_select_jdk() {
  local candidate major best="" best_major=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    major=$(edgeslm_java_major "$JAVA_HOME/bin/java")
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then return 0; fi
    echo "JAVA_HOME=$JAVA_HOME is Java ${major:-unknown}; EdgeSLM needs 21 or newer, looking for another JDK." >&2
  fi
  if command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1; then
    major=$(edgeslm_java_major "$(command -v java)")
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then
      JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
      export JAVA_HOME
      return 0
    fi
  fi
  for candidate in /usr/lib/jvm/*/ /opt/java/*/ /opt/jdk*/; do
    [ -x "${candidate}bin/javac" ] || continue
    major=$(edgeslm_java_major "${candidate}bin/java")
    if [ "${major:-0}" -gt "$best_major" ] 2>/dev/null; then best=${candidate%/}; best_major=$major; fi
  done
  if [ "$best_major" -ge 21 ]; then
    export JAVA_HOME=$best
    echo "Using the JDK at $JAVA_HOME (Java $best_major); set JAVA_HOME to choose another." >&2
    return 0
  fi
  echo "No JDK 21 or newer found (checked JAVA_HOME, PATH and /usr/lib/jvm)." >&2
  echo "Install one (for example: apt-get install openjdk-21-jdk-headless) or set JAVA_HOME to it." >&2
  return 1
}

edgeslm_select_jdk || exit 1
export PATH="$JAVA_HOME/bin:$PATH"
