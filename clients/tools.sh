# shellcheck shell=bash
# Shared by scripts/regen-clients and scripts/test-clients: installs (once, idempotently) the tools that generate and
# test the clients. Everything comes from PyPI, npm or Debian's packages.
#
#   AMC_TOOLS_DIR   where the Python venv lives (default ~/.cache/amc-tools)
#
# Each function returns non-zero on failure (they are called in `|| ...` contexts, where set -e does not apply).
# Functions: ensure_python_tools, ensure_node_tools, ensure_debian_packages PKG..., ensure_go_codegen, ensure_go_build.
# After ensure_python_tools: $AMC_PY (venv python), $AMC_GRPCURL. After ensure_node_tools: $AMC_NODE_BIN (buf,
# protoc-gen-es, esbuild, tsc, tsx).

: "${AMC_ROOT:?AMC_ROOT must be set to the repository root}"
AMC_TOOLS_DIR=${AMC_TOOLS_DIR:-$HOME/.cache/amc-tools}
AMC_VENV=$AMC_TOOLS_DIR/venv
AMC_PY=$AMC_VENV/bin/python
# shellcheck disable=SC2034 # used by scripts/test-clients
AMC_GRPCURL=$AMC_VENV/bin/grpcurl
AMC_NODE_BIN=$AMC_ROOT/clients/typescript/node_modules/.bin

_amc_log() { printf '    [tools] %s\n' "$*" >&2; }

_amc_sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

ensure_python_tools() {
  local reqs=$AMC_ROOT/clients/python/requirements-tools.txt stamp=$AMC_VENV/.amc-tools-stamp want
  want=$(_amc_sha "$reqs")
  if [ -x "$AMC_PY" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  _amc_log "creating Python venv $AMC_VENV ($(python3 --version))"
  mkdir -p "$AMC_TOOLS_DIR"
  if [ ! -x "$AMC_PY" ] && ! python3 -m venv "$AMC_VENV" > /dev/null 2>&1; then
    # Debian's own python3 needs python3-venv for ensurepip.
    rm -rf "$AMC_VENV"
    ensure_debian_packages python3-venv || return 1
    python3 -m venv "$AMC_VENV" || return 1
  fi
  "$AMC_PY" -m pip install --quiet --disable-pip-version-check -r "$reqs" || return 1
  echo "$want" > "$stamp"
}

ensure_node_tools() {
  local dir=$AMC_ROOT/clients/typescript stamp want
  stamp=$dir/node_modules/.amc-lock-stamp
  want=$(_amc_sha "$dir/package.json" "$dir/package-lock.json")
  if [ -x "$AMC_NODE_BIN/buf" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  _amc_log "npm ci in clients/typescript ($(node --version))"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2 || return 1
  echo "$want" > "$stamp"
}

# ensure_debian_packages PKG...: apt-get installs the packages that are not installed yet (root only).
ensure_debian_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    return 1
  fi
  _amc_log "apt-get install ${missing[*]}"
  if [ -z "${AMC_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq > /dev/null || return 1
    export AMC_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null ||
    return 1
}

# The Go code generators (Debian 12: protoc-gen-go v1.28.1, protoc-gen-go-grpc 1.0 from grpc-go 1.33.3).
ensure_go_codegen() { ensure_debian_packages protoc-gen-go protoc-gen-go-grpc; }

# Go 1.19 and the grpc/protobuf Go sources (GOPATH mode under /usr/share/gocode) to build clients/go offline.
# golang-google-grpc-dev (grpc-go 1.33.3) accepts github.com/golang/protobuf 1.3 or 1.5; only 1.5 (APIv1 on top of
# google.golang.org/protobuf) can marshal the APIv2 messages protoc-gen-go 1.28 generates: with 1.3 every call panics
# with "protobuf tag not enough fields". So ask for 1.5 by name.
ensure_go_build() {
  ensure_debian_packages golang-go golang-google-grpc-dev golang-google-protobuf-dev \
    golang-github-golang-protobuf-1-5-dev
}
