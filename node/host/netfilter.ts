// Gear network isolation with netfilter owner matching (OpenShift enforced this with SELinux port labels and
// MCS, reference §2 and §5; a host without SELinux gets this instead).
//
// Each gear owns a /25 of 127.0.0.0/8 (node/host/addresses.ts). Packets leaving a socket owned by a gear UID are
//   1. rejected when they go TO another gear's block (TCP: reset, so connect() fails at once with
//      ECONNREFUSED; anything else: ICMP admin-prohibited);
//   2. dropped when they come FROM another gear's block. bind() itself cannot be refused by netfilter (that
//      needs SELinux `name_bind` on openshift_port_t, or a cgroup-v2 BPF bind hook), but a gear that binds
//      another gear's free address can then neither answer a TCP handshake nor send from it.
// Root and system users are not gear UIDs and are not restricted (nginx, the node itself).
//
// nftables (preferred): one table `inet <table>` with three sets (gear UIDs, gear blocks, block . owner UID)
// and three fixed rules in an output hook chain; a gear adds or removes only set elements, each change a
// single atomic `nft -f -` transaction. iptables (fallback): a chain <TABLE> jumped to from OUTPUT, three
// rules per gear tagged with a comment; gear UIDs are the node's district range (iptables has no sets
// without ipset).

import { existsSync } from "fs";
import { UnavailableError } from "../../common/errors";
import { gearAddresses } from "./addresses";
import type { NodeContext } from "../context";
import { CommandError, run } from "./exec";
import type { Drift, NetworkState, NodeConfig } from "../types";
import { validateUuid } from "../validate";

export const NFT = "/usr/sbin/nft";
export const IPTABLES = "/usr/sbin/iptables";

export type IsolationMode = NetworkState["mode"];

export interface IsolationSupport {
  readonly mode: IsolationMode;
  /** why this mode (what was probed, or why nothing works) */
  readonly why: string;
}

/** Comments that identify the three base rules of the nftables chain, in order. */
export const NFT_RULE_COMMENTS = [
  "geartrain: tcp to another gear's block",
  "geartrain: other traffic to another gear's block",
  "geartrain: traffic from another gear's block",
] as const;

function checkTable(table: string): string {
  if (!/^[a-z][a-z0-9_]{0,23}$/.test(table)) throw new Error(`invalid netfilter table name ${table}`);
  return table;
}

function checkUid(uid: number): number {
  if (!Number.isSafeInteger(uid) || uid < 1 || uid > 2 ** 32 - 2) throw new Error(`invalid uid ${uid}`);
  return uid;
}

/** The nftables base (table, sets, chain, the three rules). Replaces the chain's rules atomically. Pure. */
export function renderNftBase(table: string): string {
  const t = `inet ${checkTable(table)}`;
  const toOther = "ip daddr @gear_nets meta skuid @gear_uids ip daddr . meta skuid != @owners counter";
  const fromOther = "ip saddr @gear_nets meta skuid @gear_uids ip saddr . meta skuid != @owners counter";
  return [
    `add table ${t}`,
    `add set ${t} gear_uids { type uid; }`,
    `add set ${t} gear_nets { type ipv4_addr; flags interval; }`,
    `add set ${t} owners { type ipv4_addr . uid; flags interval; }`,
    `add chain ${t} output { type filter hook output priority filter; policy accept; }`,
    `flush chain ${t} output`,
    `add rule ${t} output meta l4proto tcp ${toOther} reject with tcp reset comment "${NFT_RULE_COMMENTS[0]}"`,
    `add rule ${t} output ${toOther} reject with icmpx admin-prohibited comment "${NFT_RULE_COMMENTS[1]}"`,
    `add rule ${t} output ${fromOther} drop comment "${NFT_RULE_COMMENTS[2]}"`,
    "",
  ].join("\n");
}

/** The set elements of one gear, added or deleted in one transaction. Pure. */
export function renderNftGear(table: string, op: "add" | "delete", uid: number): string {
  const t = `inet ${checkTable(table)}`;
  const net = gearAddresses(checkUid(uid)).loopback.network;
  return [
    `${op} element ${t} gear_uids { ${uid} }`,
    `${op} element ${t} gear_nets { ${net} }`,
    `${op} element ${t} owners { ${net} . ${uid} }`,
    "",
  ].join("\n");
}

/** iptables chain name for a table name. */
export function iptablesChain(table: string): string {
  return checkTable(table).toUpperCase();
}

/** The three iptables rule specs (without -A/-C/-D and chain) of one gear. Pure. */
export function iptablesGearRules(
  table: string,
  uuid: string,
  uid: number,
  district: NodeConfig["district"],
): string[][] {
  validateUuid(uuid);
  const net = gearAddresses(checkUid(uid)).loopback.network;
  const owner = [
    "-m",
    "owner",
    "--uid-owner",
    `${district.firstUid}-${district.maxUid}`,
    "-m",
    "owner",
    "!",
    "--uid-owner",
    String(uid),
  ];
  const tag = ["-m", "comment", "--comment", `geartrain:${uuid}`];
  return [
    ["-d", net, "-p", "tcp", ...owner, ...tag, "-j", "REJECT", "--reject-with", "tcp-reset"],
    ["-d", net, ...owner, ...tag, "-j", "REJECT", "--reject-with", "icmp-admin-prohibited"],
    ["-s", net, ...owner, ...tag, "-j", "DROP"],
  ];
}

// ---------------------------------------------------------------------------------------------------------
// detection

const detected = new WeakMap<NodeConfig, Promise<IsolationSupport>>();

async function probe(argv: string[]): Promise<string | null> {
  if (!existsSync(argv[0]))
    return `${argv[0]} not installed (apt-get install -y ${argv[0].split("/").pop()})`;
  try {
    const r = await run(argv, { timeoutMs: 30_000 });
    if (r.code === 0) return null;
    return `${argv.join(" ")}: ${(r.stderr || r.stdout).trim().split("\n")[0] || `exit ${r.code}`}`;
  } catch (e) {
    return (e as Error).message;
  }
}

async function detect(config: NodeConfig): Promise<IsolationSupport> {
  const want = config.network.isolation;
  if (want === "none") return { mode: "disabled", why: 'network.isolation is "none" in the node config' };
  const reasons: string[] = [];
  if (want === "auto" || want === "nftables") {
    const why = await probe([NFT, "list", "tables"]);
    if (why === null) return { mode: "nftables", why: `nft works (table inet ${config.network.table})` };
    reasons.push(why);
  }
  if (want === "auto" || want === "iptables") {
    const why = await probe([IPTABLES, "-w", "-S", "OUTPUT"]);
    if (why === null)
      return { mode: "iptables", why: `iptables works (chain ${iptablesChain(config.network.table)})` };
    reasons.push(why);
  }
  return { mode: "unavailable", why: reasons.join("; ") };
}

/** What this host can enforce (probed once per config). */
export function isolationSupport(ctx: NodeContext): Promise<IsolationSupport> {
  let p = detected.get(ctx.config);
  if (!p) {
    p = detect(ctx.config);
    detected.set(ctx.config, p);
  }
  return p;
}

/** Thrown when the config asks for a backend this host does not offer. */
export class IsolationUnavailableError extends UnavailableError {
  constructor(why: string) {
    super(`network isolation unavailable: ${why}`);
  }
}

async function usable(ctx: NodeContext): Promise<IsolationSupport> {
  const s = await isolationSupport(ctx);
  const want = ctx.config.network.isolation;
  if (s.mode === "unavailable" && (want === "nftables" || want === "iptables")) {
    throw new IsolationUnavailableError(s.why);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// nftables

interface NftState {
  readonly baseOk: boolean;
  readonly uids: Set<number>;
  readonly nets: Set<string>;
  readonly owners: Set<string>;
}

type NftObj = Record<string, Record<string, unknown>>;

function elemText(e: unknown): string {
  if (typeof e === "number" || typeof e === "string") return String(e);
  const o = e as Record<string, unknown>;
  if (o && typeof o === "object") {
    if (o.prefix) {
      const p = o.prefix as { addr: string; len: number };
      return `${p.addr}/${p.len}`;
    }
    if (Array.isArray(o.concat)) return o.concat.map(elemText).join(" . ");
    if (o.elem) return elemText((o.elem as { val: unknown }).val);
  }
  return JSON.stringify(e);
}

async function nftState(table: string): Promise<NftState | null> {
  const r = await run([NFT, "-j", "list", "table", "inet", table]);
  if (r.code !== 0) {
    if (/No such file or directory/.test(r.stderr)) return null;
    throw new CommandError([NFT, "-j", "list", "table", "inet", table], r);
  }
  const doc = JSON.parse(r.stdout) as { nftables: NftObj[] };
  const sets = new Map<string, string[]>();
  const comments: string[] = [];
  let chain = false;
  for (const o of doc.nftables) {
    if (o.set) sets.set(o.set.name as string, ((o.set.elem as unknown[]) ?? []).map(elemText));
    if (o.chain && o.chain.name === "output" && o.chain.hook === "output") chain = true;
    if (o.rule && o.rule.chain === "output") comments.push((o.rule.comment as string) ?? "");
  }
  const baseOk =
    chain &&
    ["gear_uids", "gear_nets", "owners"].every((s) => sets.has(s)) &&
    comments.length === NFT_RULE_COMMENTS.length &&
    comments.every((c, i) => c === NFT_RULE_COMMENTS[i]);
  return {
    baseOk,
    uids: new Set((sets.get("gear_uids") ?? []).map(Number)),
    nets: new Set(sets.get("gear_nets") ?? []),
    owners: new Set(sets.get("owners") ?? []),
  };
}

async function nftApply(script: string): Promise<void> {
  const argv = [NFT, "-f", "-"];
  const r = await run(argv, { input: script });
  if (r.code !== 0) throw new CommandError(argv, r);
}

function nftHas(st: NftState | null, uid: number): { uid: boolean; net: boolean; owner: boolean } {
  const net = gearAddresses(uid).loopback.network;
  return {
    uid: !!st?.uids.has(uid),
    net: !!st?.nets.has(net),
    owner: !!st?.owners.has(`${net} . ${uid}`),
  };
}

// ---------------------------------------------------------------------------------------------------------
// iptables

async function ipt(args: string[]): Promise<number> {
  const argv = [IPTABLES, "-w", ...args];
  const r = await run(argv);
  if (r.code !== 0 && r.code !== 1) throw new CommandError(argv, r);
  return r.code;
}

async function iptEnsureBase(chain: string): Promise<void> {
  if ((await ipt(["-S", chain])) !== 0) {
    const argv = [IPTABLES, "-w", "-N", chain];
    const r = await run(argv);
    if (r.code !== 0 && !/exists/i.test(r.stderr)) throw new CommandError(argv, r);
  }
  if ((await ipt(["-C", "OUTPUT", "-j", chain])) !== 0) await ipt(["-I", "OUTPUT", "1", "-j", chain]);
}

// ---------------------------------------------------------------------------------------------------------
// gear operations

/**
 * Install the gear's isolation rules (idempotent). Called by gear create/update. A host without netfilter
 * does nothing (and throws only if the config demands a backend). What is enforced is readGearNetwork's:
 * not read back here, as create needs no answer (a list of the table is one more nft start per create).
 */
export async function ensureGearNetwork(ctx: NodeContext, uuid: string, uid: number): Promise<void> {
  validateUuid(uuid);
  checkUid(uid);
  const s = await usable(ctx);
  const { table } = ctx.config.network;
  if (s.mode === "nftables") {
    const st = await nftState(table);
    const has = nftHas(st, uid);
    if (!st?.baseOk || !has.uid || !has.net || !has.owner) {
      await nftApply((st?.baseOk ? "" : renderNftBase(table)) + renderNftGear(table, "add", uid));
    }
  } else if (s.mode === "iptables") {
    const chain = iptablesChain(table);
    await iptEnsureBase(chain);
    for (const rule of iptablesGearRules(table, uuid, uid, ctx.config.district)) {
      if ((await ipt(["-C", chain, ...rule])) !== 0) await ipt(["-A", chain, ...rule]);
    }
  }
}

/** Remove the gear's rules (gone = success). Called by gear destroy. */
export async function removeGearNetwork(ctx: NodeContext, uuid: string, uid: number): Promise<void> {
  validateUuid(uuid);
  checkUid(uid);
  const s = await isolationSupport(ctx);
  const { table } = ctx.config.network;
  if (s.mode === "nftables") {
    // all three elements are there (every destroy after a create): one nft start; else delete what is
    if ((await run([NFT, "-f", "-"], { input: renderNftGear(table, "delete", uid) })).code === 0) return;
    const st = await nftState(table);
    if (!st) return;
    const has = nftHas(st, uid);
    const net = gearAddresses(uid).loopback.network;
    const t = `inet ${table}`;
    const lines = [
      has.owner ? `delete element ${t} owners { ${net} . ${uid} }` : "",
      has.net ? `delete element ${t} gear_nets { ${net} }` : "",
      has.uid ? `delete element ${t} gear_uids { ${uid} }` : "",
    ].filter(Boolean);
    if (lines.length) await nftApply(lines.join("\n") + "\n");
  } else if (s.mode === "iptables") {
    const chain = iptablesChain(table);
    if ((await ipt(["-S", chain])) !== 0) return;
    for (const rule of iptablesGearRules(table, uuid, uid, ctx.config.district)) {
      while ((await ipt(["-C", chain, ...rule])) === 0) await ipt(["-D", chain, ...rule]);
    }
  }
}

/** What is actually installed for the gear (read back from the kernel). */
export async function readGearNetwork(ctx: NodeContext, uuid: string, uid: number): Promise<NetworkState> {
  const s = await isolationSupport(ctx);
  const { table } = ctx.config.network;
  if (s.mode === "nftables") {
    const st = await nftState(table);
    const has = nftHas(st, uid);
    const missing = [
      !st ? `table inet ${table}` : !st.baseOk ? `rules of chain inet ${table} output` : "",
      has.uid ? "" : "gear_uids element",
      has.net ? "" : "gear_nets element",
      has.owner ? "" : "owners element",
    ].filter(Boolean);
    return missing.length
      ? { mode: s.mode, enforced: false, detail: `missing: ${missing.join(", ")}` }
      : {
          mode: s.mode,
          enforced: true,
          detail: `nftables table inet ${table}: other gears cannot connect to ${gearAddresses(uid).loopback.network}; bind is not restricted (no SELinux), but traffic from a squatted address is dropped`,
        };
  }
  if (s.mode === "iptables") {
    const chain = iptablesChain(table);
    const rules = iptablesGearRules(table, uuid, uid, ctx.config.district);
    let present = 0;
    const hooked = (await ipt(["-S", chain])) === 0 && (await ipt(["-C", "OUTPUT", "-j", chain])) === 0;
    if (hooked) for (const r of rules) if ((await ipt(["-C", chain, ...r])) === 0) present++;
    return present === rules.length
      ? {
          mode: s.mode,
          enforced: true,
          detail: `iptables chain ${chain}: other gears cannot connect to ${gearAddresses(uid).loopback.network}; bind is not restricted (no SELinux), but traffic from a squatted address is dropped`,
        }
      : {
          mode: s.mode,
          enforced: false,
          detail: hooked
            ? `missing: ${rules.length - present} of ${rules.length} rules`
            : `missing: chain ${chain} or its jump from OUTPUT`,
        };
  }
  return { mode: s.mode, enforced: false, detail: s.why };
}

/** Drift of a network state read back: a backend that works but lacks the rules. Pure. */
export function networkDrift(state: NetworkState): Drift[] {
  if ((state.mode === "nftables" || state.mode === "iptables") && !state.enforced)
    return [{ field: "network", expected: "isolation rules installed", actual: state.detail }];
  return [];
}

/** UIDs of this node's district that have isolation rules installed, for the node check (leftovers). */
export async function listNetworkUids(ctx: NodeContext): Promise<number[]> {
  const s = await isolationSupport(ctx);
  const { firstUid, maxUid } = ctx.config.district;
  let uids: number[] = [];
  if (s.mode === "nftables") {
    const st = await nftState(ctx.config.network.table);
    uids = st ? [...st.uids] : [];
  } else if (s.mode === "iptables") {
    const argv = [IPTABLES, "-w", "-S", iptablesChain(ctx.config.network.table)];
    const r = await run(argv);
    if (r.code === 0) uids = [...r.stdout.matchAll(/! --uid-owner (\d+)/g)].map((m) => Number(m[1]));
  }
  return [...new Set(uids)].filter((u) => u >= firstUid && u <= maxUid).sort((a, b) => a - b);
}

/** One line for the node check / docs: what the node enforces. */
export async function isolationSummary(ctx: NodeContext): Promise<string> {
  const s = await isolationSupport(ctx);
  if (s.mode === "nftables" || s.mode === "iptables") {
    const bind =
      ctx.selinux === "unavailable"
        ? "bind unenforced (no SELinux)"
        : `bind limited to the gear's own /25 by SELinux ${ctx.selinux} (node labels, module geartrain_nodes)`;
    return `${s.mode}: connect to another gear's private IP refused; ${bind}, replies from a squatted address dropped`;
  }
  return `${s.mode} (${s.why})`;
}
