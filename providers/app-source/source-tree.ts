// Reads a source directory as the files AppSource pushes (model.ts SourceFile): regular files and
// directories only, depth first, without `.git` and `node_modules`. A link, a device or a tree too large is
// refused naming its path, so what is pushed is exactly what the hash covers. Used by the program (the hash,
// when the resource is declared) and by the provider (the files, at push time).

import * as fs from "fs";
import * as path from "path";
import { ValidationError } from "../../common/errors";
import { SKIPPED_DIRECTORIES, sourceHash, type SourceFile } from "./model";

/** What a pushed tree may hold: enough for an application's sources, not an accident (a disk image). */
const MAX_FILES = 5000;
const MAX_BYTES = 64 * 1024 * 1024;

/** The directory's files; throws a ValidationError naming `field` when it cannot be pushed as it is. */
export function readSourceTree(directory: string, field = "source"): SourceFile[] {
  const files: SourceFile[] = [];
  let bytes = 0;
  const walk = (rel: string): void => {
    const dir = path.join(directory, rel);
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name)) walk(relPath);
        continue;
      }
      if (!entry.isFile())
        throw new ValidationError(
          field,
          `${relPath} in ${directory} is not a regular file (links are not pushed)`,
        );
      const full = path.join(directory, relPath);
      const st = fs.statSync(full);
      bytes += st.size;
      if (files.length >= MAX_FILES || bytes > MAX_BYTES)
        throw new ValidationError(
          field,
          `${directory} has more than ${MAX_FILES} files or ${MAX_BYTES} bytes`,
        );
      files.push({ path: relPath, executable: (st.mode & 0o111) !== 0, content: fs.readFileSync(full) });
    }
  };
  if (!fs.statSync(directory).isDirectory())
    throw new ValidationError(field, `${directory} is not a directory`);
  walk("");
  if (files.length === 0) throw new ValidationError(field, `${directory} has no files to push`);
  return files;
}

/** The content hash of the directory (model.ts sourceHash). */
export function hashSourceDirectory(directory: string, field = "source"): string {
  return sourceHash(readSourceTree(directory, field));
}
