// The prod stack's program under the mocked engine (test/unit/stacks/program-harness.ts). Its bus is used
// across hosts, so over TLS, and the brokers and agents speak plain STOMP only: the Platform refuses it
// before declaring a broker. The multi-host graph itself is tested on the Platform
// (test/unit/components/platform/platform.test.ts).
import { describeProgram } from "./program-harness";

describeProgram("prod", /topology\.bus\.tls.*plain STOMP only/s);
