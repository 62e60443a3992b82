// Processes a test left behind, read from /proc.
import * as fs from "fs";

/** Live processes (not zombies) whose working directory is `dir` or below it, or whose argv names it. */
export function processesUnder(dir: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      if (/^\d+ \(.*\) Z /.test(stat)) continue;
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cwd === dir || cwd.startsWith(dir + "/") || argv.includes(dir)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  return found;
}
