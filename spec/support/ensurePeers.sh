#!/usr/bin/env bash
# Makes sure the real peers the tests talk to are installed: etcd (the drain bindings store),
# syslog-ng (a strict RFC 5424 receiver standing in for a drain), openssl for the TLS receiver's
# certificate, and Chromium (the web console's specs drive it headless with playwright-core).
# Run by `npm test` before anything else.
#
# All present: exits 0 silently. Missing, on a Debian/Ubuntu machine: installs the packages with
# apt-get (as root, or through `sudo -n` when that works without a password); otherwise stops at
# once, printing the command to run. The packages are Debian's etcd-server, etcd-client,
# syslog-ng-core (not rsyslog: it conflicts with syslog-ng-core), openssl and chromium.
set -euo pipefail

# command on PATH → the Debian package that provides it
declare -A package_of=([etcd]=etcd-server [etcdctl]=etcd-client [syslog-ng]=syslog-ng-core [openssl]=openssl [chromium]=chromium)

missing_packages() {
  local cmd packages=()
  for cmd in etcd etcdctl syslog-ng openssl chromium; do
    # syslog-ng lives in /usr/sbin, which is not on every user's PATH.
    command -v "$cmd" >/dev/null 2>&1 || [[ -x /usr/sbin/$cmd ]] || packages+=("${package_of[$cmd]}")
  done
  echo "${packages[@]}"
}

read -r -a packages <<<"$(missing_packages)"
((${#packages[@]} == 0)) && exit 0

hint="sudo apt-get update && sudo apt-get install -y ${packages[*]}"
echo "ensurePeers: the tests need real peers that are not installed: ${packages[*]}" >&2

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensurePeers: no apt-get here; install etcd (server and etcdctl), syslog-ng, openssl and chromium (at /usr/bin/chromium) with this system's package manager, then run the tests again." >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "ensurePeers: not root, and sudo needs a password. Run:" >&2
  echo "  $hint" >&2
  exit 1
fi

echo "ensurePeers: installing ${packages[*]} with apt-get" >&2
"${as_root[@]}" apt-get update -qq >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2

read -r -a still_missing <<<"$(missing_packages)"
if ((${#still_missing[@]} > 0)); then
  echo "ensurePeers: still missing after apt-get install: ${still_missing[*]}. Run:" >&2
  echo "  $hint" >&2
  exit 1
fi
echo "ensurePeers: installed $(etcd --version | head -1), syslog-ng $(PATH=$PATH:/usr/sbin syslog-ng --version | head -1 | cut -d' ' -f3-), $(chromium --version 2>/dev/null | head -1)" >&2
