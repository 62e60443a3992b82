// The UserData component: cloud-init user data as a Pulumi output. Rendering lives in ./render.ts; this
// class only resolves the inputs and attributes errors to itself.
import * as pulumi from "@pulumi/pulumi";
import { attributeErrors } from "../resource-error";
import type { UserDataArgs } from "./args";
import { checkEncoding, renderUserData, sha256Hex } from "./render";

export * from "./args";
export { renderCloudConfig, renderUserData, sha256Hex } from "./render";

/**
 * Renders cloud-init user data (what `cloudinit.getConfig` renders; see docs/cloud-init.md for the
 * differences). The outputs are secret when any input is: `pulumi.output` keeps secretness through the
 * nested inputs, so a secret file content makes the whole user data secret.
 */
export class UserData extends pulumi.ComponentResource {
  /** The user data: plain text, or base64 (of gzip) when asked. */
  public readonly rendered: pulumi.Output<string>;
  /** Hex sha256 of `rendered`, for `triggers` of commands that ship it. */
  public readonly sha256: pulumi.Output<string>;

  constructor(name: string, args: UserDataArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:cloudinit:UserData", name, {}, opts);
    // Fail fast on a conflict visible now; with Output inputs, the same check runs in the apply below.
    const plain = (value: unknown): value is boolean | undefined =>
      value === undefined || typeof value === "boolean";
    const { gzip, base64Encode } = args;
    if (plain(gzip) && plain(base64Encode)) attributeErrors(this, () => checkEncoding(gzip, base64Encode));
    this.rendered = pulumi
      .output(args)
      .apply((resolved) => attributeErrors(this, () => renderUserData(resolved)));
    this.sha256 = this.rendered.apply(sha256Hex);
    this.registerOutputs({ rendered: this.rendered, sha256: this.sha256 });
  }
}
