// District: a district of a broker (name, gear profile, UID block, nodes), made through the broker's admin
// API by the geartrain CLI run on the broker's host (Host commands; the admin's credentials in the
// environment, secret, logging off; never argv). One child per node, so a changed node list adds or removes
// only those nodes; a re-run of `up` changes nothing. docs/platform.md, "District".
import * as pulumi from "@pulumi/pulumi";
import { attributeErrors } from "../resource-error";
import { DistrictArgs } from "./args";
import {
  ADD_NODE_SCRIPT,
  CREATE_DISTRICT_SCRIPT,
  DELETE_DISTRICT_SCRIPT,
  REMOVE_NODE_SCRIPT,
  resolveDistrict,
} from "./resolve";

export * from "./args";
export { resolveDistrict } from "./resolve";
export type { DistrictSpec } from "./resolve";

export class District extends pulumi.ComponentResource {
  /** The district's name in the broker. */
  public readonly districtName: pulumi.Output<string>;
  public readonly profile: pulumi.Output<string>;
  public readonly firstUid: pulumi.Output<number>;
  public readonly capacity: pulumi.Output<number>;
  /** Its nodes' identities (sorted), once each is in it. */
  public readonly nodes: pulumi.Output<string[]>;

  constructor(name: string, args: DistrictArgs, opts?: pulumi.ComponentResourceOptions) {
    super("geartrain:platform:District", name, {}, opts);
    const { host, release, broker, ...rest } = args;
    const spec = attributeErrors(this, () => resolveDistrict(name, rest));

    const cli = {
      GT_NODE: release.node,
      GT_ENTRY: release.entry,
      GT_SERVER: broker.localUrl,
      GT_DISTRICT: spec.districtName,
      // the CLI's credentials (services/cli/base.ts): the environment, not a stored login
      GEARTRAIN_LOGIN: broker.adminLogin,
      GEARTRAIN_PASSWORD: pulumi.secret(broker.adminPassword),
      GEARTRAIN_HOME: "/nonexistent/geartrain-district",
    };
    const district = host.commandFor(
      this,
      name,
      "district",
      {
        create: CREATE_DISTRICT_SCRIPT,
        delete: DELETE_DISTRICT_SCRIPT,
        environment: {
          ...cli,
          GT_PROFILE: spec.profile,
          GT_FIRST_UID: String(spec.firstUid),
          GT_CAPACITY: String(spec.capacity),
        },
        // another name, profile or UID block is another district (the old one is deleted first)
        triggers: [spec.districtName, spec.profile, spec.firstUid, spec.capacity],
        secret: true,
      },
      { dependsOn: [...release.dependsOn], deleteBeforeReplace: true },
    );
    const members = spec.nodes.map((identity) =>
      host.commandFor(
        this,
        name,
        spec.nodeRoles[identity],
        {
          create: ADD_NODE_SCRIPT,
          delete: REMOVE_NODE_SCRIPT,
          environment: { ...cli, GT_IDENTITY: identity, GT_WAIT: String(spec.nodeWaitSeconds) },
          triggers: [spec.districtName, identity],
          secret: true,
        },
        { dependsOn: [district], deleteBeforeReplace: true },
      ),
    );

    this.districtName = pulumi.all([pulumi.output(spec.districtName), district.id]).apply(([n]) => n);
    this.profile = pulumi.output(spec.profile);
    this.firstUid = pulumi.output(spec.firstUid);
    this.capacity = pulumi.output(spec.capacity);
    const nodes = [...spec.nodes];
    this.nodes = pulumi.all(members.map((m) => m.id)).apply(() => nodes);
    this.registerOutputs({
      districtName: this.districtName,
      profile: this.profile,
      firstUid: this.firstUid,
      capacity: this.capacity,
      nodes: this.nodes,
    });
  }
}
