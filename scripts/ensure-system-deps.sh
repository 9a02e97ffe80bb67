#!/usr/bin/env bash
# Install the Debian packages the project needs, if they are missing: redis-server (the job
# queue in the demo and the tests), redis-sentinel (the Sentinel test's sentinel), a C compiler (runc, the sandbox nodes' runtime, is built
# with cgo) and debootstrap (the image built without Docker, for the test that starts it in
# containerd). Go and Python come with the machine.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
command -v go >/dev/null 2>&1 || { echo "Go is required to build the sandbox (https://go.dev/dl/)." >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} from Debian's packages" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
