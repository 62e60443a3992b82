// The deny-file rules of node/host/job-schedulers.ts (pure): only the gear's own line changes.

import { denyChanges, listsUser, withUserLine } from "../../../node/host/job-schedulers";

const U = "0123456789abcdef0123456789abcdef";

test("a user's line is added once and removed alone; other lines and their order stay", () => {
  expect(withUserLine(null, U, true)).toBe(`${U}\n`);
  expect(withUserLine("alice\n#note\n", U, true)).toBe(`alice\n#note\n${U}\n`);
  expect(withUserLine(`alice\n${U}\n`, U, true)).toBe(`alice\n${U}\n`);
  expect(withUserLine(`alice\n${U}\nbob`, U, false)).toBe("alice\nbob\n");
  expect(withUserLine(`${U}\n`, U, false)).toBe(""); // empty: the file goes
  expect(withUserLine("alice\n\nbob\n", U, false)).toBe("alice\n\nbob\n");
  expect(listsUser(` ${U} \n`, U)).toBe(true);
  expect(listsUser(`${U}x\n`, U)).toBe(false);
  expect(listsUser(null, U)).toBe(false);
});

test("cron: the deny file gets the gear (created if missing); an allow file loses it", () => {
  const cron = { createDeny: true };
  expect(denyChanges({ allow: null, deny: null }, U, cron)).toEqual({ deny: `${U}\n` });
  expect(denyChanges({ allow: null, deny: `${U}\n` }, U, cron)).toEqual({});
  expect(denyChanges({ allow: `root\n${U}\n`, deny: null }, U, cron)).toEqual({
    allow: "root\n",
    deny: `${U}\n`,
  });
});

test("at: a missing deny file stays missing (only root may use at then)", () => {
  const at = { createDeny: false };
  expect(denyChanges({ allow: null, deny: null }, U, at)).toEqual({});
  expect(denyChanges({ allow: null, deny: "daemon\n" }, U, at)).toEqual({ deny: `daemon\n${U}\n` });
  expect(denyChanges({ allow: `${U}\n`, deny: null }, U, at)).toEqual({ allow: "" });
});
