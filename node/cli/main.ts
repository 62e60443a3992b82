// `geartrain node …`: operator CLI over the node operations (like OpenShift's oo-* node tools).
// Output is JSON on stdout (except mcs-label without --json, which prints the label like oo-get-mcs-level).
// Only what every command needs is imported at the top; each command loads its own modules when it runs
// (`await import`), so a start (e.g. the SSH forced command on every git push) loads only what it uses.

import { parseArgs } from "util";
import type { CommandGroup } from "../../common/cli";
import { failFor } from "../../common/cli-fail";
import { EXIT, UsageError, ValidationError } from "../../common/errors";
import { out, readAllStdin } from "./io";

export const USAGE = `geartrain node: node operations (run as root on a node host)

Usage:
  geartrain node gear create  [--uuid U --uid N --app A --namespace NS [--app-uuid ID] [--profile P]
                               [--env NAME=VALUE]...]
  geartrain node gear inspect <uuid>
  geartrain node gear update  <uuid> [--profile P] [--env NAME=VALUE]...
  geartrain node gear destroy <uuid>
  geartrain node gear list
  geartrain node gear ssh-key add <uuid> [--name N] [--key "<type> <base64> [comment]"]  (else key on stdin)
  geartrain node gear ssh-key remove <uuid> (--name N | --fingerprint SHA256:...)
  geartrain node gear ssh-key list <uuid>
  geartrain node gear deploy <uuid> [--ref <commit|branch>]   (git push deploys: redeploy from the repo)
  geartrain node gear deployments <uuid>                     (active deployment id and commit, all kept)
  geartrain node gear deploy-config <uuid> [--keep N] [--branch B]
  geartrain node check
  geartrain node frontend set|remove|show|list|sync   (HTTP routes of gears; set reads JSON on stdin; see --help)
  geartrain node cartridge ...          (repo add|list, install, control, status, remove; see --help)
  geartrain node quickstart guestbook --uuid U --uid N --app A --namespace NS [--profile P]  (see --help)
  geartrain node mcs-label <uid> [--json]
  geartrain node selinux status|install     (the gear policy module: installed version; build + semodule -i)
  geartrain node addresses <uid> [--json]

create and update read a JSON object on stdin when given no field flags, e.g.
  {"uuid":"<32 hex>","uid":1000,"app":"myapp","namespace":"dev","appUuid":"<32 hex>","profile":"small",
   "env":{"FOO":"bar"}}
update with only a uuid repairs drift. Output is JSON on stdout; an error is
  {"error":{"kind":"invalid","message":"invalid uid: ...","field":"uid"}} on stdout and one line on stderr
(a usage error: the message and this text on stderr only).
--app-uuid (appUuid) is the application's id (32 hex, the broker's): gears connect (publish/subscribe) only
with gears of the same id, and without one a gear is an application alone. A name (app, namespace) taken
here by another application is a conflict.

Config: /etc/geartrain/node.json, or the file named by GEARTRAIN_NODE_CONFIG.

Exit codes (and error kinds), the same for every geartrain node command:
  0  success (inspect: no drift; check: all checks pass)
  1  operation failed: a host command (command_failed), hook (hook_failed), deploy (deploy_failed) or
     frontend reload (frontend_failed) failed; a prerequisite is missing (unavailable); other errors (error)
  2  usage error (unknown command or flag)
  3  invalid input (invalid: the message and field name it; invalid_cartridge); nothing was changed
  4  gear or cartridge not found (not_found)
  5  conflict (uuid/uid taken by something else, different spec, being destroyed, the app name another
     application's)
  6  drift found (inspect) or node check failed (check): a result, not an error`;

function readStdin(): Promise<string> {
  return readAllStdin(
    () => new UsageError("no field flags given and stdin is a terminal: pass flags or JSON on stdin"),
  );
}

function parseEnvFlags(list: string[] | undefined): Record<string, string> | undefined {
  if (!list) return undefined;
  const env: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new ValidationError("env", `expected NAME=VALUE, got ${JSON.stringify(kv)}`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

const GEAR_FLAGS = {
  uuid: { type: "string" },
  uid: { type: "string" },
  app: { type: "string" },
  namespace: { type: "string" },
  "app-uuid": { type: "string" },
  profile: { type: "string" },
  env: { type: "string", multiple: true },
} as const;

async function requestFrom(
  values: Record<string, unknown>,
  positionalUuid?: string,
): Promise<Record<string, unknown>> {
  const fields = ["uuid", "uid", "app", "namespace", "app-uuid", "profile", "env"].filter(
    (k) => values[k] !== undefined,
  );
  if (fields.length === 0 && !positionalUuid) {
    const text = await readStdin();
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (e) {
      throw new ValidationError("request", `stdin is not valid JSON: ${(e as Error).message}`);
    }
  }
  const req: Record<string, unknown> = {};
  if (positionalUuid !== undefined) req.uuid = positionalUuid;
  for (const k of ["uuid", "app", "namespace", "profile"]) if (values[k] !== undefined) req[k] = values[k];
  if (values["app-uuid"] !== undefined) req.appUuid = values["app-uuid"];
  if (values.uid !== undefined) req.uid = values.uid; // validated (integer, district range) by validateUid
  const env = parseEnvFlags(values.env as string[] | undefined);
  if (env) req.env = env;
  return req;
}

function parseUidArg(s: string | undefined, min: number, max: number): number {
  if (s === undefined) throw new UsageError("missing <uid>");
  if (!/^[0-9]{1,10}$/.test(s) || Number(s) < min || Number(s) > max) {
    throw new ValidationError("uid", `must be an integer in ${min}..${max} (got ${JSON.stringify(s)})`);
  }
  return Number(s);
}

async function gearCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (["ssh-key", "deploy", "deployments", "deploy-config"].includes(sub))
    return (await import("./deploy")).runDeployGearCommand(sub, rest);
  const { values, positionals } = parseArgs({
    args: rest,
    options: GEAR_FLAGS,
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(" ")}`);
  const { makeContext } = await import("../context");
  const { createGear, destroyGear, inspectGear, listGears, updateGear } = await import("../gear/lifecycle");
  const ctx = await makeContext();
  switch (sub) {
    case "create": {
      if (positionals.length)
        throw new UsageError("create takes flags or JSON on stdin, not positional arguments");
      out(await createGear(ctx, await requestFrom(values)));
      return EXIT.OK;
    }
    case "update": {
      const req = await requestFrom(values, positionals[0]);
      out(await updateGear(ctx, req));
      return EXIT.OK;
    }
    case "inspect": {
      const st = await inspectGear(ctx, positionals[0] ?? values.uuid);
      out(st);
      return st.drift.length === 0 ? EXIT.OK : EXIT.DRIFT;
    }
    case "destroy": {
      out(await destroyGear(ctx, positionals[0] ?? values.uuid));
      return EXIT.OK;
    }
    case "list": {
      out(await listGears(ctx));
      return EXIT.OK;
    }
    default:
      throw new UsageError(`unknown gear command ${JSON.stringify(sub ?? "")}`);
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case "--help":
    case "-h":
    case "help":
      console.log(USAGE);
      return EXIT.OK;
    case "gear":
      if (rest[0] === "--help" || rest[0] === "-h" || rest.length === 0) {
        console.log(USAGE);
        return rest.length === 0 ? EXIT.USAGE : EXIT.OK;
      }
      return gearCommand(rest);
    case "cartridge":
      return (await import("./cartridge")).runCartridge(rest);
    case "frontend":
      return (await import("./frontend")).runFrontend(rest);
    case "quickstart":
      return (await import("./quickstart")).runQuickstartCommand(rest);
    case "gear-shell":
    case "gear-hook":
    case "gear-pam-attach":
      return (await import("./deploy")).runDeployInternal(cmd, rest);
    case "check": {
      parseArgs({ args: rest, options: {}, strict: true });
      const { checkNode } = await import("../check");
      const { makeContext } = await import("../context");
      const report = await checkNode(await makeContext());
      out(report);
      return report.ok ? EXIT.OK : EXIT.DRIFT;
    }
    case "selinux": {
      const { positionals } = parseArgs({
        args: rest,
        options: { json: { type: "boolean" } },
        allowPositionals: true,
      });
      if (positionals.length !== 1 || !["status", "install"].includes(positionals[0]))
        throw new UsageError("expected: selinux status|install");
      const { loadConfig } = await import("../config");
      const policy = await import("../host/selinux/policy");
      const { selinuxStatus } = await import("../host/selinux/label");
      const config = loadConfig();
      if (positionals[0] === "install") {
        // explicit: builds and installs even where SELinux is not enabled (an image being prepared offline)
        out({ selinux: await selinuxStatus(), ...(await policy.installPolicy(config)) });
        return EXIT.OK;
      }
      const st = await policy.policyStatus(config);
      out({ selinux: await selinuxStatus(), ...st });
      return st.current ? EXIT.OK : EXIT.DRIFT;
    }
    case "mcs-label": {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { json: { type: "boolean" } },
        allowPositionals: true,
      });
      const { mcsLabel, MCS_LABEL_COUNT } = await import("../host/mcs");
      const uid = parseUidArg(positionals[0], 1, MCS_LABEL_COUNT);
      const label = mcsLabel(uid);
      if (values.json) out({ uid, label });
      else console.log(label);
      return EXIT.OK;
    }
    case "addresses": {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { json: { type: "boolean" } },
        allowPositionals: true,
      });
      const { gearAddresses } = await import("../host/addresses");
      const a = gearAddresses(parseUidArg(positionals[0], 500, 2 ** 31 - 1));
      if (values.json) out(a);
      else
        console.log(
          `loopback ${a.loopback.first}-${a.loopback.last} (${a.loopback.network})\nports ${a.ports.first}-${a.ports.last}`,
        );
      return EXIT.OK;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}

export async function runNode(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    return failFor(e, { program: "geartrain node", usage: USAGE });
  }
}

export const group: CommandGroup = {
  summary: "node operations: gears, cgroups, MCS labels, addresses, node check",
  run: runNode,
};
