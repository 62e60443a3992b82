// command:remote:CopyToRemote over SFTP.
//
// Placement rules (the SDK's documentation of `remotePath`, made deterministic so that a re-copy
// lands where the first copy did):
//   StringAsset             -> written to remotePath (an existing directory there is an error).
//   FileAsset, FileArchive of a file
//                           -> into remotePath/<basename> when remotePath is an existing directory or
//                              ends with "/", else written to remotePath.
//   FileArchive of a directory "dir"  -> copied as remotePath/dir (remotePath is created if missing).
//   FileArchive of "dir/" (trailing slash) -> the directory's contents are copied into remotePath.
// Missing parent directories are created. Existing files are overwritten in place (their mode is
// kept); remote files that are not in the source are left alone.

import * as fs from "fs";
import * as path from "path";
import { Client, SFTPWrapper, Stats } from "ssh2";
import { isArchive, isAsset } from "./wire";

export type CopySource =
  | { kind: "text"; text: string; secret: boolean }
  | { kind: "file"; path: string }
  | { kind: "dir"; path: string; contentsOnly: boolean };

/**
 * Reason a `source` value cannot be copied, or undefined. Only called on known values.
 */
export function sourceProblem(source: unknown): string | undefined {
  if (isAsset(source)) {
    if (typeof source["text"] === "string" || typeof source["path"] === "string") {
      return undefined;
    }
    if (typeof source["uri"] === "string") {
      return "a RemoteAsset cannot be copied: use a FileAsset or a StringAsset";
    }
    return "the asset has no text and no path";
  }
  if (isArchive(source)) {
    if (typeof source["path"] === "string") {
      return undefined;
    }
    if (typeof source["uri"] === "string") {
      return "a RemoteArchive cannot be copied: use a FileArchive";
    }
    return "an AssetArchive cannot be copied: use a FileArchive of a directory";
  }
  return "source must be a FileAsset, a StringAsset or a FileArchive";
}

/** Resolves the wire `source` (relative paths against the program directory, our cwd). */
export function resolveSource(source: unknown, secret: boolean): CopySource {
  const problem = sourceProblem(source);
  if (problem) {
    throw new Error(problem);
  }
  const s = source as Record<string, unknown>;
  if (isAsset(s) && typeof s["text"] === "string" && typeof s["path"] !== "string") {
    return { kind: "text", text: s["text"], secret };
  }
  const rawPath = s["path"] as string;
  const abs = path.resolve(rawPath);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new Error(`source path ${JSON.stringify(rawPath)} does not exist (resolved to ${abs})`);
  }
  if (st.isDirectory()) {
    if (isAsset(s)) {
      throw new Error(`source FileAsset ${JSON.stringify(rawPath)} is a directory: use a FileArchive`);
    }
    return { kind: "dir", path: abs, contentsOnly: /[/\\]$/.test(rawPath) };
  }
  if (!st.isFile()) {
    throw new Error(`source path ${JSON.stringify(rawPath)} is neither a regular file nor a directory`);
  }
  return { kind: "file", path: abs };
}

// --- promisified SFTP -------------------------------------------------------------------------

const NO_SUCH_FILE = 2; // SSH_FX_NO_SUCH_FILE

function statOrUndefined(sftp: SFTPWrapper, p: string): Promise<Stats | undefined> {
  return new Promise((resolve, reject) => {
    sftp.stat(p, (err, st) => {
      if (err) {
        if ((err as Error & { code?: number }).code === NO_SUCH_FILE) {
          resolve(undefined);
        } else {
          reject(new Error(`cannot stat remote ${p}: ${err.message}`));
        }
      } else {
        resolve(st);
      }
    });
  });
}

function mkdirOne(sftp: SFTPWrapper, p: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.mkdir(p, { mode: 0o755 }, (err) =>
      err ? reject(new Error(`cannot create remote directory ${p}: ${err.message}`)) : resolve(),
    );
  });
}

/** `mkdir -p` over SFTP; an existing non-directory on the way is an error. */
export async function mkdirp(sftp: SFTPWrapper, dir: string): Promise<void> {
  const parts = dir.split("/").filter((p) => p !== "" && p !== ".");
  let cur = dir.startsWith("/") ? "" : ".";
  for (const part of parts) {
    cur = cur === "" ? `/${part}` : `${cur}/${part}`;
    const st = await statOrUndefined(sftp, cur);
    if (!st) {
      try {
        await mkdirOne(sftp, cur);
      } catch (e) {
        // Lost a race with another writer? Fine if it is a directory now.
        const again = await statOrUndefined(sftp, cur);
        if (!again?.isDirectory()) {
          throw e;
        }
      }
    } else if (!st.isDirectory()) {
      throw new Error(`remote path ${cur} exists and is not a directory`);
    }
  }
}

function openForWrite(sftp: SFTPWrapper, p: string, mode: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // "w" = create or truncate. The mode only applies when the file is created.
    sftp.open(p, "w", { mode }, (err, handle) =>
      err ? reject(new Error(`cannot open remote ${p} for writing: ${err.message}`)) : resolve(handle),
    );
  });
}

function writeAt(
  sftp: SFTPWrapper,
  handle: Buffer,
  data: Buffer,
  position: number,
  p: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.write(handle, data, 0, data.length, position, (err) =>
      err ? reject(new Error(`cannot write remote ${p}: ${err.message}`)) : resolve(),
    );
  });
}

function closeHandle(sftp: SFTPWrapper, handle: Buffer, p: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sftp.close(handle, (err) =>
      err ? reject(new Error(`cannot close remote ${p}: ${err.message}`)) : resolve(),
    );
  });
}

const CHUNK = 32 * 1024;

async function writeChunks(
  sftp: SFTPWrapper,
  remote: string,
  mode: number,
  chunks: AsyncIterable<Buffer>,
): Promise<void> {
  const existing = await statOrUndefined(sftp, remote);
  if (existing?.isDirectory()) {
    throw new Error(`remote path ${remote} is a directory; cannot overwrite it with a file`);
  }
  const handle = await openForWrite(sftp, remote, mode);
  let pos = 0;
  try {
    for await (const chunk of chunks) {
      for (let off = 0; off < chunk.length; off += CHUNK) {
        const part = chunk.subarray(off, Math.min(off + CHUNK, chunk.length));
        await writeAt(sftp, handle, part, pos, remote);
        pos += part.length;
      }
    }
  } finally {
    await closeHandle(sftp, handle, remote);
  }
}

async function* once(buf: Buffer): AsyncIterable<Buffer> {
  yield buf;
}

async function putFile(sftp: SFTPWrapper, local: string, remote: string): Promise<void> {
  const mode = fs.statSync(local).mode & 0o777;
  await writeChunks(sftp, remote, mode, fs.createReadStream(local, { highWaterMark: CHUNK }));
}

async function putTree(sftp: SFTPWrapper, localDir: string, remoteDir: string): Promise<void> {
  await mkdirp(sftp, remoteDir);
  const entries = fs.readdirSync(localDir).sort();
  for (const name of entries) {
    const local = path.join(localDir, name);
    const remote = `${remoteDir.replace(/\/+$/, "")}/${name}`;
    const st = fs.statSync(local); // follows symlinks: the target's content is copied
    if (st.isDirectory()) {
      await putTree(sftp, local, remote);
    } else if (st.isFile()) {
      await putFile(sftp, local, remote);
    }
    // sockets, fifos and devices are skipped
  }
}

function posixDirname(p: string): string {
  const d = path.posix.dirname(p);
  return d;
}

function getSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (err) {
        reject(new Error(`cannot start SFTP (is the sftp subsystem enabled in sshd?): ${err.message}`));
        return;
      }
      // Failures surface through the operation callbacks; an unhandled 'error' event would crash the plugin.
      sftp.on("error", () => undefined);
      resolve(sftp);
    });
  });
}

/** Copies `source` to `remotePath` following the placement rules above. Returns the written path. */
export async function copyToRemote(client: Client, source: CopySource, remotePath: string): Promise<string> {
  if (remotePath === "") {
    throw new Error("remotePath must not be empty");
  }
  const sftp = await getSftp(client);
  try {
    const trailingSlash = remotePath.endsWith("/");
    const clean = remotePath.length > 1 ? remotePath.replace(/\/+$/, "") : remotePath;
    const existing = await statOrUndefined(sftp, clean);
    switch (source.kind) {
      case "text": {
        if (trailingSlash || existing?.isDirectory()) {
          throw new Error(
            `remotePath ${remotePath} is a directory; a StringAsset has no file name, so remotePath must be the file's path`,
          );
        }
        await mkdirp(sftp, posixDirname(clean));
        await writeChunks(sftp, clean, source.secret ? 0o600 : 0o644, once(Buffer.from(source.text, "utf8")));
        return clean;
      }
      case "file": {
        let dest = clean;
        if (trailingSlash || existing?.isDirectory()) {
          await mkdirp(sftp, clean);
          dest = `${clean.replace(/\/$/, "")}/${path.basename(source.path)}`;
        } else {
          await mkdirp(sftp, posixDirname(clean));
        }
        await putFile(sftp, source.path, dest);
        return dest;
      }
      case "dir": {
        if (existing && !existing.isDirectory()) {
          throw new Error(`remotePath ${remotePath} is an existing file; cannot copy a directory onto it`);
        }
        await mkdirp(sftp, clean);
        const dest = source.contentsOnly
          ? clean
          : `${clean.replace(/\/$/, "")}/${path.basename(source.path)}`;
        await putTree(sftp, source.path, dest);
        return dest;
      }
    }
  } finally {
    sftp.end();
  }
}
