// `pulumi install` for a Node.js program: npm in the program's folder (an argument array, no shell),
// its output streamed to the engine, framed by the same messages as upstream's host.
import { spawn } from "child_process";
import { NPM_INSTALL_ARGS, packageManagerProblem, searchUp } from "./dependencies";

export interface OutputStreams {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

export function installDependencies(
  programDirectory: string,
  packageManagerOption: unknown,
  out: OutputStreams,
): Promise<void> {
  const problem = packageManagerProblem(packageManagerOption, programDirectory);
  if (problem) return Promise.reject(new Error(problem));
  out.stdout(Buffer.from("Installing dependencies...\n\n"));
  return new Promise((resolve, reject) => {
    const npm = spawn("npm", [...NPM_INSTALL_ARGS], {
      cwd: programDirectory,
      stdio: ["ignore", "pipe", "pipe"],
    });
    npm.stdout.on("data", (chunk: Buffer) => out.stdout(chunk));
    npm.stderr.on("data", (chunk: Buffer) => out.stderr(chunk));
    npm.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        err.code === "ENOENT"
          ? new Error("Could not find `npm` executable.\nInstall npm and make sure it is in your PATH.")
          : err,
      ),
    );
    npm.on("close", (code, signal) => {
      if (code !== 0) {
        reject(new Error(`npm ${NPM_INSTALL_ARGS.join(" ")} failed (${signal ?? `exit status ${code}`})`));
      } else if (!searchUp(programDirectory, "node_modules")) {
        reject(new Error("npm install reported success, but node_modules directory is missing"));
      } else {
        out.stdout(Buffer.from("Finished installing dependencies\n\n"));
        resolve();
      }
    });
  });
}
