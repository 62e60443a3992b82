// The `assets` and `archive` outputs of a local command: the files under its directory that
// `assetPaths`/`archivePaths` select (globs.ts), read after the command succeeded, as upstream does.
// Each file becomes a path asset with its SHA-256 hash; the archive is an asset archive of them.

import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { specialArchiveSig, specialAssetSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { selectPaths } from "./globs";
import { WireMap } from "./wire";

/**
 * Files under `dir`, relative and "/"-separated. Like upstream's walk, directories are entered but
 * links to directories are not; a link to a file counts as a file.
 */
export function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true })) {
      const rel = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else if (entry.isFile() || (entry.isSymbolicLink() && isFile(path.join(dir, rel)))) found.push(rel);
    }
  };
  walk("");
  return found.sort();
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function pathAsset(file: string): WireMap {
  const hash = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  return { [specialSigKey]: specialAssetSig, path: file, hash };
}

function assetsOf(dir: string, files: readonly string[]): WireMap {
  return Object.fromEntries(files.map((f) => [f, pathAsset(path.join(dir, f))]));
}

export interface CollectedFiles {
  assets?: WireMap;
  archive?: WireMap;
}

/** The outputs for the given globs (each set only when its input is), for a command run in `dir`. */
export function collectFiles(dir: string, assetPaths?: string[], archivePaths?: string[]): CollectedFiles {
  if (!assetPaths && !archivePaths) return {};
  const files = filesUnder(dir);
  const out: CollectedFiles = {};
  if (assetPaths) out.assets = assetsOf(dir, selectPaths(files, assetPaths));
  if (archivePaths) {
    out.archive = {
      [specialSigKey]: specialArchiveSig,
      assets: assetsOf(dir, selectPaths(files, archivePaths)),
    };
  }
  return out;
}
