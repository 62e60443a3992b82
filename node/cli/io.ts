// Input and output shared by the `geartrain node ...` command modules: JSON out, JSON requests in.

/** Writes `value` as indented JSON on stdout: every node command's result format. */
export function out(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Reads all of stdin; when stdin is a terminal there is no request to read, so `onTerminal()` is thrown. */
export async function readAllStdin(onTerminal: () => Error): Promise<string> {
  if (process.stdin.isTTY) throw onTerminal();
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
