// What the benchmarks share: percentiles and table rows, the clock, the machine's load (printed with every
// figure: the VM is shared), the node a benchmark runs on (a test node of test/node/helpers.ts, so it has its
// own directory, cgroup name prefix, UID block and netfilter table, and is torn down the way the tests are), and
// the poll of the private nginx until it serves what a run waits for.

import { readFileSync } from "fs";
import * as http from "http";
import * as os from "os";
import type { NodeContext } from "../node/context";
import { makeTestNode, type TestNode } from "../test/node/helpers";

/** The p-th percentile of xs (nearest rank; with 10 values p95 is the largest). */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Milliseconds `f` took. */
export async function clock(f: () => Promise<unknown>): Promise<number> {
  const s = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - s) / 1e6;
}

export interface LatencyRow {
  readonly name: string;
  readonly p50: number;
  readonly p95: number;
  readonly min: number;
  readonly max: number;
}

/** One line of a latency table, rounded to `digits`. */
export function row(name: string, xs: readonly number[], digits = 0): LatencyRow {
  const r = (x: number) => +x.toFixed(digits);
  return { name, p50: r(pct(xs, 50)), p95: r(pct(xs, 95)), min: r(Math.min(...xs)), max: r(Math.max(...xs)) };
}

/** a / b at the p-th percentile, two decimals. */
export function ratio(a: readonly number[], b: readonly number[], p: number): number {
  return +(pct(a, p) / pct(b, p)).toFixed(2);
}

/** The 1, 5 and 15 minute load averages, as /proc/loadavg has them. */
export function loadAvg(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

/** The machine a figure was taken on: printed at the start and end of every benchmark. */
export function hostInfo(ctx: NodeContext): { cpus: number; loadavg: string; cgroup: string } {
  return { cpus: os.cpus().length, loadavg: loadAvg(), cgroup: ctx.cgroup.version };
}

/**
 * The node a benchmark runs on: a test node (makeTestNode) named `bench_<name>`, with the UID block from
 * `firstUid` (docs/node-operations.md lists the blocks); `extra` is merged into its config. Its gears carry
 * the GECOS `Geartrain bench gear`, which no test's cleanup removes.
 */
export function benchNode(
  name: string,
  firstUid: number,
  extra: Record<string, unknown> = {},
): Promise<TestNode> {
  if (process.getuid?.() !== 0) throw new Error("run the benchmarks as root");
  return makeTestNode(`bench_${name}`, firstUid, { gecos: BENCH_GECOS, ...extra });
}

export const BENCH_GECOS = "Geartrain bench gear";

/** GET / from the private nginx on 127.0.0.1:`port` for `host`: "<status> <body>", or "error <why>". */
export function getBody(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: "127.0.0.1", port, path: "/", headers: { host }, agent: false, timeout: 5000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve(`${res.statusCode} ${body}`));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve(`error ${e.message}`));
  });
}

/** Poll every 10 ms until `served(<status> <body>)` holds; throws after `timeoutMs`. */
export async function untilServed(
  port: number,
  host: string,
  served: (got: string) => boolean,
  timeoutMs = 120_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await getBody(port, host);
    if (served(got)) return;
    if (Date.now() > end)
      throw new Error(`${host}: not served as expected within ${timeoutMs} ms (last: ${got})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs a benchmark's main; a failure prints and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
