// GeneratedSecret: random bytes made once, on create, and kept in the state as a Pulumi secret (the repo has
// no @pulumi/random). A later `up` or `preview` keeps the value; only a change of `bytes` or `encoding`
// replaces it. The value never appears in the inputs, only in the (secret) outputs.
import * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "crypto";
import { ValidationError } from "../../common/errors";

export type SecretEncoding = "base64" | "hex" | "base64url";

export interface GeneratedSecretArgs {
  /** Random bytes before encoding. @default 24 */
  readonly bytes?: number;
  /** How the bytes are written: `base64` (TSIG keys), `hex`, `base64url` (passwords: no '/', '+', '='). @default "base64url" */
  readonly encoding?: SecretEncoding;
}

interface Inputs {
  readonly bytes: number;
  readonly encoding: SecretEncoding;
}
interface Outputs extends Inputs {
  readonly value: string;
}

/** Validates the args (errors name the field) and applies the defaults. Pure. */
export function resolveGeneratedSecret(args: GeneratedSecretArgs = {}): Inputs {
  const bytes = args.bytes ?? 24;
  if (!Number.isInteger(bytes) || bytes < 8 || bytes > 1024)
    throw new ValidationError("bytes", `must be an integer in 8..1024 (got ${String(bytes)})`);
  const encoding = args.encoding ?? "base64url";
  if (!["base64", "hex", "base64url"].includes(encoding))
    throw new ValidationError("encoding", `must be base64, hex or base64url (got ${String(encoding)})`);
  return { bytes, encoding };
}

export const generatedSecretProvider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  async create(inputs) {
    const value = randomBytes(inputs.bytes).toString(inputs.encoding);
    return { id: randomBytes(8).toString("hex"), outs: { ...inputs, value } };
  },
  async diff(_id, olds, news) {
    const replaces = (["bytes", "encoding"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces };
  },
  async update(_id, olds) {
    return { outs: olds };
  },
};

/** A random value made once and kept secret in the state. */
export class GeneratedSecret extends pulumi.dynamic.Resource {
  /** The value as stored (an additional secret output: the engine marks it secret). */
  declare public readonly value: pulumi.Output<string>;
  /** The value, marked secret here too (use this one: it stays secret whatever the engine). */
  public readonly secret: pulumi.Output<string>;

  constructor(name: string, args: GeneratedSecretArgs, opts?: pulumi.CustomResourceOptions) {
    const inputs = resolveGeneratedSecret(args);
    super(
      generatedSecretProvider,
      name,
      { ...inputs, value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      "geartrain",
      "GeneratedSecret",
    );
    this.secret = pulumi.secret(this.value);
  }
}
