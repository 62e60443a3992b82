// The prod stack's program under the mocked engine (test/unit/stacks/program-harness.ts).
import { describeProgram } from "./program-harness";

describeProgram("prod");
