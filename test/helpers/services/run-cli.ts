// `geartrain <args>` from the sources, for a child process a test starts
// (`node -r test/helpers/register-ts.js run-cli.ts broker run --config F`): no build of dist/ needed, and a
// test can SIGKILL it mid-request like the real process.
import { main } from "../../../services/cli/main";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
