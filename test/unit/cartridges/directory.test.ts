import * as fs from "fs";
import * as path from "path";
import {
  envNameProblem,
  inspectCartridge,
  loadCartridge,
  templateProblem,
} from "../../../cartridges/directory";
import { CartridgeError, formatProblem, parseManifest } from "../../../cartridges/manifest";
import { cleanUp, copyFixture, FIXTURES, fixtureText } from "./helpers";

afterEach(cleanUp);

/** Problems of a cartridge directory as `<file relative to the cartridge>: <path>: <message>` lines. */
async function problemLines(dir: string, options = {}): Promise<string[]> {
  const { cartridge, problems } = await inspectCartridge(dir, options);
  if (problems.length === 0) expect(cartridge).toBeDefined();
  else expect(cartridge).toBeUndefined();
  return problems.map((p) => formatProblem({ ...p, file: path.relative(dir, p.file) || "." }));
}

function write(dir: string, file: string, content: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
  fs.writeFileSync(path.join(dir, file), content, { mode });
  fs.chmodSync(path.join(dir, file), mode); // the umask may have cleared bits
}

describe("valid cartridge directories", () => {
  it("minimal: manifest, bin/control, empty env/", async () => {
    const cart = await loadCartridge(path.join(FIXTURES, "minimal"));
    expect(cart.dir).toBe(path.join(FIXTURES, "minimal"));
    expect(cart.manifest.Name).toBe("minimal");
    expect(cart.scripts).toEqual({ control: "bin/control" });
    expect(cart.env).toEqual([]);
    expect(cart.templates).toEqual([]);
    expect(cart.managedFiles).toEqual({
      locked_files: [],
      snapshot_exclusions: [],
      restore_transforms: [],
      processed_templates: [],
      setup_rewritten: [],
    });
    expect(Object.isFrozen(cart)).toBe(true);
  });

  it("full: scripts, hooks, env files, templates, managed files, versions", async () => {
    const cart = await loadCartridge(path.join(FIXTURES, "full"));
    expect(cart.manifest).toEqual(parseManifest(fixtureText("full"), "x"));
    expect(cart.scripts).toEqual({
      control: "bin/control",
      setup: "bin/setup",
      install: "bin/install",
      post_install: "bin/post_install",
      teardown: "bin/teardown",
    });
    expect(cart.env).toEqual([
      { name: "GEARTRAIN_EXAMPLE_LOG_DIR", file: "env/GEARTRAIN_EXAMPLE_LOG_DIR.hbs", template: true },
      { name: "GEARTRAIN_EXAMPLE_VERSION", file: "env/GEARTRAIN_EXAMPLE_VERSION", template: false },
      { name: "NODE_ENV", file: "env/NODE_ENV", template: false },
    ]);
    // The application template (template/) and shared files (usr/) are not cartridge templates.
    expect(cart.templates).toEqual(["conf/example.conf.hbs", "env/GEARTRAIN_EXAMPLE_LOG_DIR.hbs"]);
    expect(cart.managedFiles.processed_templates).toEqual(["conf/*.hbs"]);
    expect(cart.managedFiles.locked_files).toEqual(["env/", "conf/*"]);
  });

  it("a binary (ELF) script needs no #! line, and a script may be a symbolic link", async () => {
    const dir = copyFixture("minimal");
    write(dir, "bin/setup", "\x7fELF\x02\x01\x01\x00", 0o755);
    write(dir, "versions/1.0/bin/control", "#!/bin/sh\nexit 0\n", 0o755);
    fs.rmSync(path.join(dir, "bin/control"));
    fs.symlinkSync("../versions/1.0/bin/control", path.join(dir, "bin/control"));
    expect(await problemLines(dir)).toEqual([]);
  });

  it("honours another variable prefix", async () => {
    const dir = copyFixture("minimal");
    write(dir, "env/OPENSHIFT_MINIMAL_HOME", "x");
    expect(await problemLines(dir, { envPrefix: "OPENSHIFT_" })).toEqual([]);
    write(dir, "env/OPENSHIFT_APP_DNS", "x");
    expect(await problemLines(dir, { envPrefix: "OPENSHIFT_" })).toEqual([
      "env/OPENSHIFT_APP_DNS: expected a variable outside the platform's OPENSHIFT_* namespace, or in the cartridge's own OPENSHIFT_MINIMAL_*, got OPENSHIFT_APP_DNS (rename it, e.g. OPENSHIFT_MINIMAL_APP_DNS)",
    ]);
  });
});

describe("scripts", () => {
  it("bin/control is required", async () => {
    const dir = copyFixture("minimal");
    fs.rmSync(path.join(dir, "bin/control"));
    expect(await problemLines(dir)).toEqual([
      "bin/control: missing; expected an executable script (create it and run chmod +x bin/control)",
    ]);
  });

  it("bin/setup and the other scripts are optional", async () => {
    const dir = copyFixture("full");
    for (const s of ["setup", "install", "post_install", "teardown"]) fs.rmSync(path.join(dir, "bin", s));
    expect(await problemLines(dir)).toEqual([]);
  });

  it.each(["control", "setup", "install", "post_install", "teardown", "upgrade", "metrics"])(
    "bin/%s must be executable",
    async (script) => {
      const dir = copyFixture("minimal");
      write(dir, `bin/${script}`, "#!/bin/bash\nexit 0\n", 0o644);
      expect(await problemLines(dir)).toEqual([
        `bin/${script}: expected an executable file, got mode 0644 (run chmod +x bin/${script})`,
      ]);
    },
  );

  it("a script needs a #! line with Unix line endings", async () => {
    const dir = copyFixture("minimal");
    write(dir, "bin/control", "exit 0\n", 0o755);
    write(dir, "bin/setup", "#!/bin/bash\r\nexit 0\r\n", 0o755);
    expect(await problemLines(dir)).toEqual([
      "bin/control: expected a script starting with an interpreter line such as #!/bin/bash, or a binary (add the #! line)",
      "bin/setup: expected Unix line endings, got CRLF on the #! line (convert the file: sed -i 's/\\r$//' bin/setup)",
    ]);
  });

  it("a directory or a broken link is not a script", async () => {
    const dir = copyFixture("minimal");
    fs.mkdirSync(path.join(dir, "bin/setup"));
    fs.symlinkSync("missing", path.join(dir, "bin/install"));
    expect(await problemLines(dir)).toEqual([
      "bin/setup: expected an executable file, got a directory or special file (replace it with a script)",
      "bin/install: expected an executable script, got a broken symbolic link (fix the link target)",
    ]);
  });

  it("hooks must be executable scripts", async () => {
    const dir = copyFixture("full");
    fs.chmodSync(path.join(dir, "hooks/set-db-connection-info"), 0o640);
    write(dir, "hooks/.gitkeep", "");
    expect(await problemLines(dir)).toEqual([
      "hooks/set-db-connection-info: expected an executable file, got mode 0640 (run chmod +x hooks/set-db-connection-info)",
    ]);
  });
});

describe("env/", () => {
  it("is required", async () => {
    const dir = copyFixture("minimal");
    fs.rmSync(path.join(dir, "env"), { recursive: true });
    expect(await problemLines(dir)).toEqual([
      "env: missing; expected a directory of environment variable files (create it; keep it in git with an empty env/.gitkeep)",
    ]);
  });

  it.each([
    [
      "bad-name",
      `expected a file named after an environment variable (upper-case letters, digits and '_', not starting with a digit), got "bad-name" (rename the file)`,
    ],
    [
      "1ST",
      `expected a file named after an environment variable (upper-case letters, digits and '_', not starting with a digit), got "1ST" (rename the file)`,
    ],
    [
      "PATH",
      "expected a variable the cartridge may set, got PATH, which the node sets (remove the file; to add to it, use GEARTRAIN_MINIMAL_PATH_ELEMENT)",
    ],
    ["HOME", "expected a variable the cartridge may set, got HOME, which the node sets (remove the file)"],
    [
      "GEARTRAIN_APP_DNS",
      "expected a variable outside the platform's GEARTRAIN_* namespace, or in the cartridge's own GEARTRAIN_MINIMAL_*, got GEARTRAIN_APP_DNS (rename it, e.g. GEARTRAIN_MINIMAL_APP_DNS)",
    ],
    [
      "GEARTRAIN_MINIMAL_DIR",
      "expected a variable the node does not set itself, got GEARTRAIN_MINIMAL_DIR (the node writes it for every cartridge; remove the file or rename it)",
    ],
    [
      "GEARTRAIN_MINIMAL_IDENT.hbs",
      "expected a variable the node does not set itself, got GEARTRAIN_MINIMAL_IDENT (the node writes it for every cartridge; remove the file or rename it)",
    ],
  ])("env/%s", async (file, message) => {
    const dir = copyFixture("minimal");
    write(dir, `env/${file}`, "value");
    expect(await problemLines(dir)).toEqual([`env/${file}: ${message}`]);
  });

  it("a file named after an endpoint variable", async () => {
    const dir = copyFixture("full");
    write(dir, "env/GEARTRAIN_EXAMPLE_PROXY_PORT", "1");
    expect(await problemLines(dir)).toEqual([
      "env/GEARTRAIN_EXAMPLE_PROXY_PORT: expected a variable the node does not set itself, got GEARTRAIN_EXAMPLE_PROXY_PORT (an endpoint in the manifest names it; remove the file or rename it)",
    ]);
  });

  it("ERB templates, duplicates and directories", async () => {
    const dir = copyFixture("minimal");
    write(dir, "env/GEARTRAIN_MINIMAL_LOG.erb", "<%= ENV['X'] %>");
    write(dir, "env/FOO", "1");
    write(dir, "env/FOO.hbs", "{{X}}");
    fs.mkdirSync(path.join(dir, "env/SUB"));
    write(dir, "env/.gitkeep", "");
    expect(await problemLines(dir)).toEqual([
      "env/FOO.hbs: expected one file per variable, got FOO also from env/FOO (remove one of them)",
      "env/GEARTRAIN_MINIMAL_LOG.erb: expected a plain value or a Handlebars template (.hbs), got an ERB template (rewrite it with Handlebars and rename it to env/GEARTRAIN_MINIMAL_LOG.hbs)",
      "env/SUB: expected a file (one variable per file), got a directory or special file (move it out of env/)",
    ]);
  });

  it("envNameProblem without a valid manifest still checks the name itself", () => {
    expect(envNameProblem("GEARTRAIN_ANY", undefined)).toBeUndefined();
    expect(envNameProblem("lower", undefined)).toMatch(
      /^expected a file named after an environment variable/,
    );
    expect(envNameProblem("LD_LIBRARY_PATH", undefined)).toBe(
      "expected a variable the cartridge may set, got LD_LIBRARY_PATH, which the node sets (remove the file; to add to it, use GEARTRAIN_<SHORT>_LD_LIBRARY_PATH_ELEMENT)",
    );
  });
});

describe("templates", () => {
  it("reports Handlebars syntax errors with the line, outside the application template", async () => {
    const dir = copyFixture("full");
    write(dir, "conf/broken.conf.hbs", "ok\n{{#if X}}\nunclosed\n");
    write(dir, "env/GEARTRAIN_EXAMPLE_BAD.hbs", "{{ X }");
    write(dir, "template/views/broken.hbs", "{{#each}}"); // the app's own views: not ours to check
    write(dir, "usr/share/broken.hbs", "{{#if}}"); // shared, not rendered
    write(dir, "versions/1.0/template/x.hbs", "{{#if}}");
    expect(await problemLines(dir)).toEqual([
      expect.stringMatching(
        /^conf\/broken\.conf\.hbs: line 4: expected a valid Handlebars template, got: Expecting .*, got 'EOF' \(fix the \{\{\.\.\.\}\} syntax there\)$/,
      ),
      expect.stringMatching(
        /^env\/GEARTRAIN_EXAMPLE_BAD\.hbs: line 1: expected a valid Handlebars template, got: Expecting .*, got 'INVALID'/,
      ),
    ]);
  });

  it("templateProblem names mismatched blocks", () => {
    expect(templateProblem("{{#if a}}x{{/each}}", "t.hbs")).toEqual({
      file: "t.hbs",
      path: "line 1",
      line: 1,
      message:
        "expected a valid Handlebars template, got: if doesn't match each - 1:3 (fix the {{...}} syntax there)",
    });
    expect(templateProblem("{{#if a}}x{{/if}}", "t.hbs")).toBeUndefined();
  });
});

describe("metadata and versions", () => {
  it("metadata/manifest.yml is required", async () => {
    const dir = copyFixture("minimal");
    fs.rmSync(path.join(dir, "metadata/manifest.yml"));
    expect(await problemLines(dir)).toEqual([
      "metadata/manifest.yml: missing; expected the cartridge manifest (create it, starting with Name: and Cartridge-Short-Name:)",
    ]);
  });

  it("manifest problems carry the manifest's path", async () => {
    const dir = copyFixture("minimal");
    fs.appendFileSync(path.join(dir, "metadata/manifest.yml"), "Scaling: {Min: 2, Max: 1}\n");
    const { problems } = await inspectCartridge(dir);
    expect(problems).toEqual([
      {
        file: path.join(dir, "metadata/manifest.yml"),
        path: "Scaling",
        line: 7,
        column: 1,
        message:
          "expected Min <= Max (Max -1 means no limit), got Min 2 and Max 1 (raise Max, lower Min, or set Max: -1)",
      },
    ]);
  });

  it("metadata/managed_files.yml is validated", async () => {
    const dir = copyFixture("minimal");
    write(dir, "metadata/managed_files.yml", "locked_file:\n  - env/\nprocessed_templates: '**/*.hbs'\n");
    expect(await problemLines(dir)).toEqual([
      `metadata/managed_files.yml: locked_file: unknown key; expected a known key of metadata/managed_files.yml (did you mean "locked_files"? rename it)`,
      `metadata/managed_files.yml: processed_templates: expected a list of paths or patterns, e.g. [env/, conf/*], got "**/*.hbs" (write it as a list, e.g. processed_templates: [env/, conf/*])`,
    ]);
  });

  it("an empty managed_files.yml means no managed files", async () => {
    const dir = copyFixture("minimal");
    write(dir, "metadata/managed_files.yml", "# none\n");
    expect((await loadCartridge(dir)).managedFiles.locked_files).toEqual([]);
  });

  it("versions/ holds only directories of the manifest's software versions", async () => {
    const dir = copyFixture("full");
    fs.mkdirSync(path.join(dir, "versions/2.0"));
    write(dir, "versions/README", "notes");
    expect(await problemLines(dir)).toEqual([
      `versions/2.0: expected a directory named after a software version of the manifest (1.1, 1.0), got "2.0" (add '2.0' to Versions, or remove the directory)`,
    ]);
  });

  it("not a directory", async () => {
    const dir = copyFixture("minimal");
    expect(await problemLines(path.join(dir, "nope"))).toEqual([
      ".: expected a cartridge directory, got nothing there (check the path)",
    ]);
    expect(await problemLines(path.join(dir, "metadata/manifest.yml"))).toEqual([
      ".: expected a cartridge directory, got a file (check the path)",
    ]);
  });

  it("loadCartridge throws a CartridgeError with every problem of the broken fixture", async () => {
    const dir = path.join(FIXTURES, "broken");
    await expect(loadCartridge(dir)).rejects.toThrow(CartridgeError);
    const error = (await loadCartridge(dir).catch((e: unknown) => e)) as CartridgeError;
    const files = error.problems.map((p) => path.relative(dir, p.file));
    expect(files).toEqual([...Array(7).fill("metadata/manifest.yml"), "bin/control", "env/bad-name"]);
    expect(error.message).toMatch(/^Invalid cartridge \(9 problems\):\n/);
  });
});
