// `geartrain app create|list|show|delete|start|stop|restart|tidy`: applications, over the REST API.

import { UsageError, ValidationError } from "../../../common/errors";
import type { AppEvent, Application, Cartridge } from "../../../clients/broker";
import {
  appScope,
  brokerGroup,
  clientFor,
  listLines,
  parse,
  positionals,
  print,
  showMessages,
  withProgress,
  type Command,
} from "../base";

const NS = { namespace: { type: "string", short: "n" } } as const;

/** NAME=VALUE pairs of --env flags. */
export function parseEnvPairs(
  list: readonly string[] | undefined,
  field = "env",
): { name: string; value: string }[] {
  return (list ?? []).map((kv, i) => {
    const at = kv.indexOf("=");
    if (at <= 0)
      throw new ValidationError(`${field}[${i}]`, `expected NAME=VALUE, got ${JSON.stringify(kv)}`);
    return { name: kv.slice(0, at), value: kv.slice(at + 1) };
  });
}

function cartridgeLines(carts: readonly Cartridge[] | undefined): string[] {
  const out: string[] = [];
  for (const c of carts ?? []) {
    out.push(`  ${c.name}${c.type === "embedded" ? " (add-on)" : ""}`);
    for (const p of c.properties ?? []) if (p.type === "cart_data") out.push(`    ${p.name}: ${p.value}`);
  }
  return out;
}

function appLines(a: Application): string[] {
  return [
    `${a.name} @ ${a.app_url ?? "?"} (uuid ${a.id})`,
    `  Domain:     ${a.domain_id}`,
    ...(a.state !== undefined ? [`  State:      ${a.state}`] : []),
    ...(a.gear_profile !== undefined ? [`  Gears:      ${a.gear_count ?? 1} ${a.gear_profile}`] : []),
    ...(a.git_url !== undefined ? [`  Git URL:    ${a.git_url}`] : []),
    ...(a.ssh_url !== undefined ? [`  SSH to:     ${a.ssh_url.replace(/^ssh:\/\//, "")}`] : []),
    ...(a.cartridges !== undefined
      ? ["  Cartridges:", ...cartridgeLines(a.cartridges).map((l) => `  ${l}`)]
      : []),
  ];
}

function event(e: AppEvent, verb: string): Command {
  return {
    usage: `geartrain app ${e} NAME [-n NS]`,
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, NS);
      const [name] = positionals(p, ["NAME"]);
      const { client, ns } = await appScope(ctx, values);
      const r = await client.applicationEvent(ns, name, e);
      showMessages(ctx, r.messages);
      print(ctx, values.json, r.value, () => [`${name} ${verb}`]);
      return 0;
    },
  };
}

export const group = brokerGroup("app", "applications", {
  create: {
    usage: "geartrain app create NAME CARTRIDGE... [-n NS] [--env NAME=VALUE]... [--gear-profile P]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {
        ...NS,
        env: { type: "string", multiple: true },
        "gear-profile": { type: "string" },
      });
      if (p.length < 2)
        throw new UsageError(p.length === 0 ? "missing NAME CARTRIDGE..." : "missing CARTRIDGE...");
      const [name, ...cartridges] = p;
      const { client, ns } = await appScope(ctx, values);
      const environmentVariables = parseEnvPairs(values.env);
      ctx.err(`Creating application ${name} in ${ns} with ${cartridges.join(", ")} ...`);
      const started = Date.now();
      const r = await withProgress(ctx, `creating ${name}`, () =>
        client.createApplication(ns, {
          name,
          cartridges,
          environmentVariables,
          ...(values["gear-profile"] !== undefined ? { gearProfile: values["gear-profile"] } : {}),
        }),
      );
      ctx.err(`Application ${name} created in ${Math.round((Date.now() - started) / 100) / 10} s`);
      showMessages(ctx, r.messages);
      print(ctx, values.json, r.value, () => appLines(r.value));
      return 0;
    },
  },
  list: {
    usage: "geartrain app list [-n NS]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, NS);
      positionals(p, []);
      const list = await clientFor(ctx, values.server).listApplications(values.namespace);
      print(ctx, values.json, list, () =>
        listLines(list, "No applications.", ["NAME", "DOMAIN", "URL", "CARTRIDGE"], (a) => [
          a.name,
          a.domain_id,
          a.app_url ?? "",
          a.framework ?? "",
        ]),
      );
      return 0;
    },
  },
  show: {
    usage: "geartrain app show NAME [-n NS]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, NS);
      const [name] = positionals(p, ["NAME"]);
      const { client, ns } = await appScope(ctx, values);
      const a = await client.application(ns, name, { includeCartridges: true });
      print(ctx, values.json, a, () => appLines(a));
      return 0;
    },
  },
  delete: {
    usage: "geartrain app delete NAME [-n NS] --confirm",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, { ...NS, confirm: { type: "boolean" } });
      const [name] = positionals(p, ["NAME"]);
      if (!values.confirm) throw new UsageError(`deleting application ${name} needs --confirm`);
      const { client, ns } = await appScope(ctx, values);
      const r = await withProgress(ctx, `deleting ${name}`, () => client.deleteApplication(ns, name));
      showMessages(ctx, r.messages);
      print(ctx, values.json, { deleted: name, domain: ns }, () => [`Application ${name} deleted`]);
      return 0;
    },
  },
  start: event("start", "started"),
  stop: event("stop", "stopped"),
  restart: event("restart", "restarted"),
  tidy: event("tidy", "tidied"),
});
