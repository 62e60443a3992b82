// The layer rules of eslint.config.mjs (docs/conventions.md "Layers"): an import that crosses a layer fails
// `npm run lint`. Each case lints source text as if it were the named production file, with the project's own
// ESLint and config, in one child process (the config is ESM, which jest's module system does not load).
import { execFileSync } from "child_process";
import * as path from "path";

const REPO = path.resolve(__dirname, "../../..");

/** Reads [{filePath, code}] on stdin; prints, per input, the messages of the boundaries rule. */
const LINT_SCRIPT = `
const { ESLint } = require("eslint");
const inputs = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const { filePath, code } of inputs) {
    const [result] = await eslint.lintText(code, { filePath });
    out.push(result.messages.filter((m) => m.ruleId === "boundaries/dependencies" || m.fatal).map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

const cases: [string, string, string, boolean][] = [
  // [importing file, import specifier, what it shows, allowed]
  ["components/host/index.ts", "../../node/gear/lifecycle", "a component reaching into node/", false],
  ["components/host/index.ts", "../../node", "a component through node/index.ts", true],
  ["components/host/index.ts", "../../node/config", "a component reaching node-wide plumbing", false],
  ["providers/local-directory.ts", "../node/host/exec", "a provider reaching into node/", false],
  ["stacks/index.ts", "../node", "a stack program importing node/ at all", false],
  ["services/cli/main.ts", "../../node/cli/main", "the dispatcher loading the node command group", true],
  ["services/cli/main.ts", "../../node/cartridge/install", "the dispatcher reaching into node/", false],
  ["node/gear/lifecycle.ts", "../../components/host", "node/ importing a component", false],
  ["node/gear/lifecycle.ts", "../../services/cli/main", "node/ importing the dispatcher", false],
  ["node/gear/lifecycle.ts", "../host/exec", "node/ inside itself", true],
  ["node/host/procs.ts", "../gear/lifecycle", "a host primitive importing the gear aggregate", false],
  ["node/host/procs.ts", "../host/cgroups/driver", "a host primitive using another", true],
  ["node/cartridge/records.ts", "../../cartridges/manifest", "node/ using the cartridge manifest", true],
  ["cartridges/cli.ts", "../node/config", "cartridges/ importing node/ (the old folder cycle)", false],
  ["common/suggest.ts", "../node/validate", "common/ importing node/", false],
  ["services/cli/base.ts", "../../clients/broker", "the CLI using the broker client", true],
  ["providers/local-directory.ts", "../clients/broker", "a provider using the broker client", true],
  [
    "providers/local-directory.ts",
    "../services/broker/model/validate",
    "a provider importing services/",
    false,
  ],
  ["providers/local-directory.ts", "../components/host", "a provider importing a component", false],
  ["components/secret/index.ts", "../../providers/local-directory", "a component composing a provider", true],
  ["components/secret/index.ts", "../../clients/broker", "a component reaching past its providers", false],
  [
    "clients/broker/client.ts",
    "../../services/broker/model/validate",
    "the client importing services/",
    false,
  ],
  ["clients/broker/client.ts", "../../common/errors", "the client using common/", true],
];

let results: string[][] = [];
beforeAll(() => {
  const inputs = cases.map(([file, spec]) => ({
    filePath: path.join(REPO, file),
    code: `import * as m from "${spec}";\nexport const used = m;\n`,
  }));
  results = JSON.parse(
    execFileSync(process.execPath, ["-e", LINT_SCRIPT], {
      cwd: REPO,
      input: JSON.stringify(inputs),
      // With CI=true typescript-eslint infers a "single run" and parses each file from its one TypeScript
      // program, i.e. the file on disk, ignoring the text given here; every case would then lint clean.
      env: { ...process.env, TSESTREE_SINGLE_RUN: "false" },
    }).toString(),
  );
}, 120_000);

describe("layer rules", () => {
  test.each(cases.map((c, i) => [...c, i] as const))(
    "%s imports %s (%s): allowed=%s",
    (_f, _s, _w, allowed, i) => {
      const errors = results[i];
      if (allowed) expect(errors).toEqual([]);
      else expect(errors).toEqual([expect.stringMatching(/no policy allowing dependencies/)]);
    },
  );
});
