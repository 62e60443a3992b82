// A deterministic tar (POSIX ustar, pax `path`/`linkpath` records for long names): headers only, pure. Every
// entry is owned by 0:0 (root), has a fixed mtime and mode 0755 or 0644, so the same files give the same
// bytes on any machine. bundle.ts streams the contents between the headers.

export const BLOCK = 512;
/** 2000-01-01T00:00:00Z: every entry's mtime (a fixed, plausible date; tar warns about 0 on some systems). */
export const FIXED_MTIME = 946684800;

export type TarEntry =
  | { readonly type: "file"; readonly path: string; readonly size: number; readonly executable: boolean }
  | { readonly type: "directory"; readonly path: string }
  | { readonly type: "symlink"; readonly path: string; readonly target: string };

function octal(value: number, width: number): string {
  // width - 1 digits, then NUL
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: ${value} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, "0") + "\0";
}

function write(buf: Buffer, offset: number, width: number, text: string): void {
  const b = Buffer.from(text, "utf8");
  if (b.length > width) throw new Error(`tar: '${text}' does not fit in ${width} bytes`);
  b.copy(buf, offset);
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a '/', or null if it cannot. */
export function splitUstarPath(p: string): { prefix: string; name: string } | null {
  if (Buffer.byteLength(p) <= 100) return { prefix: "", name: p };
  for (let i = p.indexOf("/"); i !== -1; i = p.indexOf("/", i + 1)) {
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0)
      return { prefix, name };
  }
  return null;
}

function header(
  name: string,
  prefix: string,
  size: number,
  mode: number,
  type: string,
  link: string,
): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  write(h, 0, 100, name);
  write(h, 100, 8, octal(mode, 8));
  write(h, 108, 8, octal(0, 8));
  write(h, 116, 8, octal(0, 8));
  write(h, 124, 12, octal(size, 12));
  write(h, 136, 12, octal(FIXED_MTIME, 12));
  write(h, 148, 8, "        ");
  write(h, 156, 1, type);
  write(h, 157, 100, link);
  write(h, 257, 6, "ustar\0");
  write(h, 263, 2, "00");
  write(h, 265, 32, "root");
  write(h, 297, 32, "root");
  write(h, 329, 8, octal(0, 8));
  write(h, 337, 8, octal(0, 8));
  write(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  write(h, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return h;
}

/** One pax record, "<len> key=value\n", where len counts the whole record including itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len)
    len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

/** Zero bytes that pad `size` bytes of content up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
}

/** The header block(s) of one entry: a pax header first when the path or link target does not fit ustar. */
export function entryHeader(e: TarEntry): Buffer {
  const path = e.type === "directory" ? `${e.path.replace(/\/$/, "")}/` : e.path;
  if (!path || path.startsWith("/") || path.split("/").includes("..")) {
    throw new Error(`tar: entry path '${e.path}' must be relative with no '..'`);
  }
  const link = e.type === "symlink" ? e.target : "";
  const split = splitUstarPath(path);
  const records: string[] = [];
  if (!split) records.push(paxRecord("path", path));
  if (Buffer.byteLength(link) > 100) records.push(paxRecord("linkpath", link));
  const { prefix, name } = split ?? { prefix: "", name: path.slice(-100).replace(/^[^/]*\//, "") };
  const ustarLink = Buffer.byteLength(link) > 100 ? "" : link;
  const mode = e.type === "file" ? (e.executable ? 0o755 : 0o644) : e.type === "directory" ? 0o755 : 0o777;
  const type = e.type === "file" ? "0" : e.type === "directory" ? "5" : "2";
  const size = e.type === "file" ? e.size : 0;
  const main = header(name.slice(0, 100), prefix, size, mode, type, ustarLink);
  if (!records.length) return main;
  const pax = Buffer.from(records.join(""), "utf8");
  const paxName = `PaxHeaders/${name.slice(0, 80)}`;
  return Buffer.concat([header(paxName, "", pax.length, 0o644, "x", ""), pax, padding(pax.length), main]);
}

/** The end of an archive: two zero blocks. */
export function trailer(): Buffer {
  return Buffer.alloc(2 * BLOCK, 0);
}
