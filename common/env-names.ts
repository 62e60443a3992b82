// Environment variable names shared by the node (gear env, user vars, hooks) and the cartridge checks, which
// must agree on them without the cartridge layer depending on the node.

/** Default prefix of the platform's variables (the node config's `envPrefix`). */
export const DEFAULT_ENV_PREFIX = "GEARTRAIN_";

/** User env var names (POSIX portable, upper case, ≤128 bytes). */
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** Names a user var may never take (OpenShift environment.rb); everything under the prefix is reserved too. */
export const RESERVED_ENV_NAMES: readonly string[] = [
  "HOME",
  "HOSTNAME",
  "IFS",
  "LD_LIBRARY_PATH",
  "LD_PRELOAD",
  "LOGNAME",
  "PATH",
  "SHELL",
  "TMP",
  "TMPDIR",
  "USER",
];
