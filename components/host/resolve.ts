// Pure helpers of the Host component: validation, child names and the scripts it runs. No Pulumi import:
// argument errors are ValidationErrors naming the field, which the component rethrows as ResourceErrors.
import * as crypto from "crypto";
import { ValidationError } from "../../common/errors";
import { DEFAULTS, HostConnection, HostFacts, HostFileArgs } from "./args";

const HOST_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const ROLE = /^[a-z][a-z0-9-]{0,62}$/;
const ABSOLUTE_PATH = /^\/[A-Za-z0-9._/@+-]*$/;
const MODE = /^0?[0-7]{3}$/;
const OWNER = /^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/;

/** Every child of a component is `${parent}-${role}`, so names stay unique and stable in the tree. */
export function childName(parent: string, role: string): string {
  if (!ROLE.test(role)) throw new ValidationError("role", `child role '${role}' must match ${ROLE}`);
  return `${parent}-${role}`;
}

export function validateHostName(name: string): void {
  if (!HOST_NAME.test(name)) {
    throw new ValidationError(
      "name",
      `host name '${name}' must match ${HOST_NAME} (lowercase letters, digits and '-')`,
    );
  }
}

export function validateConnection(name: string, connection: HostConnection, hasPrivateKey: boolean): void {
  if (connection.type === "local") return;
  if (!hasPrivateKey) {
    throw new ValidationError(
      "privateKey",
      `host '${name}': an ssh connection needs a private key: set it with \`pulumi config set --secret geartrain:sshPrivateKey < key\``,
    );
  }
  const port = connection.port ?? DEFAULTS.sshPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ValidationError(
      "connection.port",
      `host '${name}': ssh port (connection.port) must be an integer in 1..65535, got ${port}`,
    );
  }
}

/** The wait gate's dial budget: a positive number of attempts, or -1 (only sshWaitTimeout bounds it). */
export function validateWaitAttempts(name: string, attempts: number): void {
  if (!Number.isInteger(attempts) || (attempts < 1 && attempts !== -1)) {
    throw new ValidationError(
      "sshWaitAttempts",
      `host '${name}': sshWaitAttempts must be a positive integer or -1, got ${attempts}`,
    );
  }
}

export function validateServiceDirectory(name: string, dir: string, field = "serviceDirectory"): void {
  if (!ABSOLUTE_PATH.test(dir) || dir.split("/").includes("..") || dir === "/") {
    throw new ValidationError(
      field,
      `host '${name}': ${field} '${dir}' must be an absolute path of [A-Za-z0-9._/@+-], not /, with no '..'`,
    );
  }
}

/** Makes the data directory when missing; prints `created` when it did (delete removes only that one). */
export const DATA_DIRECTORY_SCRIPT = [
  'if [ -d "$GT_DIR" ]; then echo existing; else install -d -m 0755 -- "$GT_DIR"; echo created; fi',
].join("\n");

/** Removes the data directory if this Host made it and nothing is left in it. */
export const REMOVE_DATA_DIRECTORY_SCRIPT = [
  'if [ "${PULUMI_COMMAND_STDOUT:-}" = created ] && [ -d "$GT_DIR" ]; then',
  '  rmdir -- "$GT_DIR" 2>/dev/null || echo "geartrain: $GT_DIR is not empty: kept" >&2',
  "fi",
].join("\n");

export function validateFile(file: HostFileArgs): void {
  if (!ABSOLUTE_PATH.test(file.path)) {
    throw new ValidationError(
      "path",
      `file path '${file.path}' must be absolute and contain only [A-Za-z0-9._/@+-]`,
    );
  }
  // `..` would let a path that looks like /etc/geartrain/... write anywhere
  if (file.path.split("/").includes("..")) {
    throw new ValidationError("path", `file path '${file.path}' must be absolute with no '..' segment`);
  }
  if (file.mode !== undefined && !MODE.test(file.mode))
    throw new ValidationError("mode", `file mode '${file.mode}' is not octal`);
  if (file.owner !== undefined && !OWNER.test(file.owner)) {
    throw new ValidationError("owner", `file owner '${file.owner}' must look like user or user:group`);
  }
}

/** Every script runs with strict error handling, whatever the caller wrote. */
export function strictScript(script: string): string {
  return `set -euo pipefail\n${script}`;
}

/**
 * Writes stdin to $GT_PATH atomically with $GT_MODE and $GT_OWNER. Values arrive as environment
 * variables, never pasted into the script, so any path/owner that passed validation is safe.
 */
export const WRITE_FILE_SCRIPT = [
  'dir=$(dirname -- "$GT_PATH")',
  'install -d -m 0755 -- "$dir"',
  'tmp=$(mktemp -- "$dir/.geartrain.XXXXXX")',
  "trap 'rm -f -- \"$tmp\"' EXIT",
  'cat >"$tmp"',
  'chmod -- "$GT_MODE" "$tmp"',
  'chown -- "$GT_OWNER" "$tmp"',
  'mv -f -- "$tmp" "$GT_PATH"',
  "trap - EXIT",
].join("\n");

export const REMOVE_FILE_SCRIPT = 'rm -f -- "$GT_PATH"';

export function fileEnvironment(file: HostFileArgs): Record<string, string> {
  return {
    GT_PATH: file.path,
    GT_MODE: file.mode ?? DEFAULTS.fileMode,
    GT_OWNER: file.owner ?? DEFAULTS.fileOwner,
  };
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}

/** Prints one JSON object with the facts `parseFacts` reads. Runs on the host, no inputs. */
export const FACTS_SCRIPT = [
  "kernel=$(uname -sr)",
  'os=$( . /etc/os-release 2>/dev/null && printf "%s %s" "${ID:-unknown}" "${VERSION_ID:-}" || echo unknown)',
  'if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then cgroup=v2; else cgroup=v1; fi',
  "if [ -r /sys/fs/selinux/enforce ]; then",
  '  if [ "$(cat /sys/fs/selinux/enforce)" = 1 ]; then selinux=enforcing; else selinux=permissive; fi',
  "else selinux=unavailable; fi",
  // sd_booted(3): systemd is PID 1 exactly when this directory exists
  "if [ -d /run/systemd/system ]; then systemd=true; else systemd=false; fi",
  'printf \'{"kernel":"%s","os":"%s","cgroup":"%s","selinux":"%s","systemd":%s}\\n\' "$kernel" "$os" "$cgroup" "$selinux" "$systemd"',
].join("\n");

export function parseFacts(stdout: string): HostFacts {
  const facts = JSON.parse(stdout.trim()) as HostFacts;
  if (facts.cgroup !== "v1" && facts.cgroup !== "v2") throw new Error(`unexpected cgroup facts: ${stdout}`);
  return { ...facts, systemd: facts.systemd === true };
}
