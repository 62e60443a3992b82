// A separate broker process for broker-store tests: reads {connection, districtId, count, prefix} as JSON
// on stdin, reserves `count` UIDs concurrently (several at a time on its own pool), prints them as JSON.

import { Db } from "../../../services/broker/store/db";
import { reserveUid } from "../../../services/broker/store/districts";

async function main(): Promise<void> {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const { connection, districtId, count, prefix } = JSON.parse(input);
  const db = new Db({ ...connection, max: 5, applicationName: `uid-worker-${prefix}` });
  try {
    const holders = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
    const uids = await Promise.all(holders.map((h) => reserveUid(db, districtId, h)));
    process.stdout.write(JSON.stringify(uids));
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
