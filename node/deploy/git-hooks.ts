// The bare repository's git hooks (constant text, part of the home layout in node/gear/home.ts: root-owned,
// 0755, so the gear cannot edit them). They run as the gear under git-receive-pack and hand over to
// `geartrain node gear-hook`, found through variables the SSH forced command (gear-shell) sets. A push
// that does not come through the forced command (e.g. the gear pushing to its own path) is refused by
// pre-receive: it could not be deployed consistently.

function hook(name: "pre-receive" | "post-receive", missing: string): string {
  return `#!/bin/sh
# Geartrain git push deploys: managed by the node (root-owned); runs as the gear.
# See docs/node-operations.md, "git push deploys".
if [ -z "\${GEARTRAIN_GEAR_HOOK_NODE:-}" ] || [ -z "\${GEARTRAIN_GEAR_HOOK_SCRIPT:-}" ]; then
${missing}
fi
exec "$GEARTRAIN_GEAR_HOOK_NODE" "$GEARTRAIN_GEAR_HOOK_SCRIPT" node gear-hook ${name}
`;
}

export const PRE_RECEIVE_HOOK = hook(
  "pre-receive",
  `  echo "geartrain: push through the gear's SSH access to deploy (ssh://<gear uuid>@<host>/~/git/<app>.git/)" >&2
  exit 1`,
);

export const POST_RECEIVE_HOOK = hook("post-receive", "  exit 0");

/** Hook files of the repository at `gitDir` (relative to the home), for the home layout. */
export function repoHookFiles(gitDir: string): { rel: string; content: string }[] {
  return [
    { rel: `${gitDir}/hooks/post-receive`, content: POST_RECEIVE_HOOK },
    { rel: `${gitDir}/hooks/pre-receive`, content: PRE_RECEIVE_HOOK },
  ];
}
