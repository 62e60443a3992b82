// Input validation (Check). Values that are unknown (preview) are not validated; secrets are
// validated on their plain value, and messages never quote a value that could be secret.

import { utils as sshUtils } from "ssh2";
import { sourceProblem } from "./copy";
import { envValueProblem, localEnvNameProblem, remoteEnvNameProblem } from "./env";
import { globProblem } from "./globs";
import { parseHostKey } from "./hostkey";
import {
  CONNECTION_SPEC,
  LOGGING_VALUES,
  ObjectSpec,
  PROXY_CONNECTION_SPEC,
  PropSpec,
  RESOURCES,
  RUN_FUNCTION,
  ResourceToken,
  TOKENS,
} from "./schema";
import { containsUnknown, isObject, isUnknown, plain } from "./wire";

export interface CheckFailure {
  property: string;
  reason: string;
}

type EnvFlavor = "local" | "remote";

function typeName(v: unknown): string {
  if (v === null) {
    return "null";
  }
  return Array.isArray(v) ? "array" : typeof v;
}

function checkValue(p: PropSpec, v: unknown, at: string, env: EnvFlavor, out: CheckFailure[]): void {
  if (v === undefined || v === null || isUnknown(v)) {
    return;
  }
  const t = p.type;
  const bad = (expected: string) =>
    out.push({ property: at, reason: `${at} must be ${expected}, not ${typeName(v)}` });
  switch (t.kind) {
    case "string":
      if (typeof v !== "string") {
        bad("a string");
      }
      return;
    case "boolean":
      if (typeof v !== "boolean") {
        bad("a boolean");
      }
      return;
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v)) {
        bad("a number");
      } else if (t.integer && !Number.isInteger(v)) {
        out.push({ property: at, reason: `${at} must be a whole number, not ${v}` });
      } else if ((t.min !== undefined && v < t.min) || (t.max !== undefined && v > t.max)) {
        const range = t.max !== undefined ? `between ${t.min} and ${t.max}` : `at least ${t.min}`;
        out.push({ property: at, reason: `${at} must be ${range}, not ${v}` });
      }
      return;
    case "stringArray":
      if (!Array.isArray(v)) {
        bad("a list of strings");
        return;
      }
      if (t.minItems !== undefined && v.length < t.minItems) {
        out.push({ property: at, reason: `${at} must have at least ${t.minItems} element(s)` });
      }
      v.forEach((x, i) => {
        if (!isUnknown(x) && (typeof x !== "string" || (i === 0 && x === ""))) {
          out.push({ property: `${at}[${i}]`, reason: `${at}[${i}] must be a non-empty string` });
        } else if (t.globs && typeof x === "string") {
          const problem = globProblem(x);
          if (problem) out.push({ property: `${at}[${i}]`, reason: `${at}[${i}]: ${problem}` });
        }
      });
      return;
    case "stringMap":
      if (!isObject(v)) {
        bad("a map of strings");
        return;
      }
      for (const [name, value] of Object.entries(v)) {
        const nameProblem = env === "remote" ? remoteEnvNameProblem(name) : localEnvNameProblem(name);
        if (nameProblem) {
          out.push({ property: `${at}.${name}`, reason: nameProblem });
        } else if (isUnknown(value)) {
          continue;
        } else if (typeof value !== "string") {
          out.push({
            property: `${at}.${name}`,
            reason: `${at}.${name} must be a string, not ${typeName(value)}`,
          });
        } else {
          const vp = envValueProblem(name, value);
          if (vp) {
            out.push({ property: `${at}.${name}`, reason: vp });
          }
        }
      }
      return;
    case "anyArray":
      if (!Array.isArray(v)) {
        bad("a list");
      }
      return;
    case "logging":
      if (typeof v !== "string" || !(LOGGING_VALUES as readonly string[]).includes(v)) {
        out.push({ property: at, reason: `${at} must be one of ${LOGGING_VALUES.join(", ")}` });
      }
      return;
    case "assetOrArchive": {
      if (containsUnknown(v)) {
        return;
      }
      const problem = sourceProblem(v);
      if (problem) {
        out.push({ property: at, reason: `${at}: ${problem}` });
      }
      return;
    }
    case "archive":
    case "assetOrArchiveMap":
      return; // output-only
    case "object":
      if (!isObject(v)) {
        bad("an object");
        return;
      }
      checkConnection(t.ref === "connection" ? CONNECTION_SPEC : PROXY_CONNECTION_SPEC, v, at, out);
      return;
  }
}

function checkObject(
  spec: ObjectSpec,
  values: Record<string, unknown>,
  prefix: string,
  env: EnvFlavor,
  out: CheckFailure[],
): void {
  for (const req of spec.required) {
    const v = values[req];
    if (v === undefined || v === null || v === "") {
      const at = prefix + req;
      out.push({ property: at, reason: `missing required property ${at}` });
    }
  }
  for (const [k, v] of Object.entries(values)) {
    const at = prefix + k;
    const p = spec.properties[k];
    if (!p) {
      out.push({ property: at, reason: `unknown property ${at}` });
      continue;
    }
    checkValue(p, v, at, env, out);
  }
}

function checkConnection(
  spec: ObjectSpec,
  c: Record<string, unknown>,
  at: string,
  out: CheckFailure[],
): void {
  const before = out.length;
  checkObject(spec, c, `${at}.`, "remote", out);
  if (out.length !== before) {
    return;
  }
  const hostKey = c["hostKey"];
  if (typeof hostKey === "string" && hostKey !== "") {
    try {
      parseHostKey(hostKey);
    } catch (e) {
      out.push({
        property: `${at}.hostKey`,
        reason: (e as Error).message.replace(/^connection\./, `${at}.`),
      });
    }
  }
  const key = c["privateKey"];
  const pass = c["privateKeyPassword"];
  if (typeof key === "string" && key !== "" && !isUnknown(pass)) {
    const parsed = sshUtils.parseKey(key, typeof pass === "string" && pass !== "" ? pass : undefined);
    if (parsed instanceof Error) {
      out.push({
        property: `${at}.privateKey`,
        reason: `${at}.privateKey cannot be parsed (${parsed.message}); it must be an unencrypted key or come with ${at}.privateKeyPassword`,
      });
    }
  }
}

/** Validates the inputs of one of our resources. `news` is as received (secrets still wrapped). */
export function checkResource(token: ResourceToken, news: Record<string, unknown>): CheckFailure[] {
  const spec = RESOURCES[token];
  const values = plain(news) as Record<string, unknown>;
  const out: CheckFailure[] = [];
  checkObject(spec, values, "", token === TOKENS.localCommand ? "local" : "remote", out);
  return out;
}

/** Validates the arguments of command:local:run. */
export function checkRunArgs(args: Record<string, unknown>): CheckFailure[] {
  const out: CheckFailure[] = [];
  checkObject(RUN_FUNCTION, plain(args) as Record<string, unknown>, "", "local", out);
  return out;
}
