// `geartrain review` through the real engine with the policy pack in policies/: a first review lists what
// would be created (the secret masked), a review after `up` is clean (exit 0), a bad change is denied by the
// policy (exit 8, the rule and the resource named), as `pulumi preview --policy-pack policies` denies it too.
import { spawnSync } from "child_process";
import * as path from "path";
import { PROJECT_ROOT, PulumiSandbox, requireToolchain } from "../helpers/pulumi-cli";
import { REVIEW_EXIT } from "../../services/cli/review-model";

jest.setTimeout(5 * 60 * 1000);

const PROJECT = path.join(PROJECT_ROOT, "test/e2e/projects/review");
const POLICIES = path.join(PROJECT_ROOT, "policies");
const SECRET = "gt-review-s3cret-91d0c2e7";

describe("geartrain review", () => {
  let sandbox: PulumiSandbox;

  /** `geartrain review` on the sandbox's stack, with the sandbox's backend and passphrase. */
  function review(): { code: number; markdown: string; stderr: string } {
    const r = spawnSync(
      process.execPath,
      [
        path.join(PROJECT_ROOT, "bin/geartrain"),
        "review",
        "--stack",
        sandbox.stack,
        "--cwd",
        PROJECT,
        "--config-file",
        sandbox.configFile,
      ],
      {
        encoding: "utf8",
        env: {
          ...process.env,
          PULUMI_BACKEND_URL: `file://${sandbox.dir}/state`,
          PULUMI_CONFIG_PASSPHRASE: "geartrain-e2e-passphrase",
          PULUMI_CONFIG_PASSPHRASE_FILE: "",
        },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: r.status ?? -1, markdown: r.stdout, stderr: r.stderr };
  }

  beforeAll(() => {
    requireToolchain();
    sandbox = new PulumiSandbox("review", undefined, PROJECT);
    sandbox.init();
    sandbox.ok(["config", "set", "--secret", "dbPassword", SECRET]);
  });

  afterAll(() => {
    if (!sandbox) return;
    sandbox.run(["destroy", "--yes", "--skip-preview"]);
    sandbox.cleanup();
  });

  it("lists what a first up creates, per component, with the secret masked (exit 7)", () => {
    const r = review();
    expect({ code: r.code, stderr: r.stderr }).toEqual({
      code: REVIEW_EXIT.CHANGES,
      stderr: expect.anything(),
    });
    expect(r.markdown).toContain("#### `guestbook` (`geartrain:application:Application`)");
    expect(r.markdown).toContain("- **create** `guestbook-gear` (`command:local:Command`)");
    expect(r.markdown).toContain("`env.DB_PASSWORD`: `[secret]`");
    expect(r.markdown).not.toContain("### Policy");
    expect(r.markdown + r.stderr).not.toContain(SECRET);
  });

  it("is clean after up (exit 0)", () => {
    sandbox.ok(["up", "--yes", "--skip-preview"]);
    const r = review();
    expect(r.code).toBe(REVIEW_EXIT.CLEAN);
    expect(r.markdown).toContain("No changes");
  });

  it("denies a profile the district does not allow and a plain secret, naming rule and resource (exit 8)", () => {
    sandbox.ok(["config", "set", "profile", "large"]);
    // pulumi itself refuses a secret-looking value without --plaintext; the policy catches the insistent
    sandbox.ok(["config", "set", "--plaintext", "apiToken", "plain-token-value"]);
    const r = review();
    expect(r.code).toBe(REVIEW_EXIT.POLICY);
    expect(r.markdown).toMatch(
      /- \*\*mandatory\*\* `gear-profile-in-district` on `guestbook` \(`geartrain:application:Application`\): Application guestbook asks for gear profile "large", which district dev-small does not allow/,
    );
    expect(r.markdown).toContain("`no-plain-secrets`: stack config geartrain-review:apiToken is plain text");
    // the replacement of the app's gear is still shown, and warned about
    expect(r.markdown).toMatch(/### Warnings\n\n- \*\*Replaces gear\*\* `guestbook-gear`/);
    expect(r.markdown + r.stderr).not.toContain(SECRET);
    sandbox.ok(["config", "rm", "profile"]);
    sandbox.ok(["config", "rm", "apiToken"]);
  });

  it("denies deleting a district that still has an application, with plain `pulumi preview --policy-pack` too", () => {
    sandbox.ok(["config", "set", "dropDistrict", "true"]);
    const r = review();
    expect(r.code).toBe(REVIEW_EXIT.POLICY);
    expect(r.markdown).toContain(
      "`district-with-gears` on `guestbook` (`geartrain:application:Application`): Application guestbook is placed in district dev-small",
    );
    const preview = sandbox.run(["preview", "--policy-pack", POLICIES]);
    expect(preview.code).not.toBe(0);
    expect(preview.stdout).toMatch(
      /\[mandatory\]\s+district-with-gears\s+\(geartrain:application:Application: guestbook\)/,
    );
    sandbox.ok(["config", "rm", "dropDistrict"]);
  });
});
