#!/usr/bin/env bash
# Makes sure the Debian packages the tests need are installed (npm's pretest and .ci/run both run
# this): installs the missing ones with apt-get when it can (as root, or through sudo without a
# password), otherwise stops with the one command to run. Quiet when nothing is missing.
#
# Usage: system-packages.sh [LIST]   LIST defaults to system-packages.txt next to this script:
#   one package a line, then a command looked up on PATH or an absolute path that shows it is
#   installed; '#' starts a comment.
#
# Only shell builtins besides id, sudo and apt-get, so a test can run it with a PATH of fakes.
set -euo pipefail

here="${BASH_SOURCE[0]%/*}"
[ "$here" = "${BASH_SOURCE[0]}" ] && here=.
list="${1:-$here/system-packages.txt}"

# Prints the packages of $list whose probe is not found, one a line.
missing_packages() {
  local pkg probe line=0
  while read -r pkg probe _; do
    line=$((line + 1))
    case "$pkg" in "" | "#"*) continue ;; esac
    if [ -z "$probe" ] || [ "${probe:0:1}" = "#" ]; then
      echo "system-packages: $list line $line: '$pkg' names no command or path that shows it is installed" >&2
      return 2
    fi
    if [ "${probe:0:1}" = / ]; then
      [ -e "$probe" ] && continue
    else
      command -v "$probe" >/dev/null 2>&1 && continue
    fi
    echo "$pkg"
  done <"$list"
}

[ -r "$list" ] || { echo "system-packages: cannot read $list" >&2; exit 2; }
found="$(missing_packages)" || exit $?
[ -z "$found" ] && exit 0
mapfile -t missing <<<"$found"

install=(apt-get install -y --no-install-recommends "${missing[@]}")
stop() {
  echo "taskscope tests need Debian packages that are not installed: ${missing[*]}" >&2
  echo "$1; install them with:" >&2
  echo "  sudo apt-get update && sudo ${install[*]}" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 || stop "apt-get is not on PATH (not a Debian system?)"
if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  stop "not root, and sudo needs a password"
fi

echo "system-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq || stop "apt-get update failed"
"${as_root[@]}" "${install[@]}" -qq || stop "apt-get install failed"

still="$(missing_packages)" || exit $?
if [ -n "$still" ]; then
  echo "system-packages: installed, but still not found: ${still//$'\n'/ } (see $list for what is looked for)" >&2
  exit 1
fi
