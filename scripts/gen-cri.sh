#!/usr/bin/env bash
# Generate the Python CRI v1 stubs the node agent speaks to the container runtime with.
#
# The API's one proto file comes from the Go module k8s.io/cri-api (fetched into the Go module
# cache through the module proxy, checksummed by go.sum's database), and grpc_tools.protoc
# compiles it into nodeagent/cri/v1/ (gitignored: generated code is never committed).
# Idempotent: it does nothing when the stubs are newer than this script.
#   scripts/gen-cri.sh [PYTHON]      (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."

CRI_API_VERSION=v0.37.2
# Absolute (the module download below runs in /tmp), without resolving the venv's symlink.
python=$(realpath -s "${1:-.venv/bin/python}")
out=nodeagent/cri/v1
stamp="$out/.generated-$CRI_API_VERSION"

if [ -f "$stamp" ] && [ "$stamp" -nt "$0" ] && [ -f "$out/api_pb2.py" ]; then
  exit 0
fi
command -v go >/dev/null 2>&1 || { echo "gen-cri: Go is needed to fetch k8s.io/cri-api" >&2; exit 1; }

# `go mod download` outside a module needs no go.mod; -json names the extracted directory.
module_dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "k8s.io/cri-api@$CRI_API_VERSION" \
  | "$python" -c 'import json, sys; info = json.load(sys.stdin); print(info.get("Dir") or ""); sys.exit(1 if info.get("Error") else 0)')
proto_dir="$module_dir/pkg/apis/runtime/v1"
[ -f "$proto_dir/api.proto" ] || { echo "gen-cri: no api.proto in $proto_dir" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Compile from a copy laid out as the package path, so the generated modules import each
# other as nodeagent.cri.v1.api_pb2 rather than as a top-level api_pb2.
mkdir -p "$work/nodeagent/cri/v1"
cp "$proto_dir/api.proto" "$work/nodeagent/cri/v1/api.proto"
"$python" -m grpc_tools.protoc -I "$work" \
  --python_out="$work" --pyi_out="$work" --grpc_python_out="$work" \
  "$work/nodeagent/cri/v1/api.proto"

mkdir -p "$out"
cp "$work/nodeagent/cri/v1/api_pb2.py" "$work/nodeagent/cri/v1/api_pb2.pyi" \
  "$work/nodeagent/cri/v1/api_pb2_grpc.py" "$out/"
: >"$out/__init__.py"
: >nodeagent/cri/__init__.py
rm -f "$out"/.generated-*
touch "$stamp"
echo "gen-cri: CRI $CRI_API_VERSION stubs in $out" >&2
