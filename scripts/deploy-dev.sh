#!/usr/bin/env bash
# Deploys the `dev` stack (everything on this machine) with the project's own toolchain. Writes nothing
# into the checkout: the stack's config file (salt, settings) is the user's, see scripts/env.sh.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$GEARTRAIN_ROOT/scripts/setup.sh"
cd "$GEARTRAIN_ROOT"
source scripts/env.sh
pulumi stack select --create dev >&2
pulumi up --yes --stack dev "$@"
