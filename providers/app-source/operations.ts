// The AppSource provider's I/O (loaded by path by index.ts, as the BrokerApp provider's): a push of the
// directory's files to the application's git repository, as a person would push, with a key that lives only
// for that push. In a temporary directory of its own (mode 0700, outside the checkout, removed after):
// an ed25519 key made by ssh-keygen, registered for the connection's user through the broker (which puts it
// on that user's gears) and removed after the push; an ssh configuration that accepts only the node's pinned
// host key; a clone of the repository whose work tree becomes the directory's files, committed and pushed
// when they differ. Every program runs from an argument array; git's ssh command is a constant that takes
// its configuration file from the environment. Nothing of this reaches the state but the commit's id.

import { randomBytes } from "crypto";
import { promises as fs } from "fs";
import * as os from "os";
import * as path from "path";
import { brokerClientFor } from "../broker-client";
import { runProgram } from "../../common/exec";
import {
  APP_SOURCE_PROVIDER_VERSION,
  checkAppSource,
  diffAppSource,
  parseGitUrl,
  publicKeyParts,
  pushKeyName,
  renderKnownHosts,
  renderSshConfig,
  sourceHash,
  type AppSourceInputs,
  type AppSourceOutputs,
} from "./model";
import { readSourceTree } from "./source-tree";

/** A push runs the application's build and deploy on the node (npm install ...): minutes, not hours. */
const PUSH_TIMEOUT_MS = 15 * 60 * 1000;

/** Runs `file` with `args` (common/exec.ts: an argument array, no shell); rejects with its output when it fails. */
async function run(file: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }) {
  const r = await runProgram([file, ...args], {
    cwd: opts.cwd,
    env: opts.env,
    timeoutMs: PUSH_TIMEOUT_MS,
    input: "",
  });
  if (r.code !== 0)
    throw new Error(`${file} ${args[0]} failed (${r.code ?? r.signal}):\n${r.stderr}${r.stdout}`.trim());
  return r;
}

/** git's environment: no system or user configuration, no prompt, ssh configured by our file only. */
function gitEnv(home: string, sshConfig: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: home,
    LANG: "C.UTF-8",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    // a constant: git runs it through sh with its own arguments appended; the path comes from the environment
    GIT_SSH_COMMAND: 'ssh -F "$GEARTRAIN_PUSH_SSH_CONFIG"',
    GIT_SSH_VARIANT: "ssh",
    GEARTRAIN_PUSH_SSH_CONFIG: sshConfig,
    GIT_AUTHOR_NAME: "Geartrain",
    GIT_AUTHOR_EMAIL: "geartrain@localhost",
    GIT_COMMITTER_NAME: "Geartrain",
    GIT_COMMITTER_EMAIL: "geartrain@localhost",
  };
}

/** Pushes the directory's files to the application; returns the commit its repository then has. */
async function push(inputs: AppSourceInputs): Promise<string> {
  const files = readSourceTree(inputs.directory, "directory");
  const hash = sourceHash(files);
  if (hash !== inputs.sourceHash)
    throw new Error(`${inputs.directory} changed after the program read it: run \`pulumi up\` again`);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "geartrain-push-"));
  try {
    await fs.chmod(tmp, 0o700);
    const identity = path.join(tmp, "id_ed25519");
    const knownHosts = path.join(tmp, "known_hosts");
    const sshConfig = path.join(tmp, "ssh_config");
    const env = gitEnv(tmp, sshConfig);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "geartrain-push", "-f", identity], {
      cwd: tmp,
      env,
    });
    await fs.writeFile(knownHosts, renderKnownHosts(inputs.sshHost), { mode: 0o600 });
    await fs.writeFile(sshConfig, renderSshConfig(inputs.sshHost, { identity, knownHosts }), { mode: 0o600 });
    const key = publicKeyParts(await fs.readFile(`${identity}.pub`, "utf8"));
    const broker = brokerClientFor(inputs.connection);
    const keyName = pushKeyName(randomBytes(6).toString("hex"));
    await broker.addKey({ name: keyName, ...key });
    let failure: unknown = null;
    try {
      return await commitAndPush(inputs, files, path.join(tmp, "repo"), env);
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      // the key goes whatever happened; a key left behind is an error of its own
      await broker.removeKey(keyName).catch((err: Error) => {
        const left = new Error(
          `the push key ${keyName} could not be removed from the broker: ${err.message}`,
        );
        if (failure === null) throw left;
        (failure as Error).message += `\n(and ${left.message})`;
      });
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

async function commitAndPush(
  inputs: AppSourceInputs,
  files: ReturnType<typeof readSourceTree>,
  repo: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const cwd = path.dirname(repo);
  await run("git", ["clone", "--quiet", "--", inputs.gitUrl, repo], { cwd, env });
  // the work tree becomes exactly the source's files (the clone is ours, in the temporary directory)
  for (const entry of await fs.readdir(repo))
    if (entry !== ".git") await fs.rm(path.join(repo, entry), { recursive: true, force: true });
  for (const f of files) {
    const target = path.join(repo, ...f.path.split("/"));
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, f.content, { mode: f.executable ? 0o755 : 0o644 });
  }
  const git = (args: string[]) => run("git", args, { cwd: repo, env });
  await git(["add", "--all"]);
  if ((await git(["status", "--porcelain"])).stdout.trim() !== "") {
    const message = `${path.basename(inputs.directory)}: source ${inputs.sourceHash.slice(0, 12)} (geartrain AppSource)`;
    await git(["commit", "--quiet", "--no-verify", "-m", message]);
    await git(["push", "origin", "HEAD"]);
  }
  return (await git(["rev-parse", "HEAD"])).stdout.trim();
}

export async function check(_olds: unknown, news: Partial<AppSourceInputs>) {
  const failures = checkAppSource(news);
  return { inputs: { ...news, providerVersion: APP_SOURCE_PROVIDER_VERSION } as AppSourceInputs, failures };
}

export async function diff(_id: string, olds: AppSourceOutputs, news: AppSourceInputs) {
  return diffAppSource(olds, news);
}

export async function create(inputs: AppSourceInputs) {
  const commit = await push(inputs);
  return { id: parseGitUrl(inputs.gitUrl)?.gear ?? inputs.sourceHash, outs: { ...inputs, commit } };
}

/** What was pushed is not read back: the repository is the application's (a later `git push` may replace it). */
export async function read(id: string, props: AppSourceOutputs) {
  return { id, props };
}

export async function update(_id: string, _olds: AppSourceOutputs, news: AppSourceInputs) {
  return { outs: { ...news, commit: await push(news) } };
}

/** The code goes with the application's repository, when the application is deleted. */
export async function remove(): Promise<void> {}
