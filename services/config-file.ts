// A service's config file (JSON) checked against its schema before anything connects, shared by the broker
// (services/broker/config.ts) and the agent (services/agent/config.ts): a file that cannot be read is
// unavailable, one that is not JSON or fails the schema is a ValidationError naming the field
// (`config.<path>`, the first error only).

import { readFileSync } from "fs";
import type { ValidateFunction } from "ajv/dist/2020";
import { fieldPath, pointerSegments } from "../common/ajv-errors";
import { UnavailableError, ValidationError } from "../common/errors";

/** `doc` as T when `validate` accepts it; else a ValidationError naming the first bad field. */
export function checkConfig<T>(validate: ValidateFunction, doc: unknown): T {
  if (!validate(doc)) {
    const e = validate.errors![0];
    const segs = pointerSegments(e.instancePath, doc);
    if (e.keyword === "required") segs.push((e.params as { missingProperty: string }).missingProperty);
    if (e.keyword === "additionalProperties")
      segs.push((e.params as { additionalProperty: string }).additionalProperty);
    const what =
      e.keyword === "required"
        ? "is missing"
        : e.keyword === "additionalProperties"
          ? "unknown key"
          : e.message;
    throw new ValidationError(fieldPath(segs, "config"), what ?? "is invalid");
  }
  return doc as unknown as T;
}

/** Reads and parses `file`, then `check`s it; `what` names it in a read error ("the agent config"). */
export function loadConfigFile<T>(file: string, what: string, check: (doc: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UnavailableError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ValidationError("config", `${file} is not valid JSON: ${(e as Error).message}`);
  }
  return check(doc);
}
