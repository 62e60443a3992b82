// The hostile gear of the test/node/hostile-*.test.ts files: a small C program, compiled here with gcc, that
// a real gear process runs (through spawnInGear: the gear's uid, cgroup and umask) to race what root does to
// the gear's files. Also victim directories outside the gear and their fingerprints.

import { execFileSync, type ChildProcess } from "child_process";
import { randomBytes } from "crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "fs";
import * as path from "path";
import type { NodeContext } from "../../node/context";
import { createGear } from "../../node/gear/lifecycle";
import { runInGear, spawnInGear } from "../../node/gear/run-in-gear";
import { newUuid, type TestNode } from "./helpers";

/**
 * fill DIR N          mkdir DIR and create N files named v00000 … (the victims' names) in it
 * swap-on-delete DIR T   once DIR exists, create DIR/.armed; as soon as an entry of DIR is deleted: rename DIR
 *                     to DIR.moved and symlink T at DIR
 * exchange DIR A B    swap DIR/A and DIR/B with renameat2(RENAME_EXCHANGE) in a tight loop until killed
 * Each prints "armed" once it is in place (the test waits for it); swap-on-delete prints "started" before.
 */
const ATTACKER_C = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static void armed(void) { printf("armed\n"); fflush(stdout); }

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "fill") == 0) {
    if (mkdir(argv[2], 0700) != 0) { perror("mkdir"); return 1; }
    int n = atoi(argv[3]);
    char p[PATH_MAX];
    for (int i = 0; i < n; i++) {
      snprintf(p, sizeof p, "%s/v%05d", argv[2], i);
      int fd = open(p, O_CREAT | O_WRONLY | O_EXCL, 0600);
      if (fd < 0) { perror(p); return 1; }
      close(fd);
    }
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "swap-on-delete") == 0) {
    int in = inotify_init();
    printf("started\n");
    fflush(stdout);
    while (inotify_add_watch(in, argv[2], IN_DELETE) < 0) usleep(500);
    char flag[PATH_MAX];
    snprintf(flag, sizeof flag, "%s/.armed", argv[2]);
    close(open(flag, O_CREAT | O_WRONLY, 0600));
    armed();
    char buf[4096];
    if (read(in, buf, sizeof buf) <= 0) return 1;
    char moved[PATH_MAX];
    snprintf(moved, sizeof moved, "%s.moved", argv[2]);
    if (rename(argv[2], moved) != 0) { perror("rename"); return 1; }
    if (symlink(argv[3], argv[2]) != 0) { perror("symlink"); return 1; }
    printf("swapped\n");
    fflush(stdout);
    pause();
    return 0;
  }
  if (argc == 5 && strcmp(argv[1], "exchange") == 0) {
    int d = open(argv[2], O_RDONLY | O_DIRECTORY);
    if (d < 0) { perror(argv[2]); return 1; }
    int first = 1;
    for (;;) {
      if (syscall(SYS_renameat2, d, argv[3], d, argv[4], RENAME_EXCHANGE) == 0 && first) {
        armed();
        first = 0;
      }
    }
  }
  fprintf(stderr, "usage: fill DIR N | swap-on-delete DIR TARGET | exchange DIR A B\n");
  return 2;
}
`;

/** Compile the attacker into `dir` (which gear users can reach); returns the binary's path. */
export function buildAttacker(dir: string): string {
  if (!existsSync("/usr/bin/gcc"))
    throw new Error("the hostile-gear tests compile their attacker with gcc. Fix: apt-get install -y gcc");
  const src = path.join(dir, "attacker.c");
  const bin = path.join(dir, "attacker");
  writeFileSync(src, ATTACKER_C);
  execFileSync("/usr/bin/gcc", ["-O2", "-Wall", "-o", bin, src]);
  return bin;
}

/** A gear process running the attacker; resolves once it printed `ready` ("armed" by default). */
export interface Attacker {
  readonly child: ChildProcess;
  /** everything it printed so far */
  output(): string;
  /** resolves with the output once it contains `text` (or rejects after `ms`) */
  waitFor(text: string, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startAttacker(
  ctx: NodeContext,
  uuid: string,
  bin: string,
  args: readonly string[],
  ready = "armed",
): Promise<Attacker> {
  const child = await spawnInGear(ctx, uuid, [bin, ...args]);
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`attacker not ${ready} after 10 s: ${out}`)), 10_000);
    const check = () => {
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!out.includes(ready)) reject(new Error(`attacker exited ${code}: ${out}`));
    });
  });
  return {
    child,
    output: () => out,
    async waitFor(text, ms = 5000) {
      for (const t0 = Date.now(); !out.includes(text);) {
        if (Date.now() - t0 > ms) throw new Error(`attacker did not print ${text} within ${ms} ms: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return out;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Run argv to completion as the gear; throws with its stderr when it fails. */
export async function asGear(ctx: NodeContext, uuid: string, argv: readonly string[], timeoutMs = 30_000) {
  const r = await runInGear(ctx, uuid, [...argv], { timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed (${r.code}): ${r.stderr}`);
}

/** Run the attacker to completion as the gear (fill). */
export async function runAttacker(ctx: NodeContext, uuid: string, bin: string, args: readonly string[]) {
  await asGear(ctx, uuid, [bin, ...args], 60_000);
}

/** A small gear `myapp-dev` with the i-th UID of the node, and its bare repository. */
export async function plainGear(node: TestNode, i: number): Promise<{ uuid: string; repo: string }> {
  const uuid = newUuid();
  await createGear(
    node.ctx,
    { uuid, uid: node.uid(i), app: "myapp", namespace: "dev", profile: "small" },
    { inspect: false },
  );
  return { uuid, repo: path.join(node.config.gearBaseDir, uuid, "git", "myapp.git") };
}

/** What changed between two fingerprints: counts and the first few paths (small enough for a failure). */
export function changes(before: readonly string[], after: readonly string[]) {
  const a = new Set(after);
  const b = new Set(before);
  const missing = before.filter((x) => !a.has(x));
  const added = after.filter((x) => !b.has(x));
  return { missing: missing.length, added: added.length, first: [...missing, ...added].slice(0, 5) };
}

export const UNCHANGED = { missing: 0, added: 0, first: [] };

/** A root-owned directory outside every gear with `count` files v00000 … (the names the gear copies). */
export function makeVictimDir(parent: string, count: number): string {
  const dir = mkdtempSync(path.join(parent, "victim-"));
  for (let i = 0; i < count; i++) writeFileSync(path.join(dir, `v${String(i).padStart(5, "0")}`), "keep\n");
  return dir;
}

/** Names and types in a directory tree, for "unchanged" assertions. */
export function fingerprint(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      const st = lstatSync(path.join(dir, r));
      out.push(`${st.isDirectory() ? "d" : st.isFile() ? "f" : "o"} ${r}`);
      if (st.isDirectory()) walk(r);
    }
  };
  walk("");
  return out;
}

/** A root-only file (0600 in a 0700 directory) with a random secret; returns its path and content. */
export function makeSecret(parent: string): { file: string; secret: string } {
  const dir = path.join(parent, `secret-${randomBytes(4).toString("hex")}`);
  mkdirSync(dir, { mode: 0o700 });
  const secret = `TOPSECRET-${randomBytes(12).toString("hex")}`;
  const file = path.join(dir, "shadow");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  if (readFileSync(file, "utf8") !== `${secret}\n`) throw new Error("secret not written");
  return { file, secret };
}

/** Reject if `p` does not settle within `ms` (the operation under test may hang: that is the finding). */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, bound]);
  } finally {
    clearTimeout(timer);
  }
}
