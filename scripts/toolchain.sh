#!/usr/bin/env bash
# Builds the Pulumi CLI from Go modules (cached outside git, keyed by version and go.sum) and
# installs the project's plugins into the project-local PULUMI_HOME. Never downloads a plugin.
# Idempotent: with everything built it finishes in seconds. Prints the toolchain bin directory.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || die "Go is missing: install Go >= 1.25.11 at /usr/local/go (this machine kind ships it)"
command -v node >/dev/null || die "Node.js is missing: install Node.js 20"
[ -d "$GEARTRAIN_ROOT/node_modules/@pulumi/pulumi" ] || die "node_modules is missing: run \`npm ci\` in $GEARTRAIN_ROOT"

wrapper="$GEARTRAIN_ROOT/scripts/toolchain/pulumi"
key="pulumi-v$PULUMI_VERSION-$(cat "$wrapper/go.mod" "$wrapper/go.sum" <(go env GOVERSION) | sha256sum | cut -c1-12)"
bin="$(geartrain_cache_dir)/toolchain/$key/bin"

build_cli() {
  local staging
  staging=$(mktemp -d "$(geartrain_cache_dir)/toolchain/.build-XXXXXX")
  log "building the Pulumi CLI v$PULUMI_VERSION from Go modules (cold: about 10 min on 2 cores)"
  (cd "$wrapper" && with_progress "go mod download" go mod download)
  (
    cd "$wrapper"
    CGO_ENABLED=0 with_progress "go build pulumi" go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$staging/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
  # The dynamic-provider launcher must sit next to the real `pulumi` binary; the SDK ships it.
  install -m 0755 "$GEARTRAIN_ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$staging/"
  mkdir -p "$(dirname "$bin")"
  chmod 0755 "$staging"
  rm -rf "$bin"
  mv "$staging" "$bin"
}

mkdir -p "$(geartrain_cache_dir)/toolchain"
if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-resource-pulumi-nodejs" ]; then
  log "Pulumi CLI v$PULUMI_VERSION: cached at $bin"
else
  build_cli
fi
"$bin/pulumi" version >/dev/null || die "the cached Pulumi CLI at $bin does not run; delete $bin and run again"

# The engine runs the `nodejs` language host it finds next to the real `pulumi` binary for every
# project (Pulumi.yaml needs no `plugins.languages`; PULUMI_IGNORE_AMBIENT_PLUGINS does not apply to
# this lookup). That bin folder is shared by every checkout, so what sits there only hands over to
# the host installed in the PULUMI_HOME of the command's environment (below).
install_language_shim() {
  local shim="$bin/pulumi-language-nodejs" staging
  staging=$(mktemp "$bin/.pulumi-language-nodejs-XXXXXX")
  cat >"$staging" <<SHIM
#!/bin/sh
# Installed by Geartrain's scripts/toolchain.sh (docs/toolchain.md): the engine starts the nodejs
# language host found next to the pulumi binary; this runs Geartrain's host from PULUMI_HOME.
host="\${PULUMI_HOME:-\$HOME/.pulumi}/plugins/language-nodejs-v$PULUMI_VERSION/pulumi-language-nodejs"
if [ ! -x "\$host" ]; then
  echo "pulumi-language-nodejs: \$host is missing: Geartrain's Node.js language host is installed there by scripts/toolchain.sh. Use the PULUMI_HOME of a Geartrain checkout (source scripts/env.sh there) or run 'npm run setup' in it." >&2
  exit 1
fi
exec "\$host" "\$@"
SHIM
  chmod 0755 "$staging"
  # Other checkouts run this too: replace the file in one rename, and only when it differs.
  if cmp -s "$staging" "$shim"; then rm -f "$staging"; else mv -f "$staging" "$shim"; fi
}
install_language_shim

# Plugins go into a project-local PULUMI_HOME, so nothing outside the checkout is needed at run time.
export PULUMI_HOME="$GEARTRAIN_ROOT/.pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
[ -f "$GEARTRAIN_ROOT/dist/plugins/command/main.js" ] || die "dist/ is not built: run \`npm run build\`"

# Our `command` provider is JavaScript; the installed launcher points at this checkout's dist/.
install_command_plugin() {
  local staging launcher
  staging=$(mktemp -d)
  launcher="$staging/pulumi-resource-command"
  printf '#!/bin/sh\n# Installed by scripts/toolchain.sh: Geartrain'"'"'s command provider (docs/command-provider.md).\nexec node %q "$@"\n' \
    "$GEARTRAIN_ROOT/dist/plugins/command/main.js" >"$launcher"
  chmod 0755 "$launcher"
  local installed="$PULUMI_HOME/plugins/resource-command-v$COMMAND_PLUGIN_VERSION/pulumi-resource-command"
  if ! cmp -s "$launcher" "$installed"; then
    log "installing plugin resource command v$COMMAND_PLUGIN_VERSION into $PULUMI_HOME"
    "$bin/pulumi" plugin install resource command "v$COMMAND_PLUGIN_VERSION" --file "$launcher" --reinstall >&2
  fi
  rm -rf "$staging"
}
install_command_plugin

# Our Node.js language host, where the shim next to `pulumi` looks for it: the plugin cache layout,
# written directly because `pulumi plugin install` refuses bundled plugin names.
install_language_host() {
  local dir="$PULUMI_HOME/plugins/language-nodejs-v$PULUMI_VERSION" staging
  [ -f "$GEARTRAIN_ROOT/dist/plugins/language-nodejs/main.js" ] || die "dist/ is not built: run \`npm run build\`"
  mkdir -p "$dir"
  staging=$(mktemp "$dir/.pulumi-language-nodejs-XXXXXX")
  printf '#!/bin/sh\n# Installed by scripts/toolchain.sh: Geartrain'"'"'s Node.js language host (docs/toolchain.md).\nexec node %q "$@"\n' \
    "$GEARTRAIN_ROOT/dist/plugins/language-nodejs/main.js" >"$staging"
  chmod 0755 "$staging"
  if cmp -s "$staging" "$dir/pulumi-language-nodejs"; then
    rm -f "$staging"
  else
    log "installing Geartrain's language host nodejs v$PULUMI_VERSION into $PULUMI_HOME"
    mv -f "$staging" "$dir/pulumi-language-nodejs"
  fi
}
install_language_host

# A stable per-checkout path for the CLI (scripts/env.sh puts it on PATH). The engine resolves the
# symlink, so the bundled pulumi-resource-pulumi-nodejs next to the real binary is still found.
mkdir -p "$GEARTRAIN_ROOT/.geartrain/bin"
ln -sfn "$bin/pulumi" "$GEARTRAIN_ROOT/.geartrain/bin/pulumi"
printf '%s\n' "$bin"
