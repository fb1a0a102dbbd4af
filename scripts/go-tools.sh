#!/usr/bin/env bash
# Builds the real components that meshx-node's live checks need, from Go modules, with the
# machine's Go: pinned, cached and idempotent (a second run only checks version stamps).
#
#   Consul 1.14.11   $MESHX_TOOLS_DIR/consul-1.14.11/consul (+ symlink consul-config-entries):
#                    a Consul with service-intentions config entries (1.9+), MPL-2.0.
#   Terraform CLI    the machine's `terraform` when on PATH, else OpenTofu 1.10.10 built into
#                    $MESHX_TOOLS_DIR/tofu-1.10.10/tofu (cdktf runs it via TERRAFORM_BINARY_NAME).
#   provider mirror  $MESHX_TOOLS_DIR/terraformrc: a Terraform CLI config whose only provider
#                    source is the filesystem mirror $MESHX_TOOLS_DIR/terraform-mirror, so
#                    `terraform init` never asks a registry. The Consul provider 2.22.1 cannot be
#                    built here (the Go module proxy refuses its module, see
#                    docs/real-components.md): a binary of it given in MESHX_PROVIDER_CONSUL_BIN
#                    is installed into the mirror; without one, the mirror gets meshx-node's
#                    STAND-IN provider (support/go/provider-standin: the five resources meshx-node
#                    synthesizes, same schema, on terraform-plugin-sdk/v2 and consul/api).
#
# Writes $MESHX_TOOLS_DIR/tools.env (KEY=VALUE lines other scripts can source); an empty value
# means the tool is not available. Runs unattended (CI=true, no stdin).
#
# Environment:
#   MESHX_TOOLS_DIR            output root (default /opt/meshx-node)
#   MESHX_USE_TOFU=1           build and use OpenTofu even when `terraform` is on PATH
#   MESHX_PROVIDER_CONSUL_BIN  a terraform-provider-consul v2.22.1 binary to put in the mirror
#                              (the real provider; it takes priority over the stand-in)
#   MESHX_SKIP_PROVIDER_STANDIN=1  do not build the stand-in provider (the mirror stays empty
#                              unless MESHX_PROVIDER_CONSUL_BIN is given)
#   MESHX_SKIP_CONSUL=1        do not build Consul 1.14
#   GO                         the go command (default: `go` on PATH, else /usr/local/go/bin/go)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${MESHX_TOOLS_DIR:-/opt/meshx-node}

CONSUL_VERSION=1.14.11
PROVIDER_CONSUL_VERSION=2.22.1
TOFU_MODULE=github.com/opentofu/opentofu
TOFU_VERSION=1.10.10

# Modules that must never be linked into a binary built here (not an open-source licence).
# The workplace's package list adds its own not-to-use rows when it is present.
DENY_MODULES=(
  github.com/hashicorp/consul/envoyextensions
  github.com/hashicorp/consul/troubleshoot
)
GO_PARTIAL_TSV=${MESHX_GO_PARTIAL_TSV:-/work/.library/env/packages/go-partial.tsv}

log() { printf '[go-tools] %s\n' "$*"; }
die() { printf '[go-tools] ERROR: %s\n' "$*" >&2; exit 1; }

GO=${GO:-$(command -v go || true)}
[ -n "$GO" ] || GO=/usr/local/go/bin/go
[ -x "$GO" ] || die "no go command (set GO=/path/to/go)"
# Never let the go command fetch another toolchain: the pinned modules build with this Go.
export GOTOOLCHAIN=local
export CGO_ENABLED=0
GO_VERSION=$("$GO" env GOVERSION)

mkdir -p "$TOOLS"
exec 9>"$TOOLS/.go-tools.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

# A stamp is the build recipe (versions, Go, wrapper sources, flags) hashed; a binary whose
# stamp matches is not rebuilt.
stamp_of() { printf '%s\n' "$@" | sha256sum | cut -d' ' -f1; }
stamp_ok() { [ -x "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]; }

# Fails when the binary links a module that is not to be used.
check_modules() {
  local bin=$1 deny mods
  deny=$(printf '%s\n' "${DENY_MODULES[@]}")
  if [ -r "$GO_PARTIAL_TSV" ]; then
    deny+=$'\n'$(awk -F'\t' '$2 == "not-to-use" { print $1 }' "$GO_PARTIAL_TSV")
  fi
  mods=$("$GO" version -m "$bin" | awk '$1 == "dep" || $1 == "=>" { print $2 }' | sort -u)
  local bad
  bad=$(grep -Fxf <(printf '%s\n' "$deny" | sed '/^$/d') <<<"$mods" || true)
  if [ -n "$bad" ]; then
    printf '[go-tools] ERROR: %s links not-to-use module(s): %s\n' "$bin" "$bad" >&2
    return 1
  fi
  log "  module check: $(wc -l <<<"$mods") modules linked, none marked not-to-use"
}

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }

# --- Consul 1.14 (wrapper module support/go/consul) -------------------------------------------
CONSUL_BIN=""
build_consul() {
  local src="$ROOT/support/go/consul" dir="$TOOLS/consul-$CONSUL_VERSION"
  local bin="$dir/consul"
  local ldflags="-s -w -X github.com/hashicorp/consul/version.GitCommit=v$CONSUL_VERSION"
  ldflags+=" -X github.com/hashicorp/consul/version.Version=$CONSUL_VERSION"
  ldflags+=" -X github.com/hashicorp/consul/version.VersionPrerelease="
  ldflags+=" -X github.com/hashicorp/consul/version.BuildDate=2023-10-31T18:07:09Z"
  local stamp
  stamp=$(stamp_of "consul $CONSUL_VERSION" "$GO_VERSION" "$ldflags" \
    "$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum)")
  if stamp_ok "$bin" "$stamp"; then
    log "consul $CONSUL_VERSION: cached"
  else
    log "consul $CONSUL_VERSION: building from Go modules (several minutes on a cold cache)"
    local t0 tmp
    t0=$(date +%s)
    mkdir -p "$dir"
    tmp="$bin.tmp.$$"
    (cd "$src" && GOFLAGS="-buildvcs=false -mod=readonly" \
      "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp" .) || { rm -f "$tmp"; die "consul build failed"; }
    check_modules "$tmp" || { rm -f "$tmp"; exit 1; }
    mv -f "$tmp" "$bin"
    printf '%s\n' "$stamp" >"$bin.stamp"
    log "consul $CONSUL_VERSION: built in $(elapsed "$t0")"
  fi
  [ "$("$bin" version | sed -n 1p)" = "Consul v$CONSUL_VERSION" ] || die "$bin does not report v$CONSUL_VERSION"
  ln -sfn "consul-$CONSUL_VERSION/consul" "$TOOLS/consul-config-entries"
  CONSUL_BIN="$TOOLS/consul-config-entries"
  log "consul $CONSUL_VERSION: $bin (also $CONSUL_BIN)"
}

# --- Terraform CLI config and the Consul provider mirror --------------------------------------
TF_RC="$TOOLS/terraformrc"
MIRROR="$TOOLS/terraform-mirror"
PROVIDER_BIN=""
PROVIDER_KIND=""
STANDIN_BIN=""
STANDIN_DIR="$TOOLS/provider-standin-$PROVIDER_CONSUL_VERSION"
# The stand-in Terraform Consul provider (wrapper-style module support/go/provider-standin),
# built into $STANDIN_DIR and copied into the mirror by setup_provider_mirror.
build_provider_standin() {
  local src="$ROOT/support/go/provider-standin"
  local bin="$STANDIN_DIR/terraform-provider-consul_v$PROVIDER_CONSUL_VERSION"
  local ldflags="-s -w" stamp
  stamp=$(stamp_of "provider-standin $PROVIDER_CONSUL_VERSION" "$GO_VERSION" "$ldflags" \
    "$(cd "$src" && cat go.mod go.sum $(ls ./*.go | sort) | sha256sum)")
  if stamp_ok "$bin" "$stamp"; then
    log "consul provider $PROVIDER_CONSUL_VERSION stand-in: cached"
  else
    log "consul provider $PROVIDER_CONSUL_VERSION: building the stand-in provider (the real" \
      "hashicorp/terraform-provider-consul module is refused by the Go module proxy)"
    local t0 tmp
    t0=$(date +%s)
    mkdir -p "$STANDIN_DIR"
    tmp="$bin.tmp.$$"
    (cd "$src" && GOFLAGS="-buildvcs=false -mod=readonly" \
      "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp" .) || { rm -f "$tmp"; die "stand-in provider build failed"; }
    check_modules "$tmp" || { rm -f "$tmp"; exit 1; }
    mv -f "$tmp" "$bin"
    printf '%s\n' "$stamp" >"$bin.stamp"
    log "consul provider $PROVIDER_CONSUL_VERSION stand-in: built in $(elapsed "$t0")"
  fi
  is_standin "$bin" || die "$bin does not identify as the stand-in"
  STANDIN_BIN=$bin
}

# The stand-in answers --version with a line naming itself; a real provider binary does not.
is_standin() {
  local out
  out=$("$1" --version 2>/dev/null </dev/null || true)
  [[ $out == *"meshx-node stand-in"* ]]
}

setup_provider_mirror() {
  local pdir="$MIRROR/registry.terraform.io/hashicorp/consul/$PROVIDER_CONSUL_VERSION/linux_amd64"
  local pbin="$pdir/terraform-provider-consul_v$PROVIDER_CONSUL_VERSION"
  local src="" kind=""
  mkdir -p "$MIRROR"
  if [ -n "${MESHX_PROVIDER_CONSUL_BIN:-}" ]; then
    [ -x "$MESHX_PROVIDER_CONSUL_BIN" ] || die "MESHX_PROVIDER_CONSUL_BIN is not an executable"
    src=$MESHX_PROVIDER_CONSUL_BIN kind=real
  elif [ -x "$pbin" ] && ! is_standin "$pbin"; then
    # A real provider installed by an earlier run (or by hand) keeps priority over the stand-in.
    kind=real
    log "terraform provider hashicorp/consul $PROVIDER_CONSUL_VERSION: keeping the real provider" \
      "already in the mirror (delete $pbin to use the stand-in)"
  elif [ "${MESHX_SKIP_PROVIDER_STANDIN:-}" != 1 ]; then
    build_provider_standin
    src=$STANDIN_BIN kind=standin
  elif [ -x "$pbin" ]; then
    # Skipped: a stand-in left in the mirror by an earlier run is taken out.
    rm -f "$pbin"
  fi
  if [ -n "$src" ]; then
    mkdir -p "$pdir"
    cmp -s "$src" "$pbin" 2>/dev/null || install -m 0755 "$src" "$pbin"
  fi
  PROVIDER_KIND=$kind
  if [ -x "$pbin" ]; then
    # OpenTofu resolves the short source "consul" (as cdktf writes it) on its own registry host:
    # the same binary serves both names.
    local tdir="$MIRROR/registry.opentofu.org/hashicorp/consul/$PROVIDER_CONSUL_VERSION/linux_amd64"
    mkdir -p "$tdir"
    ln -sfn "$pbin" "$tdir/terraform-provider-consul_v$PROVIDER_CONSUL_VERSION"
    PROVIDER_BIN=$pbin
    if [ "$PROVIDER_KIND" = standin ]; then
      log "terraform provider hashicorp/consul $PROVIDER_CONSUL_VERSION: $pbin is the stand-in provider" \
        "(the real hashicorp/terraform-provider-consul module is refused by the Go module proxy;" \
        "set MESHX_PROVIDER_CONSUL_BIN to a real provider binary to replace it)"
    else
      log "terraform provider hashicorp/consul $PROVIDER_CONSUL_VERSION: $pbin (real provider)"
    fi
  else
    log "terraform provider hashicorp/consul $PROVIDER_CONSUL_VERSION: not available (its Go module" \
      "is refused by the Go module proxy; see docs/real-components.md), and the stand-in is" \
      "skipped (MESHX_SKIP_PROVIDER_STANDIN=1). terraform init/apply with the mirror config will" \
      "stop at 'provider not found'."
  fi
  local rc
  rc=$(cat <<EOF
# Written by meshx-node scripts/go-tools.sh: providers come only from the local mirror.
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/consul", "registry.opentofu.org/hashicorp/consul"]
  }
}
disable_checkpoint = true
EOF
)
  [ -f "$TF_RC" ] && [ "$(cat "$TF_RC")" = "$rc" ] || printf '%s\n' "$rc" >"$TF_RC"
  log "terraform CLI config: $TF_RC (TF_CLI_CONFIG_FILE)"
}

# --- Terraform CLI: the machine's terraform, else OpenTofu built from its module --------------
TERRAFORM_BIN=""
build_tofu() {
  local dir="$TOOLS/tofu-$TOFU_VERSION" bin
  bin="$dir/tofu"
  local ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no"
  local stamp
  stamp=$(stamp_of "tofu $TOFU_VERSION" "$GO_VERSION" "$ldflags")
  if stamp_ok "$bin" "$stamp"; then
    log "opentofu $TOFU_VERSION: cached"
  else
    log "opentofu $TOFU_VERSION: building from Go modules (its dependency graph is large)"
    local t0 mdir tmp
    t0=$(date +%s)
    mdir=$("$GO" mod download -json "$TOFU_MODULE@v$TOFU_VERSION" \
      | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
    [ -n "$mdir" ] && [ -d "$mdir" ] || die "go mod download $TOFU_MODULE@v$TOFU_VERSION failed"
    mkdir -p "$dir"
    tmp="$bin.tmp.$$"
    # The downloaded module is the main module here, so its own replace directives apply.
    (cd "$mdir" && GOFLAGS="-buildvcs=false -mod=mod" \
      "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp" ./cmd/tofu) || { rm -f "$tmp"; die "opentofu build failed"; }
    check_modules "$tmp" || { rm -f "$tmp"; exit 1; }
    mv -f "$tmp" "$bin"
    printf '%s\n' "$stamp" >"$bin.stamp"
    log "opentofu $TOFU_VERSION: built in $(elapsed "$t0")"
  fi
  [ "$("$bin" version | sed -n 1p)" = "OpenTofu v$TOFU_VERSION" ] || die "$bin does not report v$TOFU_VERSION"
  TERRAFORM_BIN=$bin
}

find_terraform() {
  if [ "${MESHX_USE_TOFU:-}" != 1 ] && command -v terraform >/dev/null 2>&1; then
    TERRAFORM_BIN=$(command -v terraform)
    log "terraform: $TERRAFORM_BIN ($("$TERRAFORM_BIN" version 2>/dev/null | sed -n 1p))"
  else
    build_tofu
    log "terraform CLI: $TERRAFORM_BIN (export TERRAFORM_BINARY_NAME=$TERRAFORM_BIN for cdktf)"
  fi
}

t_start=$(date +%s)
log "tools dir: $TOOLS ($GO_VERSION)"
if [ "${MESHX_SKIP_CONSUL:-}" = 1 ]; then log "consul $CONSUL_VERSION: skipped (MESHX_SKIP_CONSUL=1)"; else build_consul; fi
setup_provider_mirror
find_terraform

# Only point at the CLI config when the mirror can satisfy the provider.
tf_config=""
[ -n "$PROVIDER_BIN" ] && tf_config=$TF_RC
cat >"$TOOLS/tools.env.tmp" <<EOF
# Written by meshx-node scripts/go-tools.sh; an empty value means not available.
MESHX_TERRAFORM_BIN=$TERRAFORM_BIN
TERRAFORM_BINARY_NAME=$TERRAFORM_BIN
MESHX_TERRAFORM_CLI_CONFIG=$tf_config
MESHX_TERRAFORM_MIRROR=$MIRROR
MESHX_TERRAFORM_PROVIDER_CONSUL=$PROVIDER_BIN
MESHX_TERRAFORM_PROVIDER_KIND=$PROVIDER_KIND
MESHX_CONSUL_CONFIG_ENTRIES_BIN=$CONSUL_BIN
MESHX_CONSUL_CONFIG_ENTRIES_VERSION=$([ -n "$CONSUL_BIN" ] && echo "$CONSUL_VERSION")
EOF
mv -f "$TOOLS/tools.env.tmp" "$TOOLS/tools.env"
log "summary ($TOOLS/tools.env, done in $(elapsed "$t_start")):"
sed -n 's/^\(MESHX_[A-Z_]*=.*\)/[go-tools]   \1/p' "$TOOLS/tools.env"
