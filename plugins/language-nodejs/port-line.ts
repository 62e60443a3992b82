// A plugin announces its gRPC port as the first line of its stdout. This splits that line off a
// stream of chunks, so what follows can go on to the engine untouched.

export class PortLine {
  private head = "";
  private done = false;

  /**
   * Feeds one stdout chunk. Returns the port line (without the newline) once it is complete, and the
   * bytes after it; before that, nothing; after that, the chunk itself as `rest`.
   */
  feed(chunk: Buffer): { line?: string; rest: Buffer } {
    if (this.done) return { rest: chunk };
    const newline = chunk.indexOf(0x0a);
    if (newline < 0) {
      this.head += chunk.toString("utf8");
      return { rest: Buffer.alloc(0) };
    }
    this.done = true;
    const line = this.head + chunk.subarray(0, newline).toString("utf8");
    this.head = "";
    return { line, rest: chunk.subarray(newline + 1) };
  }
}

/** A TCP port as a plugin prints it (surrounding whitespace allowed), or undefined. */
export function parsePort(line: string): number | undefined {
  const text = line.trim();
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port > 0 && port <= 65535 ? port : undefined;
}
