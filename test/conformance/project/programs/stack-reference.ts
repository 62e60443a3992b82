// Reads another stack's outputs: a plain one and a secret one (which must stay secret here).
import * as pulumi from "@pulumi/pulumi";

export function stackReference(): Record<string, unknown> {
  const other = new pulumi.StackReference("basics", { name: new pulumi.Config().require("basicsStack") });
  return { number: other.getOutput("number"), password: other.getOutput("password") };
}
