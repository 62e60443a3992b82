// `geartrain login`: a session token for the broker (ADD_AUTHORIZATION with Basic credentials), stored with
// the server in ~/.geartrain/client.json (0600). The password comes from --password-file or stdin, never
// from the command line (argv is public in ps).

import { readFileSync } from "fs";
import * as os from "os";
import { UsageError, ValidationError } from "../../../common/errors";
import { BrokerClient } from "../../../clients/broker";
import { brokerGroup, parse, positionals, print, readLogin, writeLogin, type CliContext } from "../base";

/** The first line of `text` (a password file or stdin may end in a newline). */
function firstLine(text: string): string {
  return text.split(/\r?\n/)[0];
}

async function readPassword(ctx: CliContext, file: string | undefined): Promise<string> {
  let password: string;
  if (file !== undefined) {
    try {
      password = firstLine(readFileSync(file, "utf8"));
    } catch (err) {
      throw new ValidationError(
        "password-file",
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  } else {
    if (ctx.stdinIsTTY && ctx.promptSecret !== undefined) password = await ctx.promptSecret("Password: ");
    else if (ctx.stdinIsTTY)
      throw new UsageError(
        "give the password on stdin (e.g. `geartrain login ... < file`) or with --password-file",
      );
    else password = firstLine(await ctx.readStdin());
  }
  if (password.length === 0) throw new ValidationError("password", "is empty");
  return password;
}

export const group = brokerGroup(
  "login",
  "log in to a broker and keep a token",
  {
    login: {
      usage:
        "geartrain login --server URL --login NAME [--password-file FILE]   (else asked on the terminal, or read from stdin)",
      async run(argv, ctx) {
        const { values, positionals: rest } = parse(argv, {
          login: { type: "string", short: "l" },
          "password-file": { type: "string" },
          password: { type: "string", short: "p" },
        });
        positionals(rest, []);
        if (values.password !== undefined)
          throw new UsageError(
            "a password on the command line is visible to everyone: use --password-file or stdin",
          );
        const stored = readLogin(ctx);
        const server = values.server ?? stored?.server;
        if (server === undefined) throw new UsageError("missing --server URL");
        const login =
          values.login ?? (stored !== null && stored.server === server ? stored.login : undefined);
        if (login === undefined) throw new UsageError("missing --login NAME");
        const password = await readPassword(ctx, values["password-file"]);
        const client = new BrokerClient({
          server,
          credentials: { login, password },
          ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
        });
        const auth = await client.addAuthorization({
          scope: "session",
          note: `geartrain CLI on ${os.hostname()}`,
        });
        const file = writeLogin(ctx, { server: client.root, login, token: auth.token as string });
        print(ctx, values.json, { server: client.root, login, file }, () => [
          `Logged in to ${client.root} as ${login}; the token is kept in ${file}`,
        ]);
        return 0;
      },
    },
  },
  { single: true },
);
