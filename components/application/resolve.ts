// The Application component's arguments, pure: plain values (those known when the program runs) are checked
// with the BrokerApp provider's own rules (providers/application/model.ts, the broker's wire schemas), so a
// bad name fails at construction naming the field, before the engine runs anything.

import { ValidationError } from "../../common/errors";
import { checkBrokerApp, type BrokerAppInputs } from "../../providers/application/model";

/** The plain part of the arguments (an argument that is an Output is checked by the provider). */
export interface PlainApplicationArgs {
  readonly domain?: unknown;
  readonly name?: unknown;
  readonly webCartridge?: unknown;
  readonly cartridges?: unknown;
  readonly gearProfile?: unknown;
  readonly aliases?: unknown;
}

/** Throws a ValidationError naming the first bad field; connection and env are the provider's to check. */
export function resolveApplication(args: PlainApplicationArgs): void {
  const known = (v: unknown) => (typeof v === "string" || Array.isArray(v) ? v : undefined);
  if (Array.isArray(args.aliases) && args.aliases.length > 0)
    throw new ValidationError("aliases", "the broker does not route aliases yet (docs/providers.md)");
  const failures = checkBrokerApp({
    connection: { server: "https://broker.invalid", token: "x" },
    domain: known(args.domain) as string | undefined,
    name: (known(args.name) as string | undefined) ?? "placeholder",
    webCartridge: known(args.webCartridge) as string | undefined,
    ...(Array.isArray(args.cartridges) && args.cartridges.every((c) => typeof c === "string")
      ? { cartridges: args.cartridges as string[] }
      : {}),
    ...(typeof args.gearProfile === "string" ? { gearProfile: args.gearProfile } : {}),
  } as Partial<BrokerAppInputs>).filter(
    (f) =>
      !(
        f.property === "webCartridge" &&
        args.webCartridge !== undefined &&
        known(args.webCartridge) === undefined
      ),
  );
  if (failures.length > 0) throw new ValidationError(failures[0].property, failures[0].reason);
}
