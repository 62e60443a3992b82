// A private BIND 9 nameserver for tests: its own directory under os.tmpdir(), a free port on 127.0.0.1,
// authoritative for one zone that a generated TSIG key (hmac-sha256, 0600 file) may update. The files are
// rendered by components/dns/render.ts; scripts/services/bind.sh generates the key and starts and stops
// named. stop() stops it and removes the directory.

import { execFile } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { renderNamedConf, renderZone, zoneFilePath } from "../../../components/dns/render";
import { parseTsigKeyFile, type NsupdateConfig, type TsigKey } from "../../../services/broker/dns";
import { freePort } from "../private-nginx";
import { REPO_ROOT } from "../repo-root";

const execFileP = promisify(execFile);
export const BIND_SH = path.join(REPO_ROOT, "scripts/services/bind.sh");

export interface PrivateBind {
  readonly server: string;
  readonly port: number;
  readonly zone: string;
  readonly dir: string;
  readonly keyName: string;
  /** the tsig-keygen key file (0600) */
  readonly keyFile: string;
  /** the key read from keyFile */
  key(): TsigKey;
  /** an NsupdateDnsUpdater config for this server */
  nsupdateConfig(): NsupdateConfig;
  /** named's log (for failure messages) */
  log(): string;
  stop(): Promise<void>;
}

async function bindSh(args: string[]): Promise<string> {
  try {
    const r = await execFileP(BIND_SH, args, { timeout: 60_000 });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${BIND_SH} ${args[0]} failed: ${(e.stderr ?? "").trim() || e.message}`);
  }
}

export async function startBind(
  opts: { zone?: string; keyName?: string; port?: number } = {},
): Promise<PrivateBind> {
  const zone = opts.zone ?? "apps.geartrain.test";
  const keyName = opts.keyName ?? `${zone}-key`;
  const server = "127.0.0.1";
  await bindSh(["check"]);
  const dir = mkdtempSync(path.join(os.tmpdir(), "geartrain-bind-"));
  try {
    const port = opts.port ?? (await freePort(server));
    const keyFile = (await bindSh(["keygen", dir, keyName])).trim();
    writeFileSync(
      path.join(dir, "named.conf"),
      renderNamedConf({ dir, address: server, port, zone, keyName, keyFile }),
    );
    writeFileSync(zoneFilePath(dir, zone), renderZone({ zone, nameserverAddress: server }));
    await bindSh(["start", dir, server, String(port), zone]);
    const log = () => {
      try {
        return readFileSync(path.join(dir, "named.log"), "utf8");
      } catch {
        return "";
      }
    };
    const key = () => parseTsigKeyFile(readFileSync(keyFile, "utf8"));
    return {
      server,
      port,
      zone,
      dir,
      keyName,
      keyFile,
      key,
      nsupdateConfig: () => ({ server, port, zone, key: key() }),
      log,
      async stop() {
        await bindSh(["stop", dir]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await bindSh(["stop", dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** dig's stdout for `name type` asked of the private server (two tries of 2 s), `flags` first. */
async function digAt(b: PrivateBind, flags: string[], name: string, type: string): Promise<string> {
  const r = await execFileP("/usr/bin/dig", [
    ...flags,
    "+tries=2",
    "+time=2",
    "-p",
    String(b.port),
    `@${b.server}`,
    name,
    type,
  ]);
  return r.stdout;
}

/** `dig +short @server -p port name type` lines (empty when the name has no such record). */
export async function dig(
  b: PrivateBind,
  name: string,
  type: "A" | "CNAME" | "SOA" | "ANY" = "A",
): Promise<string[]> {
  const stdout = await digAt(b, ["+short"], name, type);
  return stdout.split("\n").filter((l) => l.length > 0);
}

/** The answer's status (NOERROR, NXDOMAIN, ...) of `dig @server -p port name type`. */
export async function digStatus(b: PrivateBind, name: string, type = "A"): Promise<string> {
  const stdout = await digAt(b, [], name, type);
  const m = /status: ([A-Z]+)/.exec(stdout);
  if (m === null) throw new Error(`dig gave no status:\n${stdout}`);
  return m[1];
}
