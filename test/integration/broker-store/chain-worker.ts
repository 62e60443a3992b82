// A broker process that starts a chain and hangs in its third step, for the test to SIGKILL: reads
// {connection, owner, leaseMs, opId, args} as JSON on stdin, prints `started <op id>` when the slow step
// begins.

import { Db } from "../../../services/broker/store/db";
import { OpEngine } from "../../../services/broker/store/op-engine";
import { chainOf, chainSteps } from "./chain-steps";

async function main(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { connection, owner, leaseMs, opId, args } = JSON.parse(input);
  const db = new Db({ ...connection, max: 3, applicationName: owner });
  const steps = chainSteps(db, { slow: "hang", onSlow: () => process.stdout.write(`started ${opId}\n`) });
  const engine = new OpEngine(db, { owner, leaseMs, steps: () => steps });
  await engine.start("create", null, chainOf(args), { id: opId });
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
