// A broker process for the tests (`node -r test/helpers/register-ts.js run-broker.ts CONFIG`): the real
// services/broker/main.ts, so a test can SIGKILL it mid-request and start another on the same database.
import { runBroker } from "../../../services/broker/main";

runBroker(process.argv[2]).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
