// `geartrain cartridge add|remove|list` (an application's cartridges and the broker's catalogue), beside the
// cartridge authors' `geartrain cartridge lint` (cartridges/cli.ts), which this group hands `lint` to.

import { UsageError } from "../../../common/errors";
import type { Cartridge } from "../../../clients/broker";
import {
  appScope,
  brokerGroup,
  clientFor,
  listLines,
  namespaceOf,
  parse,
  positionals,
  print,
  processContext,
  showMessages,
  type CliContext,
} from "../base";

const APP = { app: { type: "string", short: "a" }, namespace: { type: "string", short: "n" } } as const;

function kind(c: Cartridge): string {
  return c.type === "standalone" ? "web" : c.type === "embedded" ? "addon" : (c.type ?? "");
}

const broker = brokerGroup(
  "cartridge",
  "cartridge authoring tools (lint) and the cartridges of your applications",
  {
    lint: {
      usage:
        "geartrain cartridge lint [--json] [--env-prefix PREFIX] <dir> [<dir>...]   (see geartrain cartridge lint --help)",
      run: () => Promise.reject(new Error("lint is run by cartridges/cli")),
    },
    list: {
      usage: "geartrain cartridge list [-a APP [-n NS]]   (without -a: the catalogue)",
      async run(argv, ctx) {
        const { values, positionals: p } = parse(argv, APP);
        positionals(p, []);
        const client = clientFor(ctx, values.server);
        const carts =
          values.app === undefined
            ? await client.catalogue()
            : await client.applicationCartridges(await namespaceOf(client, values.namespace), values.app);
        print(ctx, values.json, carts, () =>
          listLines(carts, "No cartridges.", ["NAME", "TYPE", "DESCRIPTION"], (c) => [
            c.name,
            kind(c),
            c.display_name ?? c.description ?? "",
          ]),
        );
        return 0;
      },
    },
    add: {
      usage: "geartrain cartridge add CARTRIDGE -a APP [-n NS]",
      async run(argv, ctx) {
        const { values, positionals: p } = parse(argv, APP);
        const [name] = positionals(p, ["CARTRIDGE"]);
        if (values.app === undefined) throw new UsageError("missing -a APP");
        const { client, ns } = await appScope(ctx, values);
        ctx.err(`Adding ${name} to ${values.app} ...`);
        const r = await client.addCartridge(ns, values.app, name);
        showMessages(ctx, r.messages);
        print(ctx, values.json, r.value, () => [
          `${r.value.name} added to ${values.app}`,
          ...(r.value.properties ?? [])
            .filter((x) => x.type === "cart_data")
            .map((x) => `  ${x.name}: ${x.value}`),
        ]);
        return 0;
      },
    },
    remove: {
      usage: "geartrain cartridge remove CARTRIDGE -a APP [-n NS] --confirm",
      async run(argv, ctx) {
        const { values, positionals: p } = parse(argv, { ...APP, confirm: { type: "boolean" } });
        const [name] = positionals(p, ["CARTRIDGE"]);
        if (values.app === undefined) throw new UsageError("missing -a APP");
        if (!values.confirm) throw new UsageError(`removing ${name} (and its data) needs --confirm`);
        const { client, ns } = await appScope(ctx, values);
        const r = await client.removeCartridge(ns, values.app, name);
        showMessages(ctx, r.messages);
        print(ctx, values.json, { removed: name, app: values.app }, () => [
          `${name} removed from ${values.app}`,
        ]);
        return 0;
      },
    },
  },
);

async function runWith(argv: readonly string[], ctx: CliContext): Promise<number> {
  if (argv[0] === "lint") {
    const { runCartridgeCli } = await import("../../../cartridges/cli");
    return runCartridgeCli(argv, { out: ctx.out, err: ctx.err });
  }
  return broker.runWith(argv, ctx);
}

export const group = {
  summary: broker.summary,
  runWith,
  run: (argv: string[]) => runWith(argv, processContext()),
};
