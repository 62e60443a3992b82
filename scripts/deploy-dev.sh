#!/usr/bin/env bash
# Deploys the `dev` stack (everything on this machine) with the project's own toolchain.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$GEARTRAIN_ROOT/scripts/setup.sh"
cd "$GEARTRAIN_ROOT"
source scripts/env.sh
pulumi stack select --create dev >&2
pulumi up --yes --stack dev "$@"
