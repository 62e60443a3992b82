// `geartrain node gear ssh-key add|remove|list`: the gear's ~/.ssh/authorized_keys (reference §1.3: owned
// root:<gear gid>, mode 0440, in the root-owned ~/.ssh, so the gear can read but never change it). The file
// is the only record of the keys; every change re-renders it whole from validated keys (ssh-keys-model.ts), each
// with the forced command `<bin/gear-shell> <node> [--config <file>]`, which runs `<node> <bin/geartrain> node
// gear-shell [--config <file>]` (bin/gear-shell is the entrypoint of the relay stage's SELinux domain: shell.ts).

import { promises as fs, readlinkSync } from "fs";
import * as path from "path";
import { ConflictError, ValidationError } from "../../common/errors";
import { readNodeFile, removeRootFile, writeRootFile } from "../host/gear-fs";
import { CONFIG_ENV } from "../config";
import type { NodeContext } from "../context";
import { withCreatedGear } from "../gear/ref";
import {
  fingerprint,
  keyInfo,
  MAX_KEYS,
  parseAuthorizedKeys,
  parsePublicKey,
  renderAuthorizedKeys,
  renderForcedCommand,
  stableReleasePath,
  validateKeyName,
  type KeyInfo,
  type SshKey,
} from "./ssh-keys-model";
import { deployGearOf, ensureDeployLayout, type DeployGear } from "./repo";
import { geartrainLauncher } from "./self";

export interface SshKeyOptions {
  /** node config file the forced command loads; default GEARTRAIN_NODE_CONFIG, else the default path */
  readonly configPath?: string | null;
}

export interface SshKeysResult {
  readonly uuid: string;
  readonly changed: boolean;
  readonly keys: KeyInfo[];
  /** lines in the file that were not ours (dropped when it was rewritten) */
  readonly dropped: number;
  readonly forcedCommand: string;
}

/** The target of the symlink `link`, or null when it is none. */
function readLink(link: string): string | null {
  try {
    return readlinkSync(link);
  } catch {
    return null;
  }
}

/**
 * The forced command of this installation, as argv (rendered and checked by ssh-keys-model.ts); from an
 * installed release, through its `current` link (stableReleasePath: the keys outlive this release).
 */
export function forcedCommandArgv(opts: SshKeyOptions = {}): string[] {
  const configPath = opts.configPath !== undefined ? opts.configPath : process.env[CONFIG_ENV] || null;
  return [
    stableReleasePath(gearShellEntry(geartrainLauncher()), readLink),
    stableReleasePath(process.execPath, readLink),
    ...(configPath ? ["--config", path.resolve(configPath)] : []),
  ];
}

/** bin/gear-shell beside the launcher bin/geartrain (it runs `<node> <launcher> node gear-shell …`). */
export function gearShellEntry(launcher: string): string {
  return path.join(path.dirname(launcher), "gear-shell");
}

/**
 * The forced command runs as the gear: bin/gear-shell (a script: read and run), its node binary, bin/geartrain
 * and the node config must be reachable by any user (every directory o+x, the file o+r; the binaries o+x).
 * Checked when a key is added, so a node installed under /root (or a 0600 config) fails here with the fix
 * instead of at the developer's push.
 */
export async function checkGearAccess(argv: readonly string[]): Promise<void> {
  const files: [string, number][] = [
    [argv[0], 0o005],
    [argv[1], 0o005],
    [path.join(path.dirname(argv[0]), "geartrain"), 0o004],
  ];
  const i = argv.indexOf("--config");
  if (i > 0 && argv[i + 1]) files.push([argv[i + 1], 0o004]);
  for (const [file, need] of files) {
    const real = await fs.realpath(file).catch(() => file);
    for (let d = path.dirname(real); ; d = path.dirname(d)) {
      const st = await fs.stat(d).catch(() => null);
      if (!st || (st.mode & 0o001) === 0) {
        throw new ValidationError(
          "forcedCommand",
          `gear users cannot reach ${file}: ${d} is not o+x (chmod o+x ${d})`,
        );
      }
      if (d === path.dirname(d)) break;
    }
    const st = await fs.stat(real).catch(() => null);
    if (!st || (st.mode & need) !== need) {
      throw new ValidationError(
        "forcedCommand",
        `gear users cannot ${need & 0o001 ? "run" : "read"} ${file} (chmod o+${need & 0o001 ? "rx" : "r"} ${real})`,
      );
    }
  }
}

function keysFile(g: DeployGear): string {
  return path.join(g.home, ".ssh", "authorized_keys");
}

async function readKeys(g: DeployGear): Promise<{ keys: SshKey[]; foreign: number }> {
  // ~/.ssh is root-owned (home layout): the gear cannot have put a link here
  const text = (await readNodeFile(keysFile(g), { owners: [0] })) ?? "";
  return parseAuthorizedKeys(text, g.uuid);
}

async function writeKeys(g: DeployGear, keys: readonly SshKey[], argv: readonly string[]): Promise<void> {
  const sshDir = path.join(g.home, ".ssh");
  const st = await fs.lstat(sshDir).catch(() => null);
  if (!st?.isDirectory() || st.uid !== 0) {
    throw new Error(
      `${sshDir} is not a root-owned directory; repair the gear: geartrain node gear update ${g.uuid}`,
    );
  }
  if (keys.length === 0) {
    await removeRootFile(keysFile(g));
    return;
  }
  await writeRootFile(keysFile(g), renderAuthorizedKeys(keys, g.uuid, argv), 0o440, 0, g.uid);
}

function withGearLock<T>(ctx: NodeContext, uuidIn: unknown, fn: (g: DeployGear) => Promise<T>): Promise<T> {
  return withCreatedGear(ctx, uuidIn, (g) => fn(deployGearOf(g)));
}

function result(
  g: DeployGear,
  keys: readonly SshKey[],
  changed: boolean,
  dropped: number,
  argv: readonly string[],
): SshKeysResult {
  return {
    uuid: g.uuid,
    changed,
    keys: [...keys].sort((a, b) => (a.name < b.name ? -1 : 1)).map(keyInfo),
    dropped,
    forcedCommand: renderForcedCommand(argv),
  };
}

/**
 * Authorize a public key (`<type> <base64> [comment]`) under `name` (default: the key's comment when it is a
 * valid name). Idempotent for the same name and key; a different key under a taken name, or the same key
 * under another name, is a conflict.
 */
export async function addSshKey(
  ctx: NodeContext,
  uuidIn: unknown,
  input: { key: unknown; name?: unknown },
  opts: SshKeyOptions = {},
): Promise<SshKeysResult> {
  const parsed = parsePublicKey(input.key);
  const name = validateKeyName(input.name ?? parsed.comment ?? undefined, "name");
  const argv = forcedCommandArgv(opts);
  renderForcedCommand(argv);
  await checkGearAccess(argv);
  return withGearLock(ctx, uuidIn, async (g) => {
    await ensureDeployLayout(g); // pushes need ~/app-deployments
    const { keys, foreign } = await readKeys(g);
    const same = keys.find((k) => k.name === name);
    if (same && same.blob !== parsed.blob) {
      throw new ConflictError(`gear ${g.uuid} already has a different key named ${name}; remove it first`);
    }
    const dup = keys.find((k) => k.blob === parsed.blob && k.name !== name);
    if (dup) throw new ConflictError(`this key is already authorized for gear ${g.uuid} as ${dup.name}`);
    if (!same && keys.length >= MAX_KEYS)
      throw new ValidationError("key", `a gear has at most ${MAX_KEYS} keys`);
    const next = same ? keys : [...keys, { type: parsed.type, blob: parsed.blob, name }];
    const before = (await readNodeFile(keysFile(g), { owners: [0] }).catch(() => null)) ?? "";
    const changed = before !== renderAuthorizedKeys(next, g.uuid, argv);
    if (changed) await writeKeys(g, next, argv);
    return result(g, next, changed, foreign, argv);
  });
}

/** Remove the key named `name` or with fingerprint `fp` ("SHA256:..."); removing a missing key succeeds. */
export async function removeSshKey(
  ctx: NodeContext,
  uuidIn: unknown,
  input: { name?: unknown; fingerprint?: unknown },
  opts: SshKeyOptions = {},
): Promise<SshKeysResult> {
  if ((input.name === undefined) === (input.fingerprint === undefined)) {
    throw new ValidationError("key", "give exactly one of name or fingerprint");
  }
  const name = input.name !== undefined ? validateKeyName(input.name, "name") : null;
  const fp = input.fingerprint;
  if (fp !== undefined && (typeof fp !== "string" || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fp))) {
    throw new ValidationError(
      "fingerprint",
      "must look like SHA256:<43 base64 characters> (ssh-keygen -lf key.pub)",
    );
  }
  const argv = forcedCommandArgv(opts);
  return withGearLock(ctx, uuidIn, async (g) => {
    const { keys, foreign } = await readKeys(g);
    const next = keys.filter((k) => (name !== null ? k.name !== name : fingerprint(k.blob) !== fp));
    const changed = next.length !== keys.length || foreign > 0;
    if (changed) await writeKeys(g, next, argv);
    return result(g, next, changed, foreign, argv);
  });
}

/** The gear's keys (name, type, fingerprint). */
export async function listSshKeys(
  ctx: NodeContext,
  uuidIn: unknown,
  opts: SshKeyOptions = {},
): Promise<SshKeysResult> {
  const argv = forcedCommandArgv(opts);
  return withGearLock(ctx, uuidIn, async (g) => {
    const { keys, foreign } = await readKeys(g);
    return result(g, keys, false, foreign, argv);
  });
}
