// geartrain review's pure part: the golden Markdown of a fixed preview (streaming events with secrets,
// replacements, deletions and policy findings), the plain `--json` object form, exit codes, masking.
import { readFileSync } from "fs";
import * as path from "path";
import {
  code,
  fieldChanges,
  parsePreview,
  renderMarkdown,
  REVIEW_EXIT,
  riskOf,
  showValue,
  summarize,
  type PreviewStep,
} from "../../../../services/cli/review-model";

const FIXTURES = path.join(__dirname, "fixtures");
const events = readFileSync(path.join(FIXTURES, "review-preview.jsonl"), "utf8");
const object = readFileSync(path.join(FIXTURES, "review-preview-object.json"), "utf8");

describe("review summary of a fixed preview (streaming events)", () => {
  const summary = summarize("stage", parsePreview(events));
  const markdown = renderMarkdown(summary);

  it("renders the golden Markdown", () => {
    expect(markdown).toMatchSnapshot();
  });

  it("masks every secret, and shows no internal input or unknown sentinel", () => {
    expect(markdown).not.toContain("1b47061264138c4ac30d75fd1eb44270");
    expect(markdown).not.toContain("ciphertext");
    expect(markdown).not.toContain("__provider");
    expect(markdown).not.toContain("exports.handler");
    expect(markdown).not.toContain("04da6b54");
    expect(markdown).toContain("`url`: `(known after apply)`");
    // a rotated secret the engine names as changed shows, masked, without its value
    expect(markdown).toContain("`environment.PGPASSWORD`: `[secret]` → `[secret]`");
    expect(markdown).toContain('`environment.PGPORT`: `"15432"` → `"15433"`');
  });

  it("puts the warnings first: replaced and deleted gears, applications, brokers and data cartridges", () => {
    expect(markdown.indexOf("### Warnings")).toBeLessThan(markdown.indexOf("### Policy"));
    expect(markdown.indexOf("### Policy")).toBeLessThan(markdown.indexOf("### Changes by component"));
    expect(summary.warnings.map((w) => `${w.op} ${w.risk} ${w.name}`)).toEqual([
      "replace application guestbook",
      "delete data-cartridge shop-postgresql",
      "delete broker stage-broker1",
    ]);
    // the gear under the replaced application is not warned about twice, the cron cartridge not at all
    expect(markdown).not.toMatch(/Replaces gear/);
    expect(markdown).not.toMatch(/shop-cron`[^\n]*lost/);
  });

  it("merges a replacement's three steps into one and counts what changes", () => {
    const gear = summary.groups.flatMap((g) => g.steps).filter((s) => s.urn.endsWith("guestbook-gear"));
    expect(gear).toHaveLength(1);
    expect(gear[0].op).toBe("replace");
    expect(summary.counts).toEqual({ create: 2, update: 2, replace: 2, delete: 3, import: 0 });
    expect(summary.unchanged).toBe(3);
  });

  it("groups steps by their parent component", () => {
    expect(summary.groups.map((g) => `${g.type} ${g.name}`)).toEqual([
      "geartrain:application:Application guestbook",
      "geartrain:application:Application shop",
      "geartrain:platform:Broker stage-broker1",
      "geartrain:platform:Broker stage-broker2",
      "geartrain:platform:Datastore stage-db",
      "geartrain:platform:District stage-small",
      "pulumi:pulumi:Stack stage",
    ]);
  });

  it("exits with the policy code when a mandatory policy failed, whatever else changed", () => {
    expect(summary.exitCode).toBe(REVIEW_EXIT.POLICY);
    expect(summary.errors).toEqual([]); // "preview failed" only repeats the policy finding
  });

  it("escapes Markdown in names and messages", () => {
    expect(markdown).toContain("`` note_`x` ``");
    expect(code("a`b")).toBe("``a`b``");
    expect(markdown).toContain("\\`pulumi config set --secret\\`");
  });
});

describe("the plain --json object form", () => {
  const preview = parsePreview(object);
  const summary = summarize("rv", preview);

  it("reads its steps, masked secrets and counts", () => {
    expect(summary.counts).toEqual({ create: 0, update: 1, replace: 1, delete: 2, import: 0 });
    const md = renderMarkdown(summary);
    expect(md).toContain('`profile`: `"small"` → `"medium"`');
    expect(md).toContain('`triggers[0]`: `"small"` → `"medium"` (forces replacement)');
    expect(md).not.toMatch(/DB_PASSWORD/); // unchanged (masked alike, not named by the engine)
    expect(summary.exitCode).toBe(REVIEW_EXIT.CHANGES);
  });
});

describe("exit codes", () => {
  const stackOnly =
    '{"resourcePreEvent":{"metadata":{"op":"same","urn":"urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev","type":"pulumi:pulumi:Stack"}}}\n' +
    '{"summaryEvent":{"resourceChanges":{"same":1},"result":"succeeded"}}\n';

  it("0 for a clean preview, with a 'No changes' line", () => {
    const s = summarize("dev", parsePreview(stackOnly));
    expect(s.exitCode).toBe(REVIEW_EXIT.CLEAN);
    expect(renderMarkdown(s)).toContain("No changes (1 unchanged).");
  });

  it("1 for a preview that failed without a policy finding; its error is in the summary", () => {
    const failed =
      stackOnly.replace('"succeeded"', '"failed"') +
      '{"diagnosticEvent":{"message":"error: Invalid stack config geartrain:platform\\n","severity":"error"}}\n';
    const s = summarize("dev", parsePreview(failed));
    expect(s.exitCode).toBe(REVIEW_EXIT.ERROR);
    expect(renderMarkdown(s)).toContain("Invalid stack config geartrain:platform");
  });

  it("the codes are distinct", () => {
    expect(new Set(Object.values(REVIEW_EXIT)).size).toBe(Object.values(REVIEW_EXIT).length);
    expect(REVIEW_EXIT).toMatchObject({ CLEAN: 0, ERROR: 1, USAGE: 2, CHANGES: 7, POLICY: 8 });
  });

  it("refuses text that is not preview JSON, naming the line", () => {
    expect(() => parsePreview("")).toThrow("no JSON");
    expect(() => parsePreview('{"a":1}\nnot json')).toThrow("line 2");
  });
});

describe("values and risks", () => {
  it("masks both forms of a secret, nested too", () => {
    const sig = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "x" };
    expect(showValue(sig)).toBe("[secret]");
    expect(showValue("[secret]")).toBe("[secret]");
    expect(showValue({ a: sig, b: [sig] })).toBe('{"a":"[secret]","b":["[secret]"]}');
    expect(showValue("x".repeat(200))).toHaveLength(100);
  });

  it("knows gears, applications, brokers and data cartridges by type and inputs", () => {
    expect(riskOf("geartrain:application:Application")).toBe("application");
    expect(riskOf("geartrain:gear:Gear")).toBe("gear");
    expect(riskOf("geartrain:platform:Broker")).toBe("broker");
    expect(riskOf("geartrain:application:Cartridge", { name: "postgresql-15" })).toBe("data-cartridge");
    expect(riskOf("geartrain:application:Cartridge", { name: "cron-1.4" })).toBeUndefined();
    expect(riskOf("geartrain:platform:District")).toBeUndefined();
  });

  it("lists a create's fields and nothing for a delete", () => {
    const base: PreviewStep = {
      op: "create",
      urn: "urn:pulumi:s::p::t:m:R::r",
      type: "t:m:R",
      custom: true,
      newInputs: { a: 1, b: { c: "x" } },
      changedKeys: [],
      replaceKeys: [],
    };
    expect(fieldChanges(base).map((f) => `${f.path}=${f.new}`)).toEqual(["a=1", 'b.c="x"']);
    expect(fieldChanges({ ...base, op: "delete", oldInputs: { a: 1 } })).toEqual([]);
  });
});
