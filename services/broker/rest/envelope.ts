// The OpenShift v1.7 reply envelope and its messages (shared/reference/openshift-rest-api.md §3.3, §3.5).
// Pure: no fastify here.

export const API_VERSION = 1.7;
/** We render only 1.7 shapes, so only 1.7 is advertised (rhc picks the highest version both sides have). */
export const SUPPORTED_API_VERSIONS: readonly number[] = [1.7];

export interface WireMessage {
  readonly severity: string;
  readonly text: string;
  readonly exit_code: number;
  readonly field: string | null;
}

export interface Envelope {
  readonly api_version: number;
  readonly version: string;
  readonly status: string;
  readonly type: string | null;
  readonly data: unknown;
  readonly messages: readonly WireMessage[];
  readonly supported_api_versions: readonly number[];
}

/** origin's (Rails') status names for the codes we answer with. */
const STATUS_NAMES: Record<number, string> = {
  200: "ok",
  201: "created",
  204: "no_content",
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  406: "not_acceptable",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  422: "unprocessable_entity",
  500: "internal_server_error",
  503: "service_unavailable",
};

export function statusName(code: number): string {
  return STATUS_NAMES[code] ?? String(code);
}

export function message(
  severity: string,
  text: string,
  opts: { exitCode?: number; field?: string | null } = {},
): WireMessage {
  return { severity, text, exit_code: opts.exitCode ?? 0, field: opts.field ?? null };
}

export function envelope(
  httpStatus: number,
  type: string | null,
  data: unknown,
  messages: readonly WireMessage[] = [],
): Envelope {
  return {
    api_version: API_VERSION,
    version: API_VERSION.toFixed(1),
    status: statusName(httpStatus),
    type,
    data,
    messages,
    supported_api_versions: SUPPORTED_API_VERSIONS,
  };
}

/**
 * The version an Accept header asks for: null when none is named (we answer 1.7), the number otherwise.
 * `application/json;version=1.7` and `application/json; version=1.7` both count.
 */
export function requestedVersion(accept: string | undefined): number | null {
  if (!accept) return null;
  const m = /(?:^|[;,\s])version\s*=\s*"?([0-9]+(?:\.[0-9]+)?)"?/i.exec(accept);
  return m ? Number(m[1]) : null;
}

export function versionSupported(v: number | null): boolean {
  return v === null || SUPPORTED_API_VERSIONS.some((s) => Math.abs(s - v) < 1e-9);
}
