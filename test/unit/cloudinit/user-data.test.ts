// The UserData component under mocks: outputs, secretness, errors.
import * as pulumi from "@pulumi/pulumi";
import { recordResources, valueOf } from "../../helpers/pulumi-mocks";

const resources = recordResources();

import type * as CloudInitModule from "../../../components/cloudinit";
import { FULL_USER_DATA } from "./fixtures";

describe("UserData", () => {
  let cloudinit: typeof CloudInitModule;
  beforeAll(async () => {
    cloudinit = await import("../../../components/cloudinit");
  });
  beforeEach(() => resources.splice(0));

  it("registers as geartrain:cloudinit:UserData and renders what renderUserData renders", async () => {
    const userData = new cloudinit.UserData("node", FULL_USER_DATA);
    const rendered = await valueOf(userData.rendered);
    expect(rendered).toBe(cloudinit.renderUserData(FULL_USER_DATA));
    expect(await valueOf(userData.sha256)).toBe(cloudinit.sha256Hex(rendered));
    expect(resources.map((r) => [r.type, r.name])).toEqual([["geartrain:cloudinit:UserData", "node"]]);
    expect(await pulumi.isSecret(userData.rendered)).toBe(false);
  });

  it("accepts Outputs anywhere in the args", async () => {
    const userData = new cloudinit.UserData("node", {
      gzip: pulumi.output(true),
      base64Encode: true,
      parts: pulumi.output(
        FULL_USER_DATA.parts.map((part) => ({ ...part, content: pulumi.output(part.content) })),
      ),
    });
    expect(await valueOf(userData.rendered)).toBe(
      cloudinit.renderUserData({ ...FULL_USER_DATA, gzip: true, base64Encode: true }),
    );
  });

  it("is secret, with its hash, when any input is secret", async () => {
    const [first, ...rest] = FULL_USER_DATA.parts;
    const userData = new cloudinit.UserData("node", {
      parts: [{ ...first!, content: pulumi.secret(first!.content) }, ...rest],
    });
    expect(await pulumi.isSecret(userData.rendered)).toBe(true);
    expect(await pulumi.isSecret(userData.sha256)).toBe(true);
  });

  it("throws at construction on a conflict it can see (gzip without base64)", () => {
    expect(() => new cloudinit.UserData("bad", { gzip: true, parts: FULL_USER_DATA.parts })).toThrow(
      /base64Encode.*gzip/,
    );
  });
});
