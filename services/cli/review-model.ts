// `geartrain review`'s pure part: what a `pulumi preview --json` said (its streaming events, or the single
// JSON object of a non-streaming preview), grouped per component, with the risky changes first, rendered as
// Markdown for a pull-request comment; and the exit code of the review. No I/O here.

import { EXIT } from "../../common/errors";

/** What a secret value is shown as, everywhere in the summary. */
export const SECRET = "[secret]";

/** Pulumi's marker of a secret value in serialized properties (the key and its value). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** Pulumi's marker of a value not known until `up` (the preview of a new resource's computed input). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The changes the summary lists; every other step (same, read, refresh) is left out. */
export type ChangeOp = "create" | "update" | "replace" | "delete" | "import";

/** One resource's planned change, from either form of the preview JSON. */
export interface PreviewStep {
  readonly op: ChangeOp;
  readonly urn: string;
  readonly type: string;
  /** parent URN (old state's for a delete) */
  readonly parent?: string;
  /** false for a component resource (no provider) */
  readonly custom: boolean;
  readonly oldInputs?: Readonly<Record<string, unknown>>;
  readonly newInputs?: Readonly<Record<string, unknown>>;
  /** the properties the engine names as changed or as forcing the replacement */
  readonly changedKeys: readonly string[];
  readonly replaceKeys: readonly string[];
}

export type EnforcementLevel = "mandatory" | "advisory" | "remediate" | "disabled";

/** One violation a policy pack reported. */
export interface PolicyFinding {
  readonly pack: string;
  readonly policy: string;
  readonly level: EnforcementLevel;
  /** the resource it is about (absent or the stack's URN for a stack-wide finding) */
  readonly urn?: string;
  readonly message: string;
}

/** What one preview said. */
export interface PreviewResult {
  readonly steps: readonly PreviewStep[];
  readonly policies: readonly PolicyFinding[];
  /** the engine's error diagnostics, in order */
  readonly errors: readonly string[];
  /** whether the engine reported the preview itself as failed */
  readonly failed: boolean;
  /** resources left as they are */
  readonly unchanged: number;
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown): Json | undefined {
  return isRecord(v) ? v : undefined;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

const CHANGE_OPS: Readonly<Record<string, ChangeOp>> = {
  create: "create",
  update: "update",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  delete: "delete",
  import: "import",
  "import-replacement": "replace",
};

function detailedDiffKeys(v: unknown): { changed: string[]; replace: string[] } {
  const dd = asRecord(v) ?? {};
  const changed = Object.keys(dd);
  const replace = changed.filter((k) => String(asRecord(dd[k])?.kind ?? "").endsWith("-replace"));
  return { changed, replace };
}

/** A step of either JSON form: `metadata` of a resourcePreEvent, or an entry of the object's `steps`. */
function stepOf(raw: Json): PreviewStep | undefined {
  const op = CHANGE_OPS[String(raw.op)];
  const urn = raw.urn;
  if (op === undefined || typeof urn !== "string") return undefined;
  const oldState = asRecord(raw.old) ?? asRecord(raw.oldState);
  const newState = asRecord(raw.new) ?? asRecord(raw.newState);
  const state = newState ?? oldState ?? {};
  const type = typeof raw.type === "string" ? raw.type : String(state.type ?? typeOfUrn(urn));
  const custom =
    typeof state.custom === "boolean"
      ? state.custom
      : typeof state.provider === "string"
        ? state.provider !== ""
        : typeof raw.provider === "string" && raw.provider !== "";
  const dd = detailedDiffKeys(raw.detailedDiff);
  const parent = [newState?.parent, oldState?.parent].find(
    (p): p is string => typeof p === "string" && p !== "",
  );
  return {
    op,
    urn,
    type,
    ...(parent !== undefined ? { parent } : {}),
    custom,
    ...(asRecord(oldState?.inputs) ? { oldInputs: asRecord(oldState?.inputs) } : {}),
    ...(asRecord(newState?.inputs) ? { newInputs: asRecord(newState?.inputs) } : {}),
    changedKeys: [...new Set([...strings(raw.diffs), ...strings(raw.diffReasons), ...dd.changed])],
    replaceKeys: [...new Set([...strings(raw.keys), ...strings(raw.replaceReasons), ...dd.replace])],
  };
}

const LEVELS: readonly EnforcementLevel[] = ["mandatory", "advisory", "remediate", "disabled"];

function policyOf(raw: Json): PolicyFinding {
  const level = LEVELS.find((l) => l === raw.enforcementLevel) ?? "mandatory";
  const urn = typeof raw.resourceUrn === "string" && raw.resourceUrn !== "" ? raw.resourceUrn : undefined;
  return {
    pack: String(raw.policyPackName ?? ""),
    policy: String(raw.policyName ?? ""),
    level,
    ...(urn !== undefined ? { urn } : {}),
    message: String(raw.message ?? "").trim(),
  };
}

/** Merges the steps of one URN (a replacement comes as create-replacement, replace and delete-replaced). */
function mergeSteps(steps: readonly PreviewStep[]): PreviewStep[] {
  const byUrn = new Map<string, PreviewStep>();
  for (const s of steps) {
    const seen = byUrn.get(s.urn);
    if (seen === undefined) {
      byUrn.set(s.urn, s);
      continue;
    }
    const op = seen.op === "replace" || s.op === "replace" ? "replace" : s.op;
    byUrn.set(s.urn, {
      ...seen,
      ...s,
      op,
      oldInputs: seen.oldInputs ?? s.oldInputs,
      newInputs: s.newInputs ?? seen.newInputs,
      changedKeys: [...new Set([...seen.changedKeys, ...s.changedKeys])],
      replaceKeys: [...new Set([...seen.replaceKeys, ...s.replaceKeys])],
    } as PreviewStep);
  }
  return [...byUrn.values()];
}

/**
 * Reads what `pulumi preview --json` printed: the streaming events (one JSON object a line, as with
 * PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true, which carry the policy violations) or the single object of a
 * plain `--json` preview (`steps`, `diagnostics`, `changeSummary`; it carries no policy violations).
 * Throws a plain Error when the text is neither.
 */
export function parsePreview(text: string): PreviewResult {
  const trimmed = text.trim();
  if (trimmed === "") throw new Error("the preview printed no JSON");
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined;
  }
  if (isRecord(whole) && Array.isArray(whole.steps)) return parseObject(whole);
  const events: Json[] = [];
  for (const [i, line] of trimmed.split("\n").entries()) {
    if (line.trim() === "") continue;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} of the preview output is not JSON: ${line.slice(0, 80)}`);
    }
    if (isRecord(e)) events.push(e);
  }
  if (isRecord(whole)) events.push(whole); // one event alone
  return parseEvents(events);
}

function parseObject(obj: Json): PreviewResult {
  const raw = (obj.steps as unknown[]).filter(isRecord);
  const errors = (Array.isArray(obj.diagnostics) ? obj.diagnostics : [])
    .filter(isRecord)
    .filter((d) => d.severity === "error")
    .map((d) => String(d.message ?? "").trim());
  const summary = asRecord(obj.changeSummary) ?? {};
  return {
    steps: mergeSteps(raw.map(stepOf).filter((s): s is PreviewStep => s !== undefined)),
    policies: [],
    errors,
    failed: errors.length > 0,
    unchanged: Number(summary.same ?? 0),
  };
}

function parseEvents(events: readonly Json[]): PreviewResult {
  const steps: PreviewStep[] = [];
  const policies: PolicyFinding[] = [];
  const errors: string[] = [];
  let failed = false;
  let unchanged = 0;
  for (const e of events) {
    const pre = asRecord(asRecord(e.resourcePreEvent)?.metadata);
    if (pre) {
      const s = stepOf(pre);
      if (s) steps.push(s);
      else if (pre.op === "same") unchanged++;
    }
    const policy = asRecord(e.policyEvent);
    if (policy) policies.push(policyOf(policy));
    const diag = asRecord(e.diagnosticEvent);
    if (diag && diag.severity === "error") errors.push(String(diag.message ?? "").trim());
    const summary = asRecord(e.summaryEvent);
    if (summary) {
      failed = summary.result === "failed";
      const same = asRecord(summary.resourceChanges)?.same;
      if (typeof same === "number") unchanged = same;
    }
  }
  return { steps: mergeSteps(steps), policies, errors, failed: failed || errors.length > 0, unchanged };
}

// ---------------------------------------------------------------------------------------------------------
// URNs and kinds

/** The type of a URN's resource (the last part of its qualified type). */
export function typeOfUrn(urn: string): string {
  const parts = urn.split("::");
  const qualified = parts.length >= 4 ? parts[2] : "";
  return qualified.split("$").pop() ?? "";
}

/** The name of a URN's resource. */
export function nameOfUrn(urn: string): string {
  const parts = urn.split("::");
  return parts.length >= 4 ? parts.slice(3).join("::") : urn;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

/** What a review warns about when it is replaced or deleted. */
export type RiskKind = "application" | "gear" | "data-cartridge" | "broker" | "datastore";

/** Cartridges whose gears hold data that a replacement or deletion loses. */
export const DATA_CARTRIDGES = ["postgresql", "mysql", "mariadb", "mongodb"] as const;

function lastSegment(type: string): string {
  return type.split(":").pop() ?? type;
}

function mentionsDataCartridge(inputs: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!inputs) return undefined;
  const text = JSON.stringify([inputs.name, inputs.cartridge, inputs.cartridges, inputs.embedded]);
  return DATA_CARTRIDGES.find((c) => text.includes(`"${c}`));
}

/** The risk of replacing or deleting a resource of this type and these inputs, if any. */
export function riskOf(type: string, inputs?: Readonly<Record<string, unknown>>): RiskKind | undefined {
  const last = lastSegment(type);
  if (/^(Application|App)$/.test(last)) return "application";
  if (/Gear$/.test(last)) return "gear";
  if (/Cartridge$/.test(last)) return mentionsDataCartridge(inputs) ? "data-cartridge" : undefined;
  if (last === "Broker") return "broker";
  if (last === "Datastore") return "datastore";
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Values and changed fields

function isSecret(v: unknown): boolean {
  return v === SECRET || (isRecord(v) && v[SECRET_SIG_KEY] === SECRET_SIG);
}

/** A value as the summary shows it: secrets masked, unknowns named, long values cut. */
export function showValue(v: unknown): string {
  if (isSecret(v)) return SECRET;
  if (v === UNKNOWN) return "(known after apply)";
  const text = JSON.stringify(mask(v)) ?? "null";
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}

/** `v` with every secret replaced by {@link SECRET}. */
function mask(v: unknown): unknown {
  if (isSecret(v)) return SECRET;
  if (Array.isArray(v)) return v.map(mask);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
  return v;
}

function childPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return /^[A-Za-z_$][\w$-]*$/.test(key)
    ? base === ""
      ? key
      : `${base}.${key}`
    : `${base}[${JSON.stringify(key)}]`;
}

/** One changed (or, for a create, set) field. */
export interface FieldChange {
  readonly path: string;
  readonly old?: string;
  readonly new?: string;
  /** the engine says this field forces the replacement */
  readonly replaces: boolean;
}

/** Internal inputs (a dynamic provider's serialized code `__provider`, `__defaults`) are never shown. */
function shownKey(k: string): boolean {
  return !k.startsWith("__");
}

function leaves(v: unknown, base: string, out: Map<string, unknown>): void {
  if (!isSecret(v) && isRecord(v) && Object.keys(v).length > 0) {
    for (const k of Object.keys(v).sort())
      if (base !== "" || shownKey(k)) leaves(v[k], childPath(base, k), out);
  } else if (Array.isArray(v) && v.length > 0) {
    v.forEach((x, i) => leaves(x, childPath(base, i), out));
  } else if (base !== "") {
    out.set(base, v);
  }
}

function topKey(p: string): string {
  return p.split(/[.[]/)[0];
}

/** The fields a step sets (create) or changes (update, replace), each with its old and new value shown. */
export function fieldChanges(step: PreviewStep): FieldChange[] {
  if (step.op === "delete") return [];
  const before = new Map<string, unknown>();
  const after = new Map<string, unknown>();
  if (step.op !== "create" && step.op !== "import") leaves(step.oldInputs ?? {}, "", before);
  leaves(step.newInputs ?? {}, "", after);
  const replaces = (p: string) => step.replaceKeys.some((k) => k === p || topKey(k) === topKey(p));
  const changes: FieldChange[] = [];
  for (const p of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const o = before.get(p);
    const n = after.get(p);
    const changed = JSON.stringify(o) !== JSON.stringify(n);
    // Two masked values look alike; the engine's own list says whether the secret changed.
    const reported = step.changedKeys.some((k) => k === p || k === topKey(p));
    if (!changed && !(reported && (isSecret(o) || isSecret(n)))) continue;
    changes.push({
      path: p,
      ...(before.has(p) ? { old: showValue(o) } : {}),
      ...(after.has(p) ? { new: showValue(n) } : {}),
      replaces: step.op === "replace" && replaces(p),
    });
  }
  // Keys the engine names whose values look the same here (both masked, or a provider-side diff).
  for (const k of [...step.changedKeys, ...step.replaceKeys]) {
    if (!changes.some((c) => c.path === k || topKey(c.path) === topKey(k)) && shownKey(k))
      changes.push({ path: k, replaces: step.op === "replace" && step.replaceKeys.includes(k) });
  }
  return changes;
}

// ---------------------------------------------------------------------------------------------------------
// The summary

/** The steps of one component: its own change (if any) and its children's. */
export interface ComponentGroup {
  /** the component's URN, or the stack's for resources declared at the top level */
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly steps: readonly PreviewStep[];
}

export interface Warning {
  readonly op: "replace" | "delete";
  readonly risk: RiskKind;
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** the component it belongs to, when the warning is about a child of an application or broker */
  readonly within?: string;
  readonly dataCartridge?: string;
}

export interface ReviewSummary {
  readonly stack: string;
  readonly counts: Readonly<Record<ChangeOp, number>>;
  readonly unchanged: number;
  readonly warnings: readonly Warning[];
  readonly groups: readonly ComponentGroup[];
  readonly policies: readonly PolicyFinding[];
  readonly errors: readonly string[];
  readonly exitCode: number;
}

/** Exit codes of `geartrain review` (docs/reviewing-changes.md). */
export const REVIEW_EXIT = {
  /** the preview ran, no change, no mandatory policy failed */
  CLEAN: EXIT.OK,
  /** the preview could not run or failed for another reason than policy (the error is printed) */
  ERROR: EXIT.FAILED,
  USAGE: EXIT.USAGE,
  /** the preview ran and has changes; no mandatory policy failed */
  CHANGES: EXIT.CHANGES,
  /** a mandatory policy failed (whatever else the preview says) */
  POLICY: EXIT.POLICY,
} as const;

/** Default providers the engine makes by itself; their creation is no change of the stack's own. */
function isDefaultProvider(step: PreviewStep): boolean {
  return step.type.startsWith("pulumi:providers:") && nameOfUrn(step.urn).startsWith("default");
}

function isStack(urn: string | undefined): boolean {
  return urn === undefined || typeOfUrn(urn) === STACK_TYPE;
}

/** The group of a step: a component groups itself; a custom resource goes under its parent component. */
function groupUrnOf(step: PreviewStep, stackUrn: string): string {
  if (step.type === STACK_TYPE) return step.urn;
  if (!step.custom) return step.urn;
  return isStack(step.parent) ? stackUrn : (step.parent as string);
}

/** Groups, risks and the exit code of one preview of `stack`. */
export function summarize(stack: string, preview: PreviewResult): ReviewSummary {
  const steps = preview.steps.filter((s) => !isDefaultProvider(s) && s.type !== STACK_TYPE);
  const stackUrn = preview.steps.find((s) => s.type === STACK_TYPE)?.urn ?? "stack";
  const counts: Record<ChangeOp, number> = { create: 0, update: 0, replace: 0, delete: 0, import: 0 };
  for (const s of steps) counts[s.op]++;

  const groups = new Map<string, PreviewStep[]>();
  for (const s of steps) {
    const key = groupUrnOf(s, stackUrn);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const groupList: ComponentGroup[] = [...groups.entries()]
    .map(([urn, list]) => ({
      urn,
      type: urn === stackUrn ? STACK_TYPE : typeOfUrn(urn),
      name: urn === stackUrn ? stack : nameOfUrn(urn),
      steps: [...list].sort(
        (a, b) => nameOfUrn(a.urn).localeCompare(nameOfUrn(b.urn)) || a.urn.localeCompare(b.urn),
      ),
    }))
    .sort((a, b) => (a.urn === stackUrn ? 1 : b.urn === stackUrn ? -1 : a.urn.localeCompare(b.urn)));

  const warnings: Warning[] = [];
  const byUrn = new Map(steps.map((s) => [s.urn, s] as const));
  for (const s of steps) {
    if (s.op !== "replace" && s.op !== "delete") continue;
    const inputs = s.newInputs ?? s.oldInputs;
    const own = riskOf(s.type, inputs);
    const data = mentionsDataCartridge(inputs);
    if (own) {
      warnings.push({
        op: s.op,
        risk: own,
        urn: s.urn,
        type: s.type,
        name: nameOfUrn(s.urn),
        ...(data ? { dataCartridge: data } : {}),
      });
      continue;
    }
    // A child of an application (its gear) or of a broker: warned about unless its component already is.
    const parent = s.parent !== undefined && !isStack(s.parent) ? s.parent : undefined;
    if (parent === undefined) continue;
    const parentRisk = riskOf(typeOfUrn(parent));
    const parentStep = byUrn.get(parent);
    if (!parentRisk || (parentStep && (parentStep.op === "replace" || parentStep.op === "delete"))) continue;
    // An application's cartridges are judged by their own kind (a cron cartridge holds no data).
    if (/Cartridge$/.test(lastSegment(s.type))) continue;
    const parentData = mentionsDataCartridge(parentStep?.newInputs ?? parentStep?.oldInputs);
    warnings.push({
      op: s.op,
      risk: parentRisk === "application" ? "gear" : parentRisk,
      urn: s.urn,
      type: s.type,
      name: nameOfUrn(s.urn),
      within: parent,
      ...(parentData ? { dataCartridge: parentData } : {}),
    });
  }
  warnings.sort((a, b) => a.urn.localeCompare(b.urn));

  const mandatory = preview.policies.some((p) => p.level === "mandatory");
  const changed = steps.length > 0;
  // The engine's "preview failed" line only repeats what the policy findings say.
  const errors = preview.errors.filter((e) => !(mandatory && /^preview failed$/.test(e)));
  const exitCode = mandatory
    ? REVIEW_EXIT.POLICY
    : preview.failed || errors.length > 0
      ? REVIEW_EXIT.ERROR
      : changed
        ? REVIEW_EXIT.CHANGES
        : REVIEW_EXIT.CLEAN;
  return {
    stack,
    counts,
    unchanged: preview.unchanged,
    warnings,
    groups: groupList,
    policies: [...preview.policies].sort(
      (a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || (a.urn ?? "").localeCompare(b.urn ?? ""),
    ),
    errors,
    exitCode,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Markdown

/** Inline code that survives any backticks in `text`. */
export function code(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = "`".repeat(Math.max(0, ...runs.map((r) => r.length)) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A line of plain text: no Markdown or HTML from resource names or messages gets interpreted. */
function plain(text: string): string {
  return text.replace(/[\\`*_{}[\]<>|#]/g, (c) => `\\${c}`);
}

const OP_WORD: Readonly<Record<ChangeOp, string>> = {
  create: "create",
  update: "update",
  replace: "replace",
  delete: "delete",
  import: "import",
};

const RISK_WORD: Readonly<Record<RiskKind, string>> = {
  application: "application",
  gear: "gear",
  "data-cartridge": "cartridge with data",
  broker: "broker",
  datastore: "datastore",
};

function riskConsequence(w: Warning): string {
  const data = w.dataCartridge ? `; the ${w.dataCartridge} data in it is lost unless it was backed up` : "";
  switch (w.risk) {
    case "application":
    case "gear":
      return w.op === "replace"
        ? `its gears are destroyed and created again (new UIDs, empty home directories)${data}`
        : `its gears and everything in them are removed${data}`;
    case "data-cartridge":
      return `the data in this ${w.dataCartridge ?? "database"} cartridge is lost unless it was backed up`;
    case "broker":
      return w.op === "replace"
        ? "the broker is recreated: API clients lose their sessions while it restarts"
        : "the control plane loses this broker";
    case "datastore":
      return "the control plane's records (users, domains, applications) are lost unless backed up";
  }
}

const MAX_FIELDS = 25;

function fieldLine(f: FieldChange, op: ChangeOp): string {
  const forced = f.replaces ? " (forces replacement)" : "";
  if (f.old === undefined && f.new === undefined) return `  - ${code(f.path)} changed${forced}`;
  const added = op === "update" || op === "replace" ? " (added)" : "";
  if (f.old === undefined) return `  - ${code(f.path)}: ${code(f.new as string)}${added}${forced}`;
  if (f.new === undefined) return `  - ${code(f.path)}: ${code(f.old)} → (removed)${forced}`;
  return `  - ${code(f.path)}: ${code(f.old)} → ${code(f.new)}${forced}`;
}

function countsLine(s: ReviewSummary): string {
  const parts = (Object.keys(OP_WORD) as ChangeOp[])
    .filter((op) => s.counts[op] > 0)
    .map((op) => `${s.counts[op]} to ${OP_WORD[op]}`);
  const unchanged = `${s.unchanged} unchanged`;
  return parts.length === 0 ? `No changes (${unchanged}).` : `**${parts.join(", ")}** (${unchanged}).`;
}

function resourceRef(type: string, name: string): string {
  return `${code(name)} (${code(type)})`;
}

/** The Markdown of a review: title, counts, warnings, policy findings, errors, then changes per component. */
export function renderMarkdown(s: ReviewSummary): string {
  const out: string[] = [`## Geartrain review of stack ${code(s.stack)}`, "", countsLine(s), ""];

  if (s.warnings.length > 0) {
    out.push("### Warnings", "");
    for (const w of s.warnings) {
      const within = w.within ? ` in ${resourceRef(typeOfUrn(w.within), nameOfUrn(w.within))}` : "";
      out.push(
        `- **${w.op === "replace" ? "Replaces" : "Deletes"} ${RISK_WORD[w.risk]}** ` +
          `${resourceRef(w.type, w.name)}${within}: ${riskConsequence(w)}.`,
      );
    }
    out.push("");
  }

  if (s.policies.length > 0) {
    const failing = s.policies.filter((p) => p.level === "mandatory").length;
    out.push(`### Policy (${failing} mandatory violation${failing === 1 ? "" : "s"})`, "");
    for (const p of s.policies) {
      const where = p.urn && !isStack(p.urn) ? ` on ${resourceRef(typeOfUrn(p.urn), nameOfUrn(p.urn))}` : "";
      const [title, ...rest] = p.message.split("\n");
      const detail = rest.join(" ").trim();
      out.push(`- **${p.level}** ${code(p.policy)}${where}: ${plain(detail || title)}`);
    }
    out.push("");
  }

  if (s.errors.length > 0) {
    out.push("### Errors", "", "```text", ...s.errors.map((e) => e.replace(/```/g, "'''")), "```", "");
  }

  if (s.groups.length > 0) {
    out.push("### Changes by component", "");
    for (const g of s.groups) {
      out.push(`#### ${resourceRef(g.type, g.name)}`, "");
      for (const step of g.steps) {
        const self = step.urn === g.urn ? " (the component itself)" : "";
        out.push(`- **${OP_WORD[step.op]}** ${resourceRef(step.type, nameOfUrn(step.urn))}${self}`);
        const fields = fieldChanges(step);
        for (const f of fields.slice(0, MAX_FIELDS)) out.push(fieldLine(f, step.op));
        if (fields.length > MAX_FIELDS) out.push(`  - … and ${fields.length - MAX_FIELDS} more fields`);
      }
      out.push("");
    }
  }

  out.push(`<sub>geartrain review: exit ${s.exitCode} (${exitWord(s.exitCode)})</sub>`, "");
  return out.join("\n");
}

function exitWord(code: number): string {
  switch (code) {
    case REVIEW_EXIT.CLEAN:
      return "no changes";
    case REVIEW_EXIT.CHANGES:
      return "changes";
    case REVIEW_EXIT.POLICY:
      return "policy violation";
    default:
      return "error";
  }
}
