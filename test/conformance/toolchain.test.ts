// Conformance: projects with nothing Geartrain-specific in them, as `pulumi new` or a user writes them,
// run with the toolchain on PATH (issue 9 point 2); `pulumi install` and `pulumi about` use our
// language host's InstallDependencies and GetProgramDependencies (point 5).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";

jest.setTimeout(5 * 60 * 1000);

/** A temp project folder with a Pulumi.yaml of only `name` and `runtime`, and the given files. */
function userProject(name: string, files: Record<string, string>): string {
  requireToolchain();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gt-${name}-`));
  const all = { "Pulumi.yaml": `name: ${name}\nruntime: nodejs\n`, ...files };
  for (const [file, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

describe("a plain project (Pulumi.yaml with only name and runtime)", () => {
  let project: string;
  let stack: PulumiSandbox;

  beforeAll(() => {
    project = userProject("plain-project", {
      "package.json": JSON.stringify({
        name: "plain-project",
        dependencies: { "@pulumi/pulumi": "3.248.0", "@pulumi/command": "1.2.1" },
      }),
      "index.ts": [
        'import { local } from "@pulumi/command";',
        'export const greeting = new local.Command("hello", { create: "echo hello from a plain project" }).stdout;',
        "",
      ].join("\n"),
    });
    // The user's `npm install`, without the network: the repository's own packages.
    fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(project, "node_modules"));
    stack = new PulumiSandbox("plain", undefined, project);
    stack.init();
  });

  afterAll(() => {
    stack?.run(["destroy", "--yes", "--skip-preview"]);
    stack?.cleanup();
    fs.rmSync(project, { recursive: true, force: true });
  });

  it("runs preview, up and destroy", () => {
    expect(stack.ok(["preview"]).stdout).toMatch(/\+ 2 to create/);
    stack.ok(["up", "--yes", "--skip-preview"]);
    expect(JSON.parse(stack.ok(["stack", "output", "--json"]).stdout)).toEqual({
      greeting: "hello from a plain project",
    });
    expect(stack.ok(["destroy", "--yes", "--skip-preview"]).stdout).toMatch(/2 deleted/);
  });
});

describe("pulumi install and pulumi about", () => {
  let project: string;
  let cli: PulumiSandbox;

  beforeAll(() => {
    project = userProject("install-project", {
      "package.json": JSON.stringify({
        name: "install-project",
        dependencies: { "local-dep": "file:./local-dep" },
      }),
      "local-dep/package.json": JSON.stringify({ name: "local-dep", version: "1.2.3" }),
      // npm needs nothing from the network for a file: dependency; keep it from asking anyway.
      ".npmrc": "audit=false\nfund=false\nupdate-notifier=false\n",
      "index.ts": "export const nothing = 1;\n",
    });
    cli = new PulumiSandbox("install", undefined, project);
  });

  afterAll(() => {
    cli?.cleanup();
    fs.rmSync(project, { recursive: true, force: true });
  });

  it("install runs npm in the project", () => {
    const install = cli.ok(["install"], { stackArgs: false });
    expect(install.stdout + install.stderr).toMatch(/Installing dependencies/);
    expect(fs.realpathSync(path.join(project, "node_modules/local-dep"))).toBe(
      path.join(project, "local-dep"),
    );
    expect(fs.existsSync(path.join(project, "package-lock.json"))).toBe(true);
  });

  it("about lists the program's dependencies and the runtime", () => {
    const about = JSON.parse(cli.ok(["about", "--json"], { stackArgs: false }).stdout);
    expect(about.dependencies).toEqual([{ name: "local-dep", version: "1.2.3" }]);
    expect(about.runtime).toMatchObject({
      language: "nodejs",
      version: process.version,
      packagemanager: "npm",
    });
  });
});
