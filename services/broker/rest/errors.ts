// The one place that turns any error into a REST reply: a GeartrainError by its httpStatus (common/errors.ts),
// its field and its origin broker code (app/errors.ts); fastify's own errors (validation, malformed or
// oversized bodies, wrong media types) by their statusCode; anything else is a 500 whose text says nothing of
// the internals. Pure.

import type { ErrorObject } from "ajv";
import { GeartrainError, reportOf } from "../../../common/errors";
import { originCodeOf } from "../app/errors";
import { message, type WireMessage } from "./envelope";

export interface ErrorReply {
  readonly status: number;
  readonly messages: readonly WireMessage[];
  /** for the log: a bug or host failure (500), not a refusal of bad input */
  readonly internal: boolean;
}

interface FastifyLikeError {
  readonly statusCode?: number;
  readonly code?: string;
  readonly message?: string;
  readonly validation?: readonly ErrorObject[];
  readonly validationContext?: string;
}

/** `/cartridges/0/name` → `cartridges[0].name` */
export function fieldOf(e: ErrorObject): string {
  const parts = e.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (e.keyword === "required") parts.push(String(e.params.missingProperty));
  let out = "";
  for (const p of parts) {
    if (/^[0-9]+$/.test(p)) out += `[${p}]`;
    else out += out === "" ? p : `.${p}`;
  }
  return out;
}

function problemText(e: ErrorObject, field: string): string {
  switch (e.keyword) {
    case "required":
      return `${field} is required`;
    case "enum":
      return `invalid ${field}: must be one of ${(e.params.allowedValues as unknown[]).join(", ")}`;
    case "pattern":
      return `invalid ${field}: must match ${e.params.pattern}`;
    case "type":
      return `invalid ${field}: must be of type ${e.params.type}`;
    case "not":
      return `invalid ${field}: this value is not allowed`;
    default:
      return `invalid ${field}: ${e.message ?? e.keyword}`;
  }
}

/** One message per field (the first problem of each), anyOf summaries dropped when a branch said more. */
export function validationMessages(
  errors: readonly ErrorObject[],
  codes: Readonly<Record<string, number>> = {},
  context = "body",
): WireMessage[] {
  const useful = errors.filter((e) => e.keyword !== "anyOf" || errors.length === 1);
  const seen = new Set<string>();
  const out: WireMessage[] = [];
  for (const e of useful) {
    const field = fieldOf(e) || context;
    if (seen.has(field)) continue;
    seen.add(field);
    const top = field.split(/[.[]/)[0];
    out.push(message("error", problemText(e, field), { exitCode: codes[top] ?? 1, field }));
  }
  return out;
}

export function errorReply(err: unknown, codes: Readonly<Record<string, number>> = {}): ErrorReply {
  const fe = err as FastifyLikeError;
  if (fe && Array.isArray(fe.validation)) {
    return {
      status: 422,
      messages: validationMessages(fe.validation, codes, fe.validationContext),
      internal: false,
    };
  }
  if (err instanceof GeartrainError) {
    const r = reportOf(err);
    const exitCode = originCodeOf(err) ?? 1;
    return {
      status: r.httpStatus,
      messages: [message("error", r.message, { exitCode, field: r.field ?? null })],
      internal: r.httpStatus >= 500,
    };
  }
  // fastify's errors for bodies it could not read: FST_ERR_CTP_* and JSON SyntaxErrors, all 4xx
  if (fe && typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const text =
      fe.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? "the request body is too large"
        : fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
          ? "unsupported Content-Type: send application/json"
          : `the request body is not valid JSON: ${fe.message ?? ""}`.trim();
    const field = fe.statusCode === 404 ? null : "body";
    return {
      status: fe.statusCode,
      messages: [message("error", text, { exitCode: 1, field })],
      internal: false,
    };
  }
  return {
    status: 500,
    messages: [
      message("error", "internal error in the broker; the broker's log has the details", { exitCode: 1 }),
    ],
    internal: true,
  };
}
