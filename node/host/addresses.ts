// Per-gear loopback /25 and public port-proxy block from the UID (reference §5.1, §5.2).

import type { GearAddresses } from "../types";

export const WRAPAROUND_UID = 65536;
export const IP_ADDRESS_WRAPAROUND_OFFSET = 1;
export const PORT_BEGIN = 35531;
export const PORTS_PER_USER = 5;
export const UID_BEGIN = 500;

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** ip = 0x7F000000 + (offset << 7) + ((uid % 65536) << 7) + hostId, hostId 1..127. */
export function loopbackAddress(uid: number, hostId: number): string {
  if (!Number.isSafeInteger(uid) || uid < 0) throw new RangeError(`uid must be a non-negative integer`);
  if (!Number.isInteger(hostId) || hostId < 1 || hostId > 127) throw new RangeError(`hostId must be 1..127`);
  const offset = uid < WRAPAROUND_UID ? 0 : IP_ADDRESS_WRAPAROUND_OFFSET;
  return ipv4(0x7f000000 + offset * 128 + (uid % WRAPAROUND_UID) * 128 + hostId);
}

export function portBlock(uid: number): { first: number; last: number; list: number[] } {
  if (!Number.isSafeInteger(uid) || uid < UID_BEGIN)
    throw new RangeError(`uid must be an integer ≥ ${UID_BEGIN}`);
  const blockCount = Math.floor((65536 - PORT_BEGIN) / PORTS_PER_USER);
  const first = ((uid - UID_BEGIN) % blockCount) * PORTS_PER_USER + PORT_BEGIN;
  const list = Array.from({ length: PORTS_PER_USER }, (_, k) => first + k);
  return { first, last: first + PORTS_PER_USER - 1, list };
}

export function gearAddresses(uid: number): GearAddresses {
  const first = loopbackAddress(uid, 1);
  const base = first.split(".").map(Number);
  const network = `${base[0]}.${base[1]}.${base[2]}.${base[3] - 1}/25`;
  return { uid, loopback: { network, first, last: loopbackAddress(uid, 127) }, ports: portBlock(uid) };
}
