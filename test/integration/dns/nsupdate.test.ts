// NsupdateDnsUpdater against a real private BIND 9 (test/helpers/services/bind.ts): records added with
// TSIG-signed updates resolve with dig, removed ones answer NXDOMAIN, a wrong key is refused with a clear
// error, and the secret is in no error text and on no nsupdate command line or environment.

import { readdirSync, readFileSync, statSync } from "fs";
import * as net from "net";
import { OperationFailedError, UnavailableError, ValidationError } from "../../../common/errors";
import { appRecordName, NsupdateDnsUpdater } from "../../../services/broker/dns";
import { dig, digStatus, startBind, type PrivateBind } from "../../helpers/services/bind";

jest.setTimeout(60_000);

let bind: PrivateBind;
beforeAll(async () => {
  bind = await startBind({ zone: "apps.geartrain.test" });
});
afterAll(async () => {
  await bind?.stop();
});

const node = "node1.apps.geartrain.test";

it("adds the app CNAME and the node A record; dig resolves the app name to the node's address", async () => {
  const dns = new NsupdateDnsUpdater(bind.nsupdateConfig());
  const app = appRecordName("app1", "ns1", bind.zone);
  expect(app).toBe("app1-ns1.apps.geartrain.test");
  await dns.upsert([
    { name: node, type: "A", value: "127.0.0.5" },
    { name: app, type: "CNAME", value: node },
  ]);
  expect(await dig(bind, app, "A")).toEqual([`${node}.`, "127.0.0.5"]);
  expect(await dig(bind, app, "CNAME")).toEqual([`${node}.`]);

  // upsert again is idempotent, and a new target replaces the old one (delete + add in one message)
  await dns.upsert([{ name: app, type: "CNAME", value: node }]);
  expect(await dig(bind, app, "CNAME")).toEqual([`${node}.`]);
  await dns.upsert([{ name: app, type: "CNAME", value: "node2.apps.geartrain.test", ttl: 30 }]);
  expect(await dig(bind, app, "CNAME")).toEqual(["node2.apps.geartrain.test."]);

  await dns.remove([
    { name: app, type: "CNAME" },
    { name: node, type: "A" },
  ]);
  expect(await digStatus(bind, app)).toBe("NXDOMAIN");
  expect(await digStatus(bind, node)).toBe("NXDOMAIN");
  // removing what is gone is no error
  await dns.remove([{ name: app, type: "CNAME" }]);
});

it("the TSIG key is generated hmac-sha256 into a 0600 file, and named never logs its secret", () => {
  expect(statSync(bind.keyFile).mode & 0o777).toBe(0o600);
  const key = bind.key();
  expect(key).toMatchObject({ name: "apps.geartrain.test-key", algorithm: "hmac-sha256" });
  expect(Buffer.from(key.secret, "base64")).toHaveLength(32);
  expect(bind.log()).toMatch(/running/);
  expect(bind.log()).not.toContain(key.secret);
});

it("refuses bad records before anything is sent, naming the field", async () => {
  const dns = new NsupdateDnsUpdater(bind.nsupdateConfig());
  await expect(dns.upsert([{ name: "x.other.test", type: "A", value: "127.0.0.1" }])).rejects.toThrow(
    new ValidationError("records[0].name", "x.other.test is not in the zone apps.geartrain.test"),
  );
  await expect(
    dns.upsert([
      { name: "ok.apps.geartrain.test", type: "A", value: "127.0.0.1\nupdate delete apps.geartrain.test." },
    ]),
  ).rejects.toMatchObject({ field: "records[0].value" });
  expect(await digStatus(bind, "ok.apps.geartrain.test")).toBe("NXDOMAIN");
});

it("a wrong key is refused with a clear error that shows neither secret", async () => {
  const right = bind.key();
  const wrongSecret = Buffer.alloc(32, 7).toString("base64");
  const dns = new NsupdateDnsUpdater({ ...bind.nsupdateConfig(), key: { ...right, secret: wrongSecret } });
  const err = await dns
    .upsert([{ name: "w.apps.geartrain.test", type: "A", value: "127.0.0.9" }])
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(OperationFailedError);
  const message = (err as Error).message;
  expect(message).toMatch(/was refused .*BADSIG.*TSIG key 'apps\.geartrain\.test-key'/);
  expect(message).not.toContain(wrongSecret);
  expect(message).not.toContain(right.secret);

  const unknownKey = new NsupdateDnsUpdater({
    ...bind.nsupdateConfig(),
    key: { ...right, name: "other-key" },
  });
  await expect(
    unknownKey.upsert([{ name: "w.apps.geartrain.test", type: "A", value: "127.0.0.9" }]),
  ).rejects.toThrow(/refused .*BADKEY/);
  expect(await digStatus(bind, "w.apps.geartrain.test")).toBe("NXDOMAIN");
});

/** Every running nsupdate's command line and environment. */
function nsupdateProcesses(): string[] {
  const seen: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.split("\0")[0].endsWith("nsupdate")) continue;
      seen.push(cmdline + "\n" + readFileSync(`/proc/${pid}/environ`, "utf8"));
    } catch {
      /* gone */
    }
  }
  return seen;
}

it("an unanswering server fails as unavailable; the key is never on nsupdate's argv or environment", async () => {
  // a TCP listener that accepts and never answers keeps nsupdate running until its timeout
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => void sockets.push(s));
  await new Promise<void>((res) => silent.listen(0, "127.0.0.1", res));
  const port = (silent.address() as net.AddressInfo).port;
  const cfg = { ...bind.nsupdateConfig(), port, timeoutMs: 3000 };
  const dns = new NsupdateDnsUpdater(cfg);
  const pending = dns
    .upsert([{ name: "s.apps.geartrain.test", type: "A", value: "127.0.0.9" }])
    .catch((e: unknown) => e);
  const seen: string[] = [];
  for (let i = 0; i < 40 && seen.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    seen.push(...nsupdateProcesses());
  }
  const err = await pending;
  sockets.forEach((s) => s.destroy());
  await new Promise((res) => silent.close(res));
  expect(seen.length).toBeGreaterThan(0);
  for (const p of seen) expect(p).not.toContain(cfg.key.secret);
  expect(err).toBeInstanceOf(UnavailableError);
  expect((err as Error).message).toMatch(/did not (answer|finish)/);
  expect((err as Error).message).not.toContain(cfg.key.secret);
});
