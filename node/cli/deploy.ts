// CLI of git push deploys (dispatched from node/cli/main.ts):
//   geartrain node gear ssh-key add <uuid> [--name N] [--key "<type> <base64> [comment]"]   (key on stdin if no --key)
//   geartrain node gear ssh-key remove <uuid> (--name N | --fingerprint SHA256:...)
//   geartrain node gear ssh-key list <uuid>
//   geartrain node gear deploy <uuid> [--ref <commit|branch>]
//   geartrain node gear deployments <uuid>
//   geartrain node gear deploy-config <uuid> [--keep N] [--branch B]
// and the entry points that run as the gear or from PAM (not for operators):
//   geartrain node gear-shell [--config F]        the SSH forced command
//   geartrain node gear-hook <hook> [--config F]  the repository hooks; deploy/list for the commands above
//   geartrain node gear-pam-attach [--config F]   sshd PAM session hook (cgroup v2)
// Operator commands print JSON on stdout; errors propagate to node/cli/main.ts, whose usage
// text lists these commands.

// Each command imports its module when it runs: gear-shell and gear-hook start on every git push.

import { parseArgs } from "util";
import { UsageError } from "../../common/errors";
import { out, readAllStdin } from "./io";

function readStdin(): Promise<string> {
  return readAllStdin(() => new UsageError("no --key given and stdin is a terminal"));
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`${what} takes exactly one <uuid>`);
  return positionals[0];
}

/** `geartrain node gear <ssh-key|deploy|deployments|deploy-config> ...` (as root). Returns the exit code. */
export async function runDeployGearCommand(sub: string, argv: string[]): Promise<number> {
  const { makeContext } = await import("../context");
  if (sub === "ssh-key") {
    const [action, ...rest] = argv;
    const { values, positionals } = parseArgs({
      args: rest,
      options: { name: { type: "string" }, key: { type: "string" }, fingerprint: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    const uuid = one(positionals, `ssh-key ${action ?? ""}`);
    const { addSshKey, listSshKeys, removeSshKey } = await import("../deploy/ssh-keys");
    const ctx = await makeContext();
    switch (action) {
      case "add": {
        if (values.fingerprint !== undefined) throw new UsageError("ssh-key add takes no --fingerprint");
        const key = values.key ?? (await readStdin()).trim();
        out(await addSshKey(ctx, uuid, { key, name: values.name }));
        return 0;
      }
      case "remove":
        if (values.key !== undefined) throw new UsageError("ssh-key remove takes --name or --fingerprint");
        out(await removeSshKey(ctx, uuid, { name: values.name, fingerprint: values.fingerprint }));
        return 0;
      case "list":
        out(await listSshKeys(ctx, uuid));
        return 0;
      default:
        throw new UsageError(`unknown ssh-key action ${JSON.stringify(action ?? "")}`);
    }
  }
  if (sub === "deploy") {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ref: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    const uuid = one(positionals, "deploy");
    const { deployGear } = await import("../deploy/operations");
    const ctx = await makeContext();
    out(await deployGear(ctx, uuid, { ref: values.ref }, { onProgress: (c) => process.stderr.write(c) }));
    return 0;
  }
  if (sub === "deployments") {
    const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
    const { gearDeployments } = await import("../deploy/operations");
    out(await gearDeployments(await makeContext(), one(positionals, "deployments")));
    return 0;
  }
  if (sub === "deploy-config") {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { keep: { type: "string" }, branch: { type: "string" } },
      allowPositionals: true,
      strict: true,
    });
    const uuid = one(positionals, "deploy-config");
    const { configureDeploys } = await import("../deploy/repo");
    out(await configureDeploys(await makeContext(), uuid, { keep: values.keep, branch: values.branch }));
    return 0;
  }
  throw new UsageError(`unknown gear command ${JSON.stringify(sub)}`);
}

/** gear-shell, gear-hook, gear-pam-attach: they handle their own errors (stdout may be a protocol stream). */
export async function runDeployInternal(cmd: string, argv: string[]): Promise<number> {
  switch (cmd) {
    case "gear-shell":
      return (await import("../deploy/shell")).runGearShell(argv);
    case "gear-hook":
      return (await import("../deploy/gear-hook")).runGearHook(argv);
    case "gear-pam-attach": {
      let config: string | undefined;
      try {
        ({
          values: { config },
        } = parseArgs({ args: argv, options: { config: { type: "string" } }, strict: true }));
      } catch (e) {
        process.stderr.write(`geartrain gear-pam-attach: ${(e as Error).message}\n`);
        return 1;
      }
      return (await import("../deploy/pam")).pamAttach(config ?? null);
    }
    default:
      process.stderr.write(`geartrain: unknown command ${JSON.stringify(cmd)}\n`);
      return 2;
  }
}
