// `geartrain review` in-process on a saved preview (--preview-json): the Markdown on stdout, --output, the
// exit codes, usage errors; and the argv it gives pulumi (no shell string).
import { mkdtempSync, readFileSync, rmSync } from "fs";
import * as os from "os";
import * as path from "path";
import { group, previewArgs } from "../../../../services/cli/groups/review";
import { REVIEW_EXIT } from "../../../../services/cli/review-model";
import { testCli, type TestCli } from "../../../helpers/cli-context";

const FIXTURES = path.join(__dirname, "fixtures");

describe("geartrain review", () => {
  let cli: TestCli;
  let dir: string;
  beforeEach(() => {
    cli = testCli({ prefix: "geartrain-review-" });
    dir = mkdtempSync(path.join(os.tmpdir(), "geartrain-review-out-"));
  });
  afterEach(() => {
    cli.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("summarizes a saved preview, writes --output, and exits with the policy code", async () => {
    const output = path.join(dir, "review.md");
    const code = await group.runWith(
      ["--stack", "stage", "--preview-json", path.join(FIXTURES, "review-preview.jsonl"), "--output", output],
      cli.ctx,
    );
    expect(code).toBe(REVIEW_EXIT.POLICY);
    const markdown = cli.out.join("\n");
    expect(markdown).toContain("## Geartrain review of stack `stage`");
    expect(readFileSync(output, "utf8")).toBe(markdown);
  });

  it("exits 7 for a preview with changes and no policy finding (the plain --json object)", async () => {
    const code = await group.runWith(
      ["--stack", "rv", "--preview-json", path.join(FIXTURES, "review-preview-object.json")],
      cli.ctx,
    );
    expect(code).toBe(REVIEW_EXIT.CHANGES);
  });

  it("refuses a missing --stack, an unknown flag and a bad stack name", async () => {
    expect(await group.runWith([], cli.ctx)).toBe(REVIEW_EXIT.USAGE);
    expect(cli.err.join("\n")).toContain("missing --stack S");
    expect(await group.runWith(["--stack", "dev", "--frobnicate"], cli.ctx)).toBe(REVIEW_EXIT.USAGE);
    expect(await group.runWith(["--stack", "dev; rm -rf /"], cli.ctx)).toBe(3);
    expect(cli.err.join("\n")).toContain("stack: expected a stack name");
    expect(await group.runWith(["--stack", "dev", "--no-policy", "--policy-pack", "p"], cli.ctx)).toBe(
      REVIEW_EXIT.USAGE,
    );
  });

  it("gives pulumi its arguments as argv elements", () => {
    expect(
      previewArgs({
        stack: "dev",
        configFile: "/tmp/Pulumi.dev.yaml",
        policyPacks: ["/repo/policies"],
        policyPackConfigs: ["/tmp/c.json"],
        refresh: true,
      }),
    ).toEqual([
      "preview",
      "--json",
      "--stack",
      "dev",
      "--non-interactive",
      "--config-file",
      "/tmp/Pulumi.dev.yaml",
      "--refresh",
      "--policy-pack",
      "/repo/policies",
      "--policy-pack-config",
      "/tmp/c.json",
    ]);
  });
});
