#!/bin/sh
# Set up this clone and run the service or the tests: `sh tools/dev.sh serve` or `sh tools/dev.sh test`.
#
#   serve  makes .venv, installs the package (numpy runtime, no torch; SEMEQ_EXTRAS=embeddings adds the
#          unknown-word fallback, which brings torch with sentence-transformers), runs `semeq serve`
#          (extra arguments go to `semeq serve`).
#   test   also installs the Debian packages the tests drive (lua5.4, lua-busted, liblo-tools, ardour)
#          and the `test` and `train` extras (torch for the runtime-vs-torch tests), then runs pytest
#          (extra arguments go to pytest).
#
# Works in a root shell without sudo and in a user shell: system packages are installed with apt-get
# directly as root, through sudo otherwise, and not at all when they are already there. Needs nothing
# beside the clone (tests make their own data). Python >= 3.10; on macOS and Windows see README.md.
# Without a local CPU build of torch, pip would fetch the multi-GB CUDA build: run with
# PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu to get the CPU build.
set -eu

cd "$(dirname "$0")/.."
what=${1:-}
[ $# -gt 0 ] && shift

PYTHON=${PYTHON:-python3}
VENV=${SEMEQ_VENV:-.venv}
TEST_DEBS="lua5.4 lua-busted liblo-tools ardour"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "tools/dev.sh: need root for: $*" >&2
    echo "  (no sudo here: ask an administrator to install: $TEST_DEBS)" >&2
    return 1
  fi
}

debian_packages() {  # install what is missing of "$@" (Debian/Ubuntu); tests download a music package with apt
  command -v apt-get >/dev/null 2>&1 || {
    echo "tools/dev.sh: no apt-get here; install by hand: Lua 5.4 with busted, liblo's oscsend/oscdump, Ardour" >&2
    return 0
  }
  missing=""
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
  elif ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then  # `apt-get download` needs the lists
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || echo "tools/dev.sh: apt lists not updated" >&2
  fi
}

venv() {  # make the virtual environment (Debian needs python3-venv for that) and install "$1" extras
  if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
      rm -rf "$VENV"
      debian_packages python3-venv
      "$PYTHON" -m venv "$VENV"
    fi
  fi
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".${1:+[$1]}"
}

case "$what" in
  serve)
    venv "${SEMEQ_EXTRAS:-}"
    exec "$VENV/bin/semeq" serve "$@"
    ;;
  test)
    debian_packages $TEST_DEBS
    venv test,train,embeddings
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    echo "usage: sh tools/dev.sh serve [semeq serve options] | sh tools/dev.sh test [pytest options]" >&2
    exit 2
    ;;
esac
