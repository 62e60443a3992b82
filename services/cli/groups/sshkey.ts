// `geartrain sshkey add|list|remove`: the user's SSH keys (they reach every gear of the user's apps).

import { readFileSync } from "fs";
import { ValidationError } from "../../../common/errors";
import { brokerGroup, clientFor, listLines, parse, positionals, print } from "../base";

/** `<type> <base64> [comment]` of a public key file, as the broker wants it (content without type). */
export function parsePublicKey(text: string, field = "key"): { type: string; content: string } {
  const line = text.split(/\r?\n/).find((l) => l.trim().length > 0 && !l.trim().startsWith("#"));
  const m =
    line === undefined
      ? null
      : /^\s*((?:ssh|ecdsa|sk)-[a-z0-9@.-]+)\s+([A-Za-z0-9+/]{16,}={0,3})(?:\s.*)?$/.exec(line);
  if (m === null)
    throw new ValidationError(
      field,
      "expected an OpenSSH public key: <type> <base64> [comment] (ssh-ed25519 AAAA... me@host)",
    );
  return { type: m[1], content: m[2] };
}

export const group = brokerGroup("sshkey", "your SSH keys", {
  add: {
    usage:
      "geartrain sshkey add NAME FILE   (FILE - reads stdin; an OpenSSH public key, e.g. ~/.ssh/id_ed25519.pub)",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [name, file] = positionals(p, ["NAME", "FILE"]);
      let text: string;
      try {
        text = file === "-" ? await ctx.readStdin() : readFileSync(file, "utf8");
      } catch (err) {
        throw new ValidationError(
          "FILE",
          `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
      }
      const key = parsePublicKey(text, "FILE");
      const k = await clientFor(ctx, values.server).addKey({ name, ...key });
      print(ctx, values.json, k, () => [`SSH key ${k.name} (${k.type}) added`]);
      return 0;
    },
  },
  list: {
    usage: "geartrain sshkey list",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      positionals(p, []);
      const keys = await clientFor(ctx, values.server).listKeys();
      print(ctx, values.json, keys, () =>
        listLines(keys, "You have no SSH keys.", ["NAME", "TYPE", "KEY"], (k) => [
          k.name,
          k.type,
          `${k.content.slice(0, 12)}...${k.content.slice(-8)}`,
        ]),
      );
      return 0;
    },
  },
  remove: {
    usage: "geartrain sshkey remove NAME",
    async run(argv, ctx) {
      const { values, positionals: p } = parse(argv, {});
      const [name] = positionals(p, ["NAME"]);
      await clientFor(ctx, values.server).removeKey(name);
      print(ctx, values.json, { removed: name }, () => [`SSH key ${name} removed`]);
      return 0;
    },
  },
});
