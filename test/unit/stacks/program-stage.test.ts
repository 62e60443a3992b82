// The stage stack's program under the mocked engine (test/unit/stacks/program-harness.ts): SSH hosts, the
// provided certificate, and the bus used across hosts over TLS (the brokers and agents check the bus's
// certificate as their CA under the bus host's name).
import { describeProgram } from "./program-harness";

describeProgram("stage");
