// `geartrain admin district ...` and `geartrain admin node ...`: the admin API (our extension under
// /broker/rest/admin/, docs/control-plane.md), for a user with the admin role.

import { ConflictError, EXIT, UsageError, ValidationError } from "../../../common/errors";
import type { BrokerClient, District, NodeRecord } from "../../../clients/broker";
import {
  brokerGroup,
  clientFor,
  listLines,
  parse,
  positionals,
  print,
  processContext,
  type CliContext,
  type Command,
} from "../base";

function int(field: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v))
    throw new ValidationError(field, `expected a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function districtLines(d: District): string[] {
  return [
    `District ${d.name} (${d.gear_profile}, uuid ${d.uuid})`,
    `  UIDs:      ${d.first_uid}-${d.max_uid} (${d.available_capacity} of ${d.max_capacity} free)`,
    `  Nodes:     ${d.nodes.length === 0 ? "none" : d.nodes.map((n) => `${n.name}${n.active ? "" : " (inactive)"}`).join(", ")}`,
  ];
}

function nodeLines(n: NodeRecord): string[] {
  return [
    `Node ${n.name}: ${n.responsive ? "responsive" : "NOT responsive"}${n.last_seen ? `, last seen ${n.last_seen}` : ""}`,
    `  District:  ${n.district ?? "none"}${n.active === false ? " (inactive)" : ""}`,
    `  Profile:   ${n.profile ?? "?"}`,
    `  Gears:     ${n.active_gears ?? "?"} active of ${n.max_active_gears ?? "?"}`,
    `  Hostname:  ${n.public_hostname ?? "?"}`,
    `  Cartridges: ${n.cartridges.join(", ") || "none"}`,
  ];
}

const kindOf = (e: unknown) => (e as { kind?: string }).kind;

/** An existing district that matches what `create --exists-ok` asked for, else a conflict naming the field. */
function sameDistrict(
  d: District,
  want: { gearProfile: string; firstUid?: number; capacity?: number },
): District {
  if (d.gear_profile !== want.gearProfile)
    throw new ConflictError(
      `district ${d.name} exists with gear profile ${d.gear_profile}, not ${want.gearProfile}`,
    );
  if (want.firstUid !== undefined && d.first_uid !== want.firstUid)
    throw new ConflictError(`district ${d.name} exists with first UID ${d.first_uid}, not ${want.firstUid}`);
  const capacity = d.max_uid - d.first_uid + 1;
  if (want.capacity !== undefined && capacity !== want.capacity)
    throw new ConflictError(`district ${d.name} exists with ${capacity} UIDs, not ${want.capacity}`);
  return d;
}

/** add-node, waiting up to `waitSeconds` for a node that has not reported facts yet; a member already: done. */
async function addNode(
  c: BrokerClient,
  district: string,
  node: string,
  waitSeconds: number,
): Promise<District> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const d = await c.district(district);
    if (d.nodes.some((n) => n.name === node)) return d;
    try {
      return await c.addDistrictNode(district, node);
    } catch (e) {
      const notYet = kindOf(e) === "invalid" && /never reported facts/.test((e as Error).message);
      if (!notYet) throw e;
      if (Date.now() >= deadline)
        throw new ValidationError(
          "node",
          `node ${node} has not reported facts after ${waitSeconds} s (is its agent running and connected to the bus?)`,
        );
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** remove-node --if-present: deactivates the node first; a district or membership already gone is done. */
async function removeNodeIfPresent(
  c: BrokerClient,
  district: string,
  node: string,
): Promise<District | null> {
  let d: District;
  try {
    d = await c.district(district);
  } catch (e) {
    if (kindOf(e) === "not_found") return null;
    throw e;
  }
  const member = d.nodes.find((n) => n.name === node);
  if (!member) return d;
  if (member.active) await c.setDistrictNodeActive(district, node, false);
  return c.removeDistrictNode(district, node);
}

function districtNodeCommand(
  verb: string,
  usage: string,
  act: (c: ReturnType<typeof clientFor>, district: string, node: string) => Promise<District>,
  done: string,
): Command {
  return {
    usage: `geartrain admin district ${verb} ${usage}`,
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [district, node] = positionals(p, ["DISTRICT", "NODE"]);
      const d = await act(clientFor(ctx, values.server), district, node);
      print(ctx, values.json, d, () => [`${node} ${done} ${district}`, ...districtLines(d)]);
      return 0;
    },
  };
}

const district = brokerGroup("admin district", "districts (UID pools of nodes with one gear profile)", {
  create: {
    usage:
      "geartrain admin district create NAME --gear-profile P [--first-uid N] [--capacity N] [--exists-ok]   (--exists-ok: a district of that name with the same profile and UIDs is fine)",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {
        "gear-profile": { type: "string" },
        "first-uid": { type: "string" },
        capacity: { type: "string" },
        "exists-ok": { type: "boolean" },
      });
      const [name] = positionals(p, ["NAME"]);
      if (values["gear-profile"] === undefined) throw new UsageError("missing --gear-profile P");
      const firstUid = int("first-uid", values["first-uid"]);
      const capacity = int("capacity", values.capacity);
      const want = {
        gearProfile: values["gear-profile"],
        ...(firstUid !== undefined ? { firstUid } : {}),
        ...(capacity !== undefined ? { capacity } : {}),
      };
      const client = clientFor(ctx, values.server);
      let d: District;
      try {
        d = await client.createDistrict({ name, ...want });
      } catch (e) {
        if (!values["exists-ok"] || kindOf(e) !== "conflict") throw e;
        d = sameDistrict(await client.district(name), want);
      }
      print(ctx, values.json, d, () => districtLines(d));
      return 0;
    },
  },
  delete: {
    usage:
      "geartrain admin district delete NAME [--missing-ok]   (the district must have no nodes and no reserved UIDs)",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, { "missing-ok": { type: "boolean" } });
      const [name] = positionals(p, ["NAME"]);
      try {
        await clientFor(ctx, values.server).deleteDistrict(name);
      } catch (e) {
        if (!values["missing-ok"] || kindOf(e) !== "not_found") throw e;
      }
      print(ctx, values.json, { name, deleted: true }, () => [`District ${name} deleted`]);
      return 0;
    },
  },
  list: {
    usage: "geartrain admin district list",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      positionals(p, []);
      const list = await clientFor(ctx, values.server).listDistricts();
      print(ctx, values.json, list, () =>
        listLines(list, "No districts.", ["NAME", "PROFILE", "UIDS", "FREE", "NODES"], (d) => [
          d.name,
          d.gear_profile,
          `${d.first_uid}-${d.max_uid}`,
          String(d.available_capacity),
          d.nodes.map((n) => `${n.name}${n.active ? "" : "(inactive)"}`).join(",") || "-",
        ]),
      );
      return 0;
    },
  },
  show: {
    usage: "geartrain admin district show NAME",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [name] = positionals(p, ["NAME"]);
      const d = await clientFor(ctx, values.server).district(name);
      print(ctx, values.json, d, () => districtLines(d));
      return 0;
    },
  },
  "add-node": {
    usage:
      "geartrain admin district add-node DISTRICT NODE [--wait SECONDS]   (--wait: until the node has reported facts; a member already is fine)",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, { wait: { type: "string" } });
      const [district, node] = positionals(p, ["DISTRICT", "NODE"]);
      const d = await addNode(clientFor(ctx, values.server), district, node, int("wait", values.wait) ?? 0);
      print(ctx, values.json, d, () => [`${node} added to ${district}`, ...districtLines(d)]);
      return 0;
    },
  },
  "remove-node": {
    usage:
      "geartrain admin district remove-node DISTRICT NODE [--if-present]   (the node must be deactivated and host no gears; --if-present deactivates it first, and a node or district already gone is fine)",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, { "if-present": { type: "boolean" } });
      const [district, node] = positionals(p, ["DISTRICT", "NODE"]);
      const c = clientFor(ctx, values.server);
      const d = values["if-present"]
        ? await removeNodeIfPresent(c, district, node)
        : await c.removeDistrictNode(district, node);
      print(ctx, values.json, d, () => [`${node} removed from ${district}`, ...(d ? districtLines(d) : [])]);
      return 0;
    },
  },
  "activate-node": districtNodeCommand(
    "activate-node",
    "DISTRICT NODE",
    (c, d, n) => c.setDistrictNodeActive(d, n, true),
    "activated in",
  ),
  "deactivate-node": districtNodeCommand(
    "deactivate-node",
    "DISTRICT NODE   (no new gears are placed on it)",
    (c, d, n) => c.setDistrictNodeActive(d, n, false),
    "deactivated in",
  ),
});

const node = brokerGroup("admin node", "node hosts as the broker sees them (facts, responsiveness)", {
  list: {
    usage: "geartrain admin node list",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      positionals(p, []);
      const list = await clientFor(ctx, values.server).listNodes();
      print(ctx, values.json, list, () =>
        listLines(
          list,
          "No nodes have reported.",
          ["NAME", "DISTRICT", "PROFILE", "GEARS", "RESPONSIVE", "HOSTNAME"],
          (n) => [
            n.name,
            `${n.district ?? "-"}${n.active === false ? "(inactive)" : ""}`,
            n.profile ?? "?",
            `${n.active_gears ?? "?"}/${n.max_active_gears ?? "?"}`,
            n.responsive ? "yes" : "NO",
            n.public_hostname ?? "?",
          ],
        ),
      );
      return 0;
    },
  },
  show: {
    usage: "geartrain admin node show NAME",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [name] = positionals(p, ["NAME"]);
      const n = await clientFor(ctx, values.server).node(name);
      print(ctx, values.json, n, () => nodeLines(n));
      return 0;
    },
  },
});

const SUBGROUPS = { district, node } as const;

const USAGE = `geartrain admin: the admin API (admin role only)

Usage:
  geartrain admin district create|delete|list|show|add-node|remove-node|activate-node|deactivate-node ...
  geartrain admin node list|show ...

Run \`geartrain admin district --help\` or \`geartrain admin node --help\` for their commands.
Credentials: the stored login (\`geartrain login\`), or GEARTRAIN_LOGIN and GEARTRAIN_PASSWORD in the
environment (with --server) for programs.`;

async function runWith(argv: readonly string[], ctx: CliContext): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    (first === undefined ? ctx.err : ctx.out)(USAGE);
    return first === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const sub = SUBGROUPS[first as keyof typeof SUBGROUPS];
  if (sub === undefined) {
    ctx.err(`geartrain admin: unknown command 'admin ${first}'\n\n${USAGE}`);
    return EXIT.USAGE;
  }
  return sub.runWith(rest, ctx);
}

export const group = {
  summary: "admin API: districts and nodes",
  runWith,
  run: (argv: string[]) => runWith(argv, processContext()),
};
