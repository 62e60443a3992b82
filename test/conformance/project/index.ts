// One project for every conformance program (test/conformance/): the stack's `program` setting picks
// which one runs, so all their stacks share this folder and the repository's node_modules. The
// program's return value becomes the stack's outputs.
import * as pulumi from "@pulumi/pulumi";
import { PROGRAMS, isProgramName } from "./programs";

const name = new pulumi.Config().require("program");
if (!isProgramName(name)) {
  throw new Error(`unknown conformance program "${name}": one of ${Object.keys(PROGRAMS).join(", ")}`);
}
export = PROGRAMS[name]();
