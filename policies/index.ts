// Geartrain's policy pack: `pulumi preview --policy-pack policies` (and `geartrain review`, which runs it).
// The rules are pure (rules.ts); this file feeds them. A stack policy sees each resource's outputs, and a
// component's outputs are what it registered, not its args; so one resource policy records every resource's
// inputs as the engine analyzes it, and the stack policies, which run after every resource, read those.
import { PolicyPack } from "@pulumi/policy";
import { packPolicies } from "./policies";

new PolicyPack("geartrain", {
  description: "Geartrain's platform rules: gear profiles, stage/prod topology, plain secrets, districts",
  enforcementLevel: "mandatory",
  policies: packPolicies(),
});
