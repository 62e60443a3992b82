// The DnsUpdater over Debian's nsupdate (bind9-dnsutils): TSIG-signed dynamic updates (RFC 2136) to the
// cloud domain's BIND server. nsupdate runs through common/exec.ts with a fixed argument array (`-v -t <s>`, TCP and
// an overall timeout); the whole script, key statement included, goes on its stdin, so neither the secret
// nor any record value is ever on a command line (argv is visible to every user in ps) or in a shell string.
// Errors never contain the secret.

import { runProgram, type ProgramResult } from "../../../common/exec";
import { OperationFailedError, UnavailableError } from "../../../common/errors";
import {
  classifyFailure,
  recordNames,
  recordSets,
  redact,
  removeScript,
  upsertScript,
  validateConfig,
  type DnsRecord,
  type DnsRecordName,
  type DnsUpdater,
  type NsupdateConfig,
} from "./model";

export const NSUPDATE = "/usr/bin/nsupdate";

export interface NsupdateOptions {
  /** the nsupdate program; default /usr/bin/nsupdate */
  readonly program?: string;
}

/** DnsUpdater over nsupdate; the config is validated once, here (errors name the `dns.*` field). */
export class NsupdateDnsUpdater implements DnsUpdater {
  private readonly config: NsupdateConfig;
  private readonly program: string;

  constructor(config: NsupdateConfig, opts: NsupdateOptions = {}) {
    this.config = validateConfig(config);
    this.program = opts.program ?? NSUPDATE;
  }

  /** The zone this updater writes to (lower case). */
  get zone(): string {
    return this.config.zone;
  }

  async upsert(records: readonly DnsRecord[]): Promise<void> {
    const sets = recordSets(records, this.config.zone);
    if (sets.length === 0) return;
    const what = sets.map((s) => `${s.name} ${s.type}`).join(", ");
    await this.send(upsertScript(this.config, sets), `upsert of ${what}`);
  }

  async remove(names: readonly DnsRecordName[]): Promise<void> {
    const list = recordNames(names, this.config.zone);
    if (list.length === 0) return;
    const what = list.map((n) => `${n.name} ${n.type}`).join(", ");
    await this.send(removeScript(this.config, list), `removal of ${what}`);
  }

  private async send(script: string, what: string): Promise<void> {
    const c = this.config;
    const timeoutMs = c.timeoutMs ?? 10_000;
    const where = `zone ${c.zone} at ${c.server}:${c.port}`;
    const seconds = Math.max(1, Math.floor(timeoutMs / 1000) - 1);
    let r: ProgramResult;
    try {
      r = await runProgram([this.program, "-v", "-t", String(seconds)], {
        input: script,
        timeoutMs,
        killSignal: "SIGKILL",
      });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === "ENOENT")
        throw new UnavailableError(
          `DNS ${what}: ${this.program} is missing. Fix: apt-get update && apt-get install -y bind9-dnsutils`,
        );
      throw new UnavailableError(
        `DNS ${what}: could not run ${this.program}: ${redact(String(err), c.key.secret)}`,
      );
    }
    if (r.code === 0) return;
    const said = redact(`${r.stderr}\n${r.stdout}`, c.key.secret) || "no output";
    if (r.signal !== null)
      throw new UnavailableError(`DNS ${what} in ${where}: nsupdate did not finish within ${timeoutMs} ms`);
    switch (classifyFailure(said)) {
      case "unreachable":
        throw new UnavailableError(`DNS ${what} in ${where}: the server did not answer (${said})`);
      case "refused":
        throw new OperationFailedError(
          `DNS ${what} in ${where} was refused (${said}): check that the server is authoritative for the zone ` +
            `and accepts updates signed with the TSIG key '${c.key.name}' (${c.key.algorithm})`,
        );
      default:
        throw new OperationFailedError(`DNS ${what} in ${where} failed: nsupdate exited ${r.code} (${said})`);
    }
  }
}
