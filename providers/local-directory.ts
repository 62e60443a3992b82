// LocalDirectory: a directory on the machine running `pulumi up`, with mode and owner, whose
// `read` reports what is really on disk so `pulumi refresh`/`preview --refresh` show drift.
// The dev stack uses it for Geartrain's state root; remote hosts use Host commands instead.
import * as fs from "fs/promises";
import * as pulumi from "@pulumi/pulumi";

export interface LocalDirectoryInputs {
  /** Absolute path. */
  readonly path: string;
  /** Octal mode, e.g. "0750". */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
}

/** What `read` finds on disk; the same shape as the inputs, so drift is a plain input diff. */
export type LocalDirectoryOutputs = LocalDirectoryInputs;

const PATH = /^\/[A-Za-z0-9._/@+-]+$/;
const MODE = /^0[0-7]{3}$/;

export function checkLocalDirectory(news: LocalDirectoryInputs): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  if (!PATH.test(news.path) || news.path.split("/").includes("..")) {
    failures.push({
      property: "path",
      reason: `'${news.path}' must be an absolute path of [A-Za-z0-9._/@+-]`,
    });
  }
  if (!MODE.test(news.mode))
    failures.push({ property: "mode", reason: `'${news.mode}' must be octal like 0750` });
  for (const key of ["uid", "gid"] as const) {
    if (!Number.isInteger(news[key]) || news[key] < 0) {
      failures.push({ property: key, reason: `${key} must be a non-negative integer` });
    }
  }
  return failures;
}

/**
 * Serialized into the state of every LocalDirectory (`__provider`, docs/performance.md "Dynamic resources
 * in the state"): only these methods and `checkLocalDirectory` go in by value; `fs/promises` and
 * `pulumi.log` are modules, serialized as `require(...)`.
 */
export const localDirectoryProvider: pulumi.dynamic.ResourceProvider<
  LocalDirectoryInputs,
  LocalDirectoryOutputs
> = {
  async check(_olds, news) {
    return { inputs: news, failures: checkLocalDirectory(news) };
  },

  async diff(_id, olds, news) {
    const keys = (["gid", "mode", "path", "uid"] as const).filter((k) => olds[k] !== news[k]);
    return {
      changes: keys.length > 0,
      replaces: keys.includes("path") ? ["path"] : [],
      deleteBeforeReplace: true,
    };
  },

  async create(inputs) {
    await fs.mkdir(inputs.path, { recursive: true });
    await fs.chmod(inputs.path, parseInt(inputs.mode, 8));
    await fs.chown(inputs.path, inputs.uid, inputs.gid);
    return { id: inputs.path, outs: inputs };
  },

  async read(id, props) {
    try {
      const stat = await fs.stat(id);
      if (!stat.isDirectory()) return { id: "", props: {} as LocalDirectoryOutputs };
      const actual: LocalDirectoryOutputs = {
        path: id,
        mode: "0" + (stat.mode & 0o777).toString(8).padStart(3, "0"),
        uid: stat.uid,
        gid: stat.gid,
      };
      return { id, props: actual, inputs: props ? { ...actual } : undefined };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT")
        return { id: "", props: {} as LocalDirectoryOutputs };
      throw err;
    }
  },

  async update(_id, _olds, news) {
    await fs.chmod(news.path, parseInt(news.mode, 8));
    await fs.chown(news.path, news.uid, news.gid);
    return { outs: news };
  },

  async delete(id) {
    // Only an empty directory is removed: Geartrain never deletes data it did not create.
    await fs.rmdir(id).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT" && err.code !== "ENOTEMPTY") throw err;
      if (err.code === "ENOTEMPTY") pulumi.log.warn(`${id} is not empty; left in place`);
    });
  },
};

export interface LocalDirectoryArgs {
  readonly path: pulumi.Input<string>;
  readonly mode: pulumi.Input<string>;
  readonly uid?: pulumi.Input<number>;
  readonly gid?: pulumi.Input<number>;
}

export class LocalDirectory extends pulumi.dynamic.Resource {
  public readonly path!: pulumi.Output<string>;
  public readonly mode!: pulumi.Output<string>;
  public readonly uid!: pulumi.Output<number>;
  public readonly gid!: pulumi.Output<number>;

  constructor(name: string, args: LocalDirectoryArgs, opts?: pulumi.CustomResourceOptions) {
    super(localDirectoryProvider, name, { uid: 0, gid: 0, ...args }, opts, "geartrain", "LocalDirectory");
  }
}
