// File system reads for the directory checks: scripts (mode, #! line), templates, and directory listings
// that treat a missing path as empty.
import { constants, promises as fs, type Dirent } from "fs";
import * as path from "path";
import type { CartridgeProblem } from "../manifest";

/** Directories whose .hbs files belong to the application or shared libraries, not to the cartridge. */
const NOT_CARTRIDGE_TEMPLATES = new Set(["template", "template.git", "usr"]);

export async function findTemplates(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relDir: string): Promise<void> => {
    for (const entry of await listDir(path.join(dir, relDir))) {
      if (entry.name.startsWith(".")) continue;
      const relPath = relDir === "" ? entry.name : path.join(relDir, entry.name);
      if (entry.isDirectory()) {
        if (NOT_CARTRIDGE_TEMPLATES.has(entry.name) && (relDir === "" || entry.name !== "usr")) continue;
        await walk(relPath);
      } else if (entry.isFile() && entry.name.endsWith(".hbs")) {
        found.push(relPath);
      }
    }
  };
  await walk("");
  return found.sort();
}

/** A script must be a regular file, executable by its owner, starting with #! (LF line ending) or ELF. */
export async function executableProblems(
  dir: string,
  file: string,
  required: boolean,
): Promise<{ exists: boolean; problems: CartridgeProblem[] }> {
  const full = path.join(dir, file);
  const problem = (message: string) => ({ file: full, path: "", message });
  const st = await statOrUndefined(full);
  if (!st) {
    const dangling = (await lstatOrUndefined(full)) !== undefined;
    if (dangling)
      return {
        exists: false,
        problems: [
          problem("expected an executable script, got a broken symbolic link (fix the link target)"),
        ],
      };
    return {
      exists: false,
      problems: required
        ? [problem(`missing; expected an executable script (create it and run chmod +x ${file})`)]
        : [],
    };
  }
  if (!st.isFile())
    return {
      exists: false,
      problems: [
        problem("expected an executable file, got a directory or special file (replace it with a script)"),
      ],
    };
  const problems: CartridgeProblem[] = [];
  if ((st.mode & constants.S_IXUSR) === 0)
    problems.push(
      problem(
        `expected an executable file, got mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")} (run chmod +x ${file})`,
      ),
    );
  const handle = await fs.open(full, "r");
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const isElf = head.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  if (!isElf) {
    const text = head.toString("latin1");
    if (!text.startsWith("#!"))
      problems.push(
        problem(
          "expected a script starting with an interpreter line such as #!/bin/bash, or a binary (add the #! line)",
        ),
      );
    else if (/^[^\n]*\r/.test(text))
      problems.push(
        problem(
          "expected Unix line endings, got CRLF on the #! line (convert the file: sed -i 's/\\r$//' " +
            file +
            ")",
        ),
      );
  }
  return { exists: true, problems };
}

export async function statOrUndefined(p: string) {
  try {
    return await fs.stat(p);
  } catch {
    return undefined;
  }
}

async function lstatOrUndefined(p: string) {
  try {
    return await fs.lstat(p);
  } catch {
    return undefined;
  }
}

export async function readTextOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Entries of a directory sorted by name, or none when it does not exist. */
export async function listDir(p: string): Promise<Dirent[]> {
  try {
    const entries = await fs.readdir(p, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw err;
  }
}
