// Cartridge directory checks (reads files): metadata/, bin/ and hooks/ scripts, env/, Handlebars templates
// and versions/. Every problem is collected, in the same one-line form as the manifest's.
import * as path from "path";
import { promises as fs } from "fs";
import { DEFAULT_ENV_PREFIX } from "../../common/env-names";
import { deepFreeze } from "../../common/deep-freeze";
import {
  CARTRIDGE_SCRIPTS,
  CartridgeError,
  MANAGED_FILES_FILE,
  MANIFEST_FILE,
  manifestTextProblems,
  parseManagedFiles,
  REQUIRED_SCRIPTS,
  softwareVersions,
  type CartridgeProblem,
  type CartridgeScript,
  type ManagedFiles,
  type Manifest,
} from "../manifest";
import { executableProblems, findTemplates, listDir, readTextOrUndefined, statOrUndefined } from "./files";
import { envNameProblem, templateProblem } from "./rules";

export { envNameProblem, templateProblem } from "./rules";

export interface LoadCartridgeOptions {
  /** Prefix of the platform's variables (node config `envPrefix`). @default "GEARTRAIN_" */
  readonly envPrefix?: string;
}

/** One file of `env/`: a variable, or a Handlebars template of one rendered before bin/setup. */
export interface EnvFile {
  /** Variable name (the file name without `.hbs`). */
  readonly name: string;
  /** Path relative to the cartridge directory, e.g. `env/GEARTRAIN_PHP_LOG_DIR.hbs`. */
  readonly file: string;
  readonly template: boolean;
}

/** A checked cartridge directory. */
export interface LoadedCartridge {
  /** Absolute path of the cartridge directory. */
  readonly dir: string;
  readonly manifest: Manifest;
  /** metadata/managed_files.yml, or empty lists when the file is absent. */
  readonly managedFiles: ManagedFiles;
  /** Scripts present in bin/ → path relative to the cartridge directory. */
  readonly scripts: Readonly<Partial<Record<CartridgeScript, string>>>;
  /** Files of env/, sorted by name. */
  readonly env: readonly EnvFile[];
  /** Handlebars templates (`*.hbs`) outside template/, template.git/ and usr/, relative paths, sorted. */
  readonly templates: readonly string[];
}

/**
 * Reads and checks a cartridge directory: metadata/manifest.yml (required), metadata/managed_files.yml
 * (optional), bin/control (required) and the other bin/ scripts, hooks/, env/ (required), Handlebars
 * templates and versions/. Never throws for problems in the cartridge; returns every one of them, and the
 * cartridge only when there are none.
 */
export async function inspectCartridge(
  dir: string,
  options: LoadCartridgeOptions = {},
): Promise<{ cartridge?: LoadedCartridge; problems: CartridgeProblem[] }> {
  const prefix = options.envPrefix ?? DEFAULT_ENV_PREFIX;
  const rel = (p: string) => path.join(dir, p);
  const problems: CartridgeProblem[] = [];

  const top = await statOrUndefined(dir);
  if (!top?.isDirectory())
    return {
      problems: [
        {
          file: dir,
          path: "",
          message: `expected a cartridge directory, got ${top ? "a file" : "nothing there"} (check the path)`,
        },
      ],
    };

  // metadata/manifest.yml
  let manifest: Manifest | undefined;
  const manifestText = await readTextOrUndefined(rel(MANIFEST_FILE));
  if (manifestText === undefined)
    problems.push({
      file: rel(MANIFEST_FILE),
      path: "",
      message:
        "missing; expected the cartridge manifest (create it, starting with Name: and Cartridge-Short-Name:)",
    });
  else {
    const result = manifestTextProblems(manifestText, rel(MANIFEST_FILE));
    manifest = result.manifest;
    problems.push(...result.problems);
  }

  // metadata/managed_files.yml
  let managedFiles: ManagedFiles = deepFreeze({
    locked_files: [],
    snapshot_exclusions: [],
    restore_transforms: [],
    processed_templates: [],
    setup_rewritten: [],
  });
  const managedText = await readTextOrUndefined(rel(MANAGED_FILES_FILE));
  if (managedText !== undefined) {
    try {
      managedFiles = parseManagedFiles(managedText, rel(MANAGED_FILES_FILE));
    } catch (err) {
      if (!(err instanceof CartridgeError)) throw err;
      problems.push(...err.problems);
    }
  }

  // bin/ and hooks/
  const scripts: Partial<Record<CartridgeScript, string>> = {};
  for (const script of CARTRIDGE_SCRIPTS) {
    const file = path.join("bin", script);
    const required = (REQUIRED_SCRIPTS as readonly string[]).includes(script);
    const found = await executableProblems(dir, file, required);
    problems.push(...found.problems);
    if (found.exists) scripts[script] = file;
  }
  for (const entry of await listDir(rel("hooks"))) {
    if (entry.name.startsWith(".")) continue;
    problems.push(...(await executableProblems(dir, path.join("hooks", entry.name), true)).problems);
  }

  // env/
  const env: EnvFile[] = [];
  const envEntries = await listDir(rel("env"));
  if (!(await statOrUndefined(rel("env")))?.isDirectory())
    problems.push({
      file: rel("env"),
      path: "",
      message:
        "missing; expected a directory of environment variable files (create it; keep it in git with an empty env/.gitkeep)",
    });
  const seen = new Map<string, string>();
  for (const entry of envEntries) {
    if (entry.name.startsWith(".")) continue;
    const file = path.join("env", entry.name);
    const isFile = entry.isSymbolicLink() ? (await statOrUndefined(rel(file)))?.isFile() : entry.isFile();
    if (!isFile) {
      problems.push({
        file: rel(file),
        path: "",
        message:
          "expected a file (one variable per file), got a directory or special file (move it out of env/)",
      });
      continue;
    }
    if (entry.name.endsWith(".erb")) {
      problems.push({
        file: rel(file),
        path: "",
        message: `expected a plain value or a Handlebars template (.hbs), got an ERB template (rewrite it with Handlebars and rename it to env/${entry.name.slice(0, -4)}.hbs)`,
      });
      continue;
    }
    const template = entry.name.endsWith(".hbs");
    const name = template ? entry.name.slice(0, -4) : entry.name;
    const other = seen.get(name);
    if (other !== undefined) {
      problems.push({
        file: rel(file),
        path: "",
        message: `expected one file per variable, got ${name} also from ${other} (remove one of them)`,
      });
      continue;
    }
    seen.set(name, file);
    const message = envNameProblem(name, manifest, prefix);
    if (message !== undefined) problems.push({ file: rel(file), path: "", message });
    env.push({ name, file, template });
  }
  env.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  // Handlebars templates
  const templates = await findTemplates(dir);
  for (const file of templates) {
    const text = await fs.readFile(rel(file), "utf8");
    const problem = templateProblem(text, rel(file));
    if (problem) problems.push(problem);
  }

  // versions/<software version>/
  if (manifest) {
    const versions = softwareVersions(manifest);
    for (const entry of await listDir(rel("versions"))) {
      if (entry.name.startsWith(".") || !entry.isDirectory() || versions.includes(entry.name)) continue;
      problems.push({
        file: rel(path.join("versions", entry.name)),
        path: "",
        message: `expected a directory named after a software version of the manifest (${versions.join(", ")}), got "${entry.name}" (add '${entry.name}' to Versions, or remove the directory)`,
      });
    }
  }

  if (problems.length > 0 || !manifest) return { problems };
  return {
    problems,
    cartridge: deepFreeze({
      dir: path.resolve(dir),
      manifest,
      managedFiles,
      scripts,
      env,
      templates,
    }),
  };
}

/**
 * Reads and checks a cartridge directory (see {@link inspectCartridge}); throws {@link CartridgeError}
 * listing every problem.
 */
export async function loadCartridge(
  dir: string,
  options: LoadCartridgeOptions = {},
): Promise<LoadedCartridge> {
  const { cartridge, problems } = await inspectCartridge(dir, options);
  if (!cartridge) throw new CartridgeError(problems);
  return cartridge;
}
