// The OpenShift v2 broker REST API v1.7 as a client sees it (shared/reference/openshift-rest-api.md), pure:
// the envelope and link shapes, version negotiation, link lookup and href templates, and the error a reply
// stands for (common/errors.ts classes, with the field). No I/O; client.ts does the requests.

import {
  ConflictError,
  GeartrainError,
  NotFoundError,
  OperationFailedError,
  RefusedError,
  UnavailableError,
  ValidationError,
} from "../../common/errors";

/** The API versions this client speaks (it renders and reads 1.7 shapes only). */
export const CLIENT_API_VERSIONS: readonly number[] = [1.7];
export const API_VERSION = 1.7;
/** Media type of every request after discovery (no space after `;`, as rhc sends it). */
export const VERSIONED_JSON = `application/json;version=${API_VERSION.toFixed(1)}`;

export interface WireMessage {
  readonly severity: string;
  readonly text: string;
  readonly exit_code?: number | null;
  readonly field?: string | null;
}

export interface WireParam {
  readonly name: string;
  readonly type?: string;
  readonly description?: string;
  readonly valid_options?: readonly string[];
}

export interface WireLink {
  readonly rel?: string;
  readonly method: string;
  readonly href: string;
  readonly required_params?: readonly WireParam[];
  readonly optional_params?: readonly WireParam[];
}

export type LinkMap = Readonly<Record<string, WireLink>>;

export interface Envelope<T = unknown> {
  readonly api_version?: number;
  readonly version?: string;
  readonly status?: string;
  readonly type: string | null;
  readonly data: T;
  readonly messages: readonly WireMessage[];
  readonly supported_api_versions?: readonly number[];
}

/** The highest version both sides speak, or null (rhc's negotiation, §3.1). */
export function negotiateVersion(serverVersions: readonly number[]): number | null {
  const common = serverVersions.filter((v) => CLIENT_API_VERSIONS.some((c) => Math.abs(c - v) < 1e-9));
  return common.length === 0 ? null : Math.max(...common);
}

/** The version a reply was rendered at: `api_version`, else `version` as a number (§3.1). */
export function replyVersion(env: Envelope): number | null {
  if (typeof env.api_version === "number") return env.api_version;
  if (typeof env.version === "string" && !Number.isNaN(Number(env.version))) return Number(env.version);
  return null;
}

/** A link by name, as rhc looks it up (the name, then its upper-case form); null when absent. */
export function findLink(links: LinkMap | null | undefined, name: string): WireLink | null {
  if (!links || typeof links !== "object") return null;
  const l = links[name] ?? links[name.toUpperCase()];
  return l && typeof l.href === "string" && typeof l.method === "string" ? l : null;
}

/** True when the link lists `param` among its required or optional params (rhc's has_param?). */
export function hasParam(link: WireLink, param: string): boolean {
  return [...(link.required_params ?? []), ...(link.optional_params ?? [])].some((p) => p.name === param);
}

/** Percent-escapes everything outside RFC 2396's unreserved set (`-_.!~*'()` and alphanumerics). */
export function escapeSegment(value: string): string {
  return encodeURIComponent(value);
}

/**
 * `href` with every `:word` replaced by the URI-escaped value of `params[word]`; a template word without a
 * value is a ValidationError naming it (so a request never goes out with `:name` in its path).
 */
export function expandHref(href: string, params: Readonly<Record<string, string>> = {}): string {
  const u = new URL(href);
  const path = u.pathname.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, word: string) => {
    const v = params[word];
    if (v === undefined) throw new ValidationError(word, `the link ${href} needs a value for :${word}`);
    return escapeSegment(v);
  });
  return `${u.origin}${path}${u.search}`;
}

/** `url` with `query` appended (GET parameters go in the query string, §3.1). */
export function withQuery(url: string, query: Readonly<Record<string, string>> | undefined): string {
  if (!query || Object.keys(query).length === 0) return url;
  const u = new URL(url);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/** The broker's API root (`https://host/broker/rest`) for a server given as a host, URL or full API URL. */
export function apiRoot(server: string): string {
  const s = server.trim();
  if (s.length === 0) throw new ValidationError("server", "is empty");
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new ValidationError("server", `${JSON.stringify(server)} is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new ValidationError("server", `${u.protocol} is not http: or https:`);
  if (u.username || u.password)
    throw new ValidationError("server", "must not carry credentials (use login or a token)");
  let p = u.pathname.replace(/\/+$/, "");
  if (p.endsWith("/api")) p = p.slice(0, -4);
  if (!p.endsWith("/broker/rest")) p = `${p}/broker/rest`;
  return `${u.origin}${p}`;
}

/** Reads a reply body as an envelope, or null when it is not one (not JSON, no data/messages). */
export function parseEnvelope(text: string): Envelope | null {
  if (text.trim().length === 0) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const messages = Array.isArray(o.messages)
    ? o.messages.filter(
        (m): m is WireMessage =>
          typeof m === "object" && m !== null && typeof (m as WireMessage).text === "string",
      )
    : [];
  if (!("data" in o) && messages.length === 0) return null;
  return {
    ...(o as object),
    type: typeof o.type === "string" ? o.type : null,
    data: o.data ?? null,
    messages,
  } as Envelope;
}

/** Messages a caller should show after a success: anything but info and debug (§3.5), plus field "result". */
export function messagesToShow(messages: readonly WireMessage[]): WireMessage[] {
  return messages.filter((m) => (m.severity !== "info" && m.severity !== "debug") || m.field === "result");
}

/** A reply the broker answered with an error status; `details()` carries what the CLI prints as JSON. */
interface BrokerErrorInfo {
  readonly status: number;
  readonly messages: readonly WireMessage[];
}

function brokerDetails(info: BrokerErrorInfo): Record<string, unknown> {
  const codes = info.messages
    .map((m) => m.exit_code)
    .filter((c): c is number => typeof c === "number" && c !== 0);
  return { status: info.status, ...(codes.length ? { broker_exit_code: codes[0] } : {}) };
}

/** 400, 409 or 422 with field messages: input the broker refused; `field` is the first message's. */
export class BrokerValidationError extends ValidationError {
  constructor(
    field: string,
    message: string,
    private readonly info: BrokerErrorInfo,
  ) {
    super(field, message);
  }
  override details(): Record<string, unknown> {
    return brokerDetails(this.info);
  }
}

/** A reply error class: `Base`'s kind and codes, with the reply's status and exit code as its details. */
function replyError<E extends GeartrainError>(
  Base: new (message: string) => E,
): new (message: string, info: BrokerErrorInfo) => E {
  class ReplyError extends (Base as new (message: string) => GeartrainError) {
    constructor(
      message: string,
      private readonly info: BrokerErrorInfo,
    ) {
      super(message);
    }
    override details(): Record<string, unknown> {
      return brokerDetails(this.info);
    }
  }
  return ReplyError as unknown as new (message: string, info: BrokerErrorInfo) => E;
}

export class BrokerNotFoundError extends replyError(NotFoundError) {}

export class BrokerConflictError extends replyError(ConflictError) {}

/** 401 (not logged in, or a wrong password or token) and 403 (not allowed). */
export class BrokerRefusedError extends replyError(RefusedError) {}

export class BrokerFailedError extends replyError(OperationFailedError) {}

export class BrokerUnavailableError extends replyError(UnavailableError) {}

function errorText(messages: readonly WireMessage[]): string | null {
  const errors = messages.filter((m) => m.severity === "error");
  const shown = errors.length > 0 ? errors : messages.filter((m) => m.severity !== "debug");
  if (shown.length === 0) return null;
  if (shown.length === 1) return shown[0].text;
  return `the broker reported ${shown.length} errors: ${shown.map((m) => m.text).join("; ")}`;
}

/**
 * The error an error reply stands for (rhc's table, §3.5), as a common/errors.ts class: 400/422 → invalid
 * with the field (409 → conflict), 401/403 → refused, 404 → not found, 406 → unavailable (no common
 * version), 503 → unavailable, other → failed. `what` says which request it was ("POST …/domains").
 */
export function errorForReply(status: number, env: Envelope | null, what: string): GeartrainError {
  const messages = env?.messages ?? [];
  const info = { status, messages };
  const text = errorText(messages);
  switch (status) {
    case 400:
    case 422: {
      if (text === null)
        return new BrokerFailedError(
          `${what}: the server did not respond correctly (HTTP ${status} without messages)`,
          info,
        );
      const fielded = messages.find(
        (m) => m.severity === "error" && typeof m.field === "string" && m.field !== "",
      );
      const field = fielded?.field ?? "request";
      // the broker's text usually names the field already ("invalid name: ..."); keep it as it is
      return new BrokerValidationError(field, text.replace(/^invalid [^:]+: /, ""), info);
    }
    case 409:
      return new BrokerConflictError(text ?? `${what}: conflict (HTTP 409)`, info);
    case 401:
      return new BrokerRefusedError(
        `not authenticated${text !== null ? `: ${text}` : ""} (log in with \`geartrain login\`, or check the token)`,
        info,
      );
    case 403:
      return new BrokerRefusedError(text ?? "You are not authorized to perform this operation.", info);
    case 404:
      return new BrokerNotFoundError(text ?? `${what}: not found (HTTP 404)`, info);
    case 406:
      return new BrokerUnavailableError(
        `${what}: the broker does not speak API ${CLIENT_API_VERSIONS.join(", ")}${text !== null ? ` (${text})` : ""}`,
        info,
      );
    case 502:
    case 503:
      return new BrokerUnavailableError(text ?? `${what}: the broker is unavailable (HTTP ${status})`, info);
    default:
      return new BrokerFailedError(
        text !== null ? text : `${what}: the server returned an unexpected error code: ${status}`,
        info,
      );
  }
}
