// `geartrain admin district ...` and `geartrain admin node ...`: the admin API (our extension under
// /broker/rest/admin/, docs/control-plane.md), for a user with the admin role.

import { EXIT, UsageError, ValidationError } from "../../../common/errors";
import type { District, NodeRecord } from "../../../clients/broker";
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
    usage: "geartrain admin district create NAME --gear-profile P [--first-uid N] [--capacity N]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {
        "gear-profile": { type: "string" },
        "first-uid": { type: "string" },
        capacity: { type: "string" },
      });
      const [name] = positionals(p, ["NAME"]);
      if (values["gear-profile"] === undefined) throw new UsageError("missing --gear-profile P");
      const firstUid = int("first-uid", values["first-uid"]);
      const capacity = int("capacity", values.capacity);
      const d = await clientFor(ctx, values.server).createDistrict({
        name,
        gearProfile: values["gear-profile"],
        ...(firstUid !== undefined ? { firstUid } : {}),
        ...(capacity !== undefined ? { capacity } : {}),
      });
      print(ctx, values.json, d, () => districtLines(d));
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
  "add-node": districtNodeCommand(
    "add-node",
    "DISTRICT NODE",
    (c, d, n) => c.addDistrictNode(d, n),
    "added to",
  ),
  "remove-node": districtNodeCommand(
    "remove-node",
    "DISTRICT NODE   (the node must be deactivated and host no gears)",
    (c, d, n) => c.removeDistrictNode(d, n),
    "removed from",
  ),
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
  geartrain admin district create|list|show|add-node|remove-node|activate-node|deactivate-node ...
  geartrain admin node list|show ...

Run \`geartrain admin district --help\` or \`geartrain admin node --help\` for their commands.`;

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
