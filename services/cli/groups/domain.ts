// `geartrain domain create|list|show|delete`: the user's namespaces.

import { UsageError } from "../../../common/errors";
import type { Domain } from "../../../clients/broker";
import { brokerGroup, clientFor, listLines, parse, positionals, print, showMessages, table } from "../base";

function owner(d: Domain): string {
  return d.members?.find((m) => m.owner)?.login ?? "";
}

export const group = brokerGroup("domain", "your domains (namespaces)", {
  create: {
    usage: "geartrain domain create NAME",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [name] = positionals(p, ["NAME"]);
      const d = await clientFor(ctx, values.server).addDomain(name);
      print(ctx, values.json, d, () => [
        `Domain ${d.name} created${d.suffix ? ` (apps at *-${d.name}.${d.suffix})` : ""}`,
      ]);
      return 0;
    },
  },
  list: {
    usage: "geartrain domain list",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      positionals(p, []);
      const list = await clientFor(ctx, values.server).listDomains();
      print(ctx, values.json, list, () =>
        listLines(list, "You have no domains.", ["NAME", "OWNER", "CREATED"], (d) => [
          d.name,
          owner(d),
          d.creation_time ?? "",
        ]),
      );
      return 0;
    },
  },
  show: {
    usage: "geartrain domain show NAME",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [name] = positionals(p, ["NAME"]);
      const client = clientFor(ctx, values.server);
      const d = await client.domain(name);
      const apps = await client.listApplications(name);
      print(ctx, values.json, { ...d, applications: apps }, () => [
        `Domain ${d.name}${owner(d) ? ` (owned by ${owner(d)})` : ""}`,
        ...(apps.length === 0
          ? ["  no applications"]
          : table(
              ["APP", "URL", "CARTRIDGE"],
              apps.map((a) => [a.name, a.app_url ?? "", a.framework ?? ""]),
            ).map((l) => `  ${l}`)),
      ]);
      return 0;
    },
  },
  delete: {
    usage: "geartrain domain delete NAME --confirm [--force]   (--force deletes its applications too)",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {
        confirm: { type: "boolean" },
        force: { type: "boolean" },
      });
      const [name] = positionals(p, ["NAME"]);
      if (!values.confirm) throw new UsageError(`deleting domain ${name} needs --confirm`);
      const r = await clientFor(ctx, values.server).deleteDomain(name, { force: values.force === true });
      showMessages(ctx, r.messages);
      print(ctx, values.json, { deleted: name }, () => [`Domain ${name} deleted`]);
      return 0;
    },
  },
});
