import { gearAddresses, loopbackAddress, portBlock } from "../../../node/host/addresses";

test("uid 1000 → 127.1.244.1-127 and ports 38031-38035 (published example)", () => {
  expect(gearAddresses(1000)).toEqual({
    uid: 1000,
    loopback: { network: "127.1.244.0/25", first: "127.1.244.1", last: "127.1.244.127" },
    ports: { first: 38031, last: 38035, list: [38031, 38032, 38033, 38034, 38035] },
  });
});

test.each([
  [1001, "127.1.244.129"],
  [6999, "127.13.171.129"],
])("uid %i loopback starts at %s", (uid, ip) => {
  expect(loopbackAddress(uid, 1)).toBe(ip);
});

test.each([
  [6000, 63031],
  [6500, 65531],
  [6501, 35531],
  [6999, 38021],
])("uid %i port block starts at %i", (uid, first) => {
  expect(portBlock(uid).first).toBe(first);
  expect(portBlock(uid).last).toBe(first + 4);
});

test("district 1000-6999: every gear a distinct /25 and a distinct port block", () => {
  const ips = new Set<string>();
  const ports = new Set<number>();
  for (let uid = 1000; uid <= 6999; uid++) {
    ips.add(gearAddresses(uid).loopback.network);
    for (const p of portBlock(uid).list) ports.add(p);
  }
  expect(ips.size).toBe(6000);
  expect(ports.size).toBe(30000);
});

test("wraparound offset above 65535 and argument checks", () => {
  expect(loopbackAddress(65536, 1)).toBe("127.0.0.129");
  expect(() => loopbackAddress(1000, 0)).toThrow(RangeError);
  expect(() => loopbackAddress(1000, 128)).toThrow(RangeError);
  expect(() => portBlock(499)).toThrow(RangeError);
});
