#!/bin/sh
# Builds clients/go/vendor/ from Debian's Go packages, so that clients/go builds and tests in module mode without
# the Go module proxy (`go build -mod=vendor ./...`). Needs: apt-get install golang-go golang-google-grpc-dev
# golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev (Debian 12: grpc-go 1.33.3, protobuf-go 1.28.1).
# The vendored code is Debian's (reviewed and signed by Debian); vendor/ is not committed.
# Usage: clients/go/vendor-debian.sh   (then: cd clients/go && go test -mod=vendor ./amc)
set -eu
cd "$(dirname "$0")"
gocode=${GOCODE:-/usr/share/gocode}
here=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf vendor
# The packages the client and its examples import, found in GOPATH mode against Debian's tree.
mkdir -p "$work/src/github.com/amc-dev/amc/clients"
ln -s "$here" "$work/src/github.com/amc-dev/amc/clients/go"
(cd "$work/src/github.com/amc-dev/amc/clients/go" &&
  GO111MODULE=off GOPATH="$work:$gocode" GOFLAGS='' go list -deps -test \
    -f '{{if not .Standard}}{{.ImportPath}} {{.Dir}}{{end}}' ./amc ./amcv1 ./examples/...) |
  grep -v '^github.com/amc-dev/' | grep -v '\.test ' | grep -v '\[' | sort -u > "$work/pkgs"
# Debian's package versions (the module versions they package).
version() {
  case "$1" in
    github.com/golang/protobuf) echo v1.5.2 ;;
    golang.org/x/net) echo v0.7.0 ;;
    golang.org/x/sys) echo v0.3.0 ;;
    golang.org/x/text) echo v0.7.0 ;;
    google.golang.org/genproto) echo v0.0.0-20200413115906-b5235f65be36 ;;
    google.golang.org/grpc) echo v1.33.3 ;;
    google.golang.org/protobuf) echo v1.28.1 ;;
    *) return 1 ;;
  esac
}
module_of() {
  for m in github.com/golang/protobuf golang.org/x/net golang.org/x/sys golang.org/x/text google.golang.org/genproto \
    google.golang.org/grpc google.golang.org/protobuf; do
    case "$1" in "$m" | "$m"/*) echo "$m"; return 0 ;; esac
  done
  echo "vendor-debian.sh: no module known for $1" >&2
  return 1
}
mkdir vendor
while read -r pkg dir; do
  mod=$(module_of "$pkg")
  mkdir -p "vendor/$pkg"
  find "$dir" -maxdepth 1 -type f \( -name '*.go' -o -name '*.s' -o -name '*.h' \) ! -name '*_test.go' \
    -exec cp {} "vendor/$pkg/" \;
  echo "$mod $pkg"
done < "$work/pkgs" | sort > "$work/bymod"
: > vendor/modules.txt
for mod in $(cut -d' ' -f1 "$work/bymod" | sort -u); do
  echo "# $mod $(version "$mod")" >> vendor/modules.txt
  # The module's own Go version (its go.mod in Debian's tree), which sets the language version of its packages.
  lang=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gocode/src/$mod/go.mod" 2>/dev/null | head -n 1)
  echo "## explicit; go ${lang:-1.17}" >> vendor/modules.txt
  grep "^$mod " "$work/bymod" | cut -d' ' -f2 >> vendor/modules.txt
done
for mod in $(cut -d' ' -f1 "$work/bymod" | sort -u); do
  license=$gocode/src/$mod/LICENSE
  [ -f "$license" ] && cp "$license" "vendor/$mod/LICENSE"
done
echo "vendor-debian.sh: vendored $(wc -l < "$work/pkgs") packages of $(cut -d' ' -f1 "$work/bymod" | sort -u | wc -l) modules into clients/go/vendor"
