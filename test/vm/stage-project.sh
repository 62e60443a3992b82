#!/usr/bin/env bash
# Stages the built project for the guest: dist/ (compiled here), bin/, package.json, cartridges/, the SELinux
# module sources and the npm packages the node layer loads (ajv, yaml, handlebars, with their dependencies).
#   stage-project.sh <repo> <out dir>
set -euo pipefail
REPO=$(cd "$1" && pwd)
OUT=$2
mkdir -p "$OUT"
(cd "$REPO" && nice -n 10 npx tsc -p tsconfig.json --outDir "$OUT/dist")
cp -a "$REPO"/{package.json,bin,cartridges} "$OUT/"
mkdir -p "$OUT/node/host/selinux" "$OUT/node_modules"
cp "$REPO"/node/host/selinux/geartrain.{te,fc,if} "$OUT/node/host/selinux/"
# the npm packages the node layer loads at run time, with their dependencies (resolved from package.json)
node - "$REPO" "$OUT/node_modules" <<'JS'
const fs = require("fs"), path = require("path");
const [repo, out] = process.argv.slice(2);
const todo = ["ajv", "ajv-formats", "yaml", "handlebars"], seen = new Set();
while (todo.length) {
  const m = todo.pop();
  if (seen.has(m)) continue;
  seen.add(m);
  const dir = path.join(repo, "node_modules", m);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
  fs.cpSync(fs.realpathSync(dir), path.join(out, m), { recursive: true, dereference: true });
  todo.push(...Object.keys(pkg.dependencies || {}));
}
JS
