// A config document checked against its JSON schema: the value as T when the schema accepts it, else a
// ValidationError naming the first bad field (`config.<path>`). Shared by the services that load config
// files (services/config-file.ts) and the components that render them (components/broker, the node host),
// so a rendered file is validated by the very schema its program loads it with.

import type { ValidateFunction } from "ajv/dist/2020";
import { EXPECTED_KEYWORD, fieldPath, pointerSegments } from "../ajv-errors";
import { ValidationError } from "../errors";

/** `doc` as T when `validate` accepts it; else a ValidationError naming the first bad field. */
export function checkConfig<T>(validate: ValidateFunction, doc: unknown): T {
  if (!validate(doc)) {
    const e = validate.errors![0];
    const segs = pointerSegments(e.instancePath, doc);
    if (e.keyword === "required") segs.push((e.params as { missingProperty: string }).missingProperty);
    if (e.keyword === "additionalProperties")
      segs.push((e.params as { additionalProperty: string }).additionalProperty);
    // a value's schema may say what it expects (x-expected) instead of ajv's "must match pattern ..."
    const expected = (e.parentSchema as Record<string, unknown> | undefined)?.[EXPECTED_KEYWORD];
    const what =
      e.keyword === "required"
        ? "is missing"
        : e.keyword === "additionalProperties"
          ? "unknown key"
          : typeof expected === "string"
            ? `must be ${expected} (got ${JSON.stringify(e.data)})`
            : e.message;
    throw new ValidationError(fieldPath(segs, "config"), what ?? "is invalid");
  }
  return doc as unknown as T;
}
