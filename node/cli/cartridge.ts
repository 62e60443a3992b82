// `geartrain node cartridge …`: the node's cartridge repository and cartridges in gears (operator CLI, like
// oo-admin-cartridge and the cartridge side of oo-* tools). JSON on stdout; exit codes as `geartrain node`.

import { existsSync } from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { failFor } from "../../common/cli-fail";
import { EXIT, UnavailableError, UsageError, ValidationError } from "../../common/errors";
import { CONFIG_ENV } from "../config";
import { makeContext } from "../context";
import { setGearIdle } from "../frontend/unidler";
import { runCronJobs } from "../cartridge/cron";
import { idleGear, runUnidler, startGearCartridges } from "../cartridge/idle";
import { systemCronFile } from "../cartridge/model";
import { connectGearApp } from "../cartridge/connections";
import { cartridgeStatus, controlCartridge } from "../cartridge/control";
import { installCartridge } from "../cartridge/install";
import { removeCartridge } from "../cartridge/remove";
import { addToRepository, listRepository } from "../cartridge/repository";
import { out } from "./io";

export const CARTRIDGE_USAGE = `geartrain node cartridge: cartridges on this node (run as root)

Usage:
  geartrain node cartridge repo add [--force] <dir>      check a cartridge and add it to the node repository
  geartrain node cartridge repo list
  geartrain node cartridge install <uuid> <name> [--vendor V] [--version V] [--cartridge-version V]
  geartrain node cartridge control <uuid> <name> <action> [<arg>...]
  geartrain node cartridge status  <uuid> [<name>]
  geartrain node cartridge remove  <uuid> <name>
  geartrain node cartridge connect <uuid>                 converge publish/subscribe of the gear's app
  geartrain node cartridge cron-run <minutely|hourly|daily|weekly|monthly> [--uuid U]...
  geartrain node cartridge cron-file [--bin PATH]        the /etc/cron.d file that calls cron-run
  geartrain node cartridge idle    <uuid>                 stop the gear's cartridges; its route shows "starting"
  geartrain node cartridge unidle  <uuid>                 start them again and route to the app
  geartrain node cartridge unidler                        serve idle routes (frontend.idleStarter): the first
                                                         request to an idle gear starts it

Actions: start stop restart reload status tidy pre-build build deploy post-deploy update-configuration
pre-receive post-receive pre-repo-archive pre-snapshot post-snapshot pre-restore post-restore, plus the
cartridge's Additional-Control-Actions.

Exit codes as \`geartrain node\`: 0 ok; 1 failed (hook_failed: the hook's stderr is in the error; control:
the action exited non-zero; connect, cron-run: a hook failed); 2 usage; 3 invalid input or an invalid cartridge
(repo list: the repository holds one; the same code as \`geartrain cartridge lint\`); 4 gear or cartridge not
found; 5 conflict.`;

/** bin/geartrain of this installation (from the source tree or from dist/). */
function geartrainBin(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, "bin", "geartrain");
    if (existsSync(candidate)) return candidate;
  }
  throw new UnavailableError("cannot find bin/geartrain above " + __dirname + "; pass --bin");
}

function positionals(args: string[], n: number, what: string): string[] {
  const { positionals: p } = parseArgs({ args, options: {}, allowPositionals: true, strict: true });
  if (p.length !== n) throw new UsageError(`expected ${what}`);
  return p;
}

async function repo(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const ctx = await makeContext();
  if (sub === "add") {
    const { values, positionals: p } = parseArgs({
      args: rest,
      options: { force: { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
    if (p.length !== 1) throw new UsageError("expected: repo add [--force] <dir>");
    out(await addToRepository(ctx.config, p[0], { force: values.force }));
    return EXIT.OK;
  }
  if (sub === "list") {
    positionals(rest, 0, "no arguments");
    const r = await listRepository(ctx.config);
    out(r);
    return r.problems.length ? EXIT.INVALID : EXIT.OK;
  }
  throw new UsageError(`unknown repo command ${JSON.stringify(sub ?? "")}`);
}

async function dispatch(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case "--help":
    case "-h":
    case "help":
      console.log(CARTRIDGE_USAGE);
      return cmd === undefined ? EXIT.USAGE : EXIT.OK;
    case "repo":
      return repo(rest);
    case "install": {
      const { values, positionals: p } = parseArgs({
        args: rest,
        options: {
          vendor: { type: "string" },
          version: { type: "string" },
          "cartridge-version": { type: "string" },
        },
        allowPositionals: true,
        strict: true,
      });
      if (p.length !== 2) throw new UsageError("expected: install <uuid> <name> [flags]");
      const req: Record<string, string> = { name: p[1] };
      if (values.vendor !== undefined) req.vendor = values.vendor;
      if (values.version !== undefined) req.version = values.version;
      if (values["cartridge-version"] !== undefined) req.cartridgeVersion = values["cartridge-version"];
      out(await installCartridge(await makeContext(), p[0], req));
      return EXIT.OK;
    }
    case "control": {
      // everything after the action is passed to bin/control as is
      if (rest.length < 3) throw new UsageError("expected: control <uuid> <name> <action> [<arg>...]");
      const [uuid, name, action, ...args] = rest;
      const r = await controlCartridge(await makeContext(), uuid, name, action, args);
      out(r);
      return r.ok ? EXIT.OK : EXIT.FAILED;
    }
    case "status": {
      const { positionals: p } = parseArgs({ args: rest, options: {}, allowPositionals: true, strict: true });
      if (p.length < 1 || p.length > 2) throw new UsageError("expected: status <uuid> [<name>]");
      out(await cartridgeStatus(await makeContext(), p[0], p[1]));
      return EXIT.OK;
    }
    case "remove": {
      const [uuid, name] = positionals(rest, 2, "remove <uuid> <name>");
      out(await removeCartridge(await makeContext(), uuid, name));
      return EXIT.OK;
    }
    case "connect": {
      const [uuid] = positionals(rest, 1, "connect <uuid>");
      const r = await connectGearApp(await makeContext(), uuid);
      out(r);
      return r.problems.length ? EXIT.FAILED : EXIT.OK;
    }
    case "cron-run": {
      const { values, positionals: p } = parseArgs({
        args: rest,
        options: { uuid: { type: "string", multiple: true } },
        allowPositionals: true,
        strict: true,
      });
      if (p.length !== 1) throw new UsageError("expected: cron-run <frequency> [--uuid U]...");
      const runs = await runCronJobs(await makeContext(), p[0], { uuids: values.uuid });
      out(runs);
      return runs.every((r) => r.exitCode === 0) ? EXIT.OK : EXIT.FAILED;
    }
    case "cron-file": {
      const { values } = parseArgs({ args: rest, options: { bin: { type: "string" } }, strict: true });
      const bin = values.bin ?? geartrainBin();
      if (!path.isAbsolute(bin) || /\s/.test(bin))
        throw new ValidationError("bin", "must be an absolute path without spaces");
      const config = process.env[CONFIG_ENV];
      if (config && (!path.isAbsolute(config) || /\s/.test(config)))
        throw new ValidationError(CONFIG_ENV, "must be an absolute path without spaces");
      process.stdout.write(systemCronFile(bin, config || null));
      return EXIT.OK;
    }
    case "idle":
    case "unidle": {
      const [uuid] = positionals(rest, 1, `${cmd} <uuid>`);
      const ctx = await makeContext();
      if (cmd === "idle") await idleGear(ctx, uuid);
      else {
        await startGearCartridges(ctx, uuid);
        await setGearIdle(ctx, uuid, false);
      }
      out(await cartridgeStatus(ctx, uuid));
      return EXIT.OK;
    }
    case "unidler": {
      positionals(rest, 0, "unidler");
      const unidler = await runUnidler(await makeContext());
      console.error(`geartrain node cartridge unidler: listening on ${unidler.host}:${unidler.port}`);
      await new Promise<void>((resolve) => {
        process.once("SIGTERM", resolve);
        process.once("SIGINT", resolve);
      });
      await unidler.close();
      return EXIT.OK;
    }
    default:
      throw new UsageError(`unknown cartridge command ${JSON.stringify(cmd)}`);
  }
}

export async function runCartridge(argv: string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    return failFor(e, { program: "geartrain node cartridge", usage: CARTRIDGE_USAGE });
  }
}
