// `geartrain env set|unset|list`: an application's environment variables.

import { UsageError, ValidationError } from "../../../common/errors";
import { appScope, brokerGroup, listLines, parse, print, showMessages } from "../base";
import { parseEnvPairs } from "./app";

const APP = { app: { type: "string", short: "a" }, namespace: { type: "string", short: "n" } } as const;

function needApp(app: string | undefined): string {
  if (app === undefined) throw new UsageError("missing -a APP");
  return app;
}

export const group = brokerGroup("env", "environment variables of an application", {
  set: {
    usage: "geartrain env set NAME=VALUE... -a APP [-n NS]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, APP);
      const app = needApp(values.app);
      if (p.length === 0) throw new UsageError("missing NAME=VALUE...");
      const pairs = parseEnvPairs(p, "variables");
      const { client, ns } = await appScope(ctx, values);
      const r = await client.changeEnv(ns, app, pairs);
      showMessages(ctx, r.messages);
      print(ctx, values.json, r.value, () => pairs.map((v) => `${v.name} set`));
      return 0;
    },
  },
  unset: {
    usage: "geartrain env unset NAME... -a APP [-n NS]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, APP);
      const app = needApp(values.app);
      if (p.length === 0) throw new UsageError("missing NAME...");
      p.forEach((n, i) => {
        if (n.includes("="))
          throw new ValidationError(`variables[${i}]`, `unset takes names, got ${JSON.stringify(n)}`);
      });
      const { client, ns } = await appScope(ctx, values);
      const r = await client.changeEnv(
        ns,
        app,
        p.map((name) => ({ name })),
      );
      showMessages(ctx, r.messages);
      print(ctx, values.json, r.value, () => p.map((n) => `${n} unset`));
      return 0;
    },
  },
  list: {
    usage: "geartrain env list -a APP [-n NS]",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, APP);
      const app = needApp(values.app);
      if (p.length > 0) throw new UsageError(`unexpected argument '${p[0]}'`);
      const { client, ns } = await appScope(ctx, values);
      const vars = await client.listEnv(ns, app);
      print(ctx, values.json, vars, () =>
        listLines(vars, "No environment variables.", ["NAME", "VALUE"], (v) => [v.name, v.value]),
      );
      return 0;
    },
  },
});
