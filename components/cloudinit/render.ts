// Pure, deterministic rendering of cloud-init user data: the same input gives the same bytes, on any
// machine, on every run (no time, no randomness), so a second `pulumi up` shows no diff.
import { createHash } from "crypto";
import { gzipSync } from "zlib";
import * as YAML from "yaml";
import { DEFAULTS, type CloudConfig, type UserDataConfig, type UserDataPart } from "./args";

/**
 * `#cloud-config` + YAML with sorted keys. Emitted as YAML 1.1 because cloud-init parses with PyYAML
 * (YAML 1.1): strings such as "yes", "on" or "0644" are quoted so they stay strings there.
 */
export function renderCloudConfig(config: CloudConfig): string {
  const yaml = YAML.stringify(config, {
    version: "1.1",
    sortMapEntries: true,
    lineWidth: 0, // never fold long lines (commands, keys)
    aliasDuplicateObjects: false, // a value used twice is written twice, not as &anchor/*alias
  });
  return `#cloud-config\n${yaml}`;
}

/**
 * The user data for `config`: one part whose type cloud-init detects from its content is written as is;
 * otherwise a MIME multipart/mixed message. Then optionally gzip, then optionally base64.
 * Throws on invalid input (no parts, gzip without base64, a boundary inside a part, header injection).
 */
export function renderUserData(config: UserDataConfig): string {
  const { gzip, base64Encode } = checkEncoding(config.gzip, config.base64Encode);
  const parts = config.parts;
  if (parts.length === 0) throw new Error("cloud-init user data needs at least one part.");
  parts.forEach(checkPart);

  const only = parts[0];
  const message =
    parts.length === 1 && only && canStandAlone(only)
      ? only.content
      : multipartMessage(parts, config.boundary ?? defaultBoundary(parts));
  let bytes: Buffer = Buffer.from(message, "utf8");
  if (gzip) bytes = deterministicGzip(bytes);
  return base64Encode ? bytes.toString("base64") : bytes.toString("utf8");
}

/** Applies the encoding defaults; gzip needs base64 (as in the provider), a string cannot hold raw gzip. */
export function checkEncoding(
  gzip: boolean = DEFAULTS.gzip,
  base64Encode: boolean = DEFAULTS.base64Encode,
): { gzip: boolean; base64Encode: boolean } {
  if (gzip && !base64Encode)
    throw new Error(
      "Expected `base64Encode` to be true when `gzip` is true: a string cannot carry raw gzip bytes.",
    );
  return { gzip, base64Encode };
}

/** Hex sha256 of a rendered value, for `triggers` (content hashes, never timestamps). */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

// ---------------------------------------------------------------------------------------------------------
// MIME, as cloud-init reads it (Python's email parser) and as the cloudinit provider writes it (Go's
// mime/multipart): CRLF framing, the first delimiter without a leading CRLF, the closing one with `--`.

const CRLF = "\r\n";

function multipartMessage(parts: readonly UserDataPart[], boundary: string): string {
  checkBoundary(boundary);
  let message = `Content-Type: multipart/mixed; boundary="${boundary}"${CRLF}MIME-Version: 1.0${CRLF}${CRLF}`;
  parts.forEach((part, i) => {
    const { encoding, body } = transferEncoded(part.content);
    if (body.includes(boundary))
      throw new Error(
        `MIME boundary "${boundary}" occurs inside part ${i + 1} (${part.filename ?? part.contentType}); set \`boundary\` to a string that no part contains.`,
      );
    const headers = [
      `Content-Type: ${part.contentType}`,
      "MIME-Version: 1.0",
      `Content-Transfer-Encoding: ${encoding}`,
      `Content-Disposition: attachment; filename="${part.filename ?? defaultFilename(i)}"`,
      ...(part.mergeType !== undefined ? [`X-Merge-Type: ${part.mergeType}`] : []),
    ];
    message += `--${boundary}${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}${body}${CRLF}`;
  });
  return `${message}--${boundary}--${CRLF}`;
}

/**
 * 7bit (the content as is) when it is ASCII, as the provider always does. Python decodes a 7bit payload
 * as ASCII and mangles anything else, so non-ASCII content goes as base64 (76-character lines).
 */
function transferEncoded(content: string): { encoding: "7bit" | "base64"; body: string } {
  if (/^[\x00-\x7f]*$/.test(content)) return { encoding: "7bit", body: content };
  const base64 = Buffer.from(content, "utf8").toString("base64");
  return { encoding: "base64", body: (base64.match(/.{1,76}/g) ?? []).join(CRLF) };
}

/** "geartrain-" + 32 hex digits of a sha256 over the parts: stable, and no part can contain it by chance. */
function defaultBoundary(parts: readonly UserDataPart[]): string {
  const canonical = JSON.stringify(
    parts.map((p) => [p.contentType, p.filename ?? null, p.mergeType ?? null, p.content]),
  );
  return `geartrain-${sha256Hex(canonical).slice(0, 32)}`;
}

/** cloud-init names an unnamed part `part-%03d`, counting from 1; we write the same name explicitly. */
function defaultFilename(index: number): string {
  return `part-${String(index + 1).padStart(3, "0")}`;
}

/** RFC 2046 §5.1.1: 1 to 70 characters from a fixed set, not ending with a space. */
function checkBoundary(boundary: string): void {
  if (!/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/.test(boundary))
    throw new Error(
      `Invalid MIME boundary "${boundary}": expected 1 to 70 characters from letters, digits and '()+_,-./:=? (spaces inside only).`,
    );
}

/** Header values are written verbatim: refuse line breaks (header injection) and unquotable filenames. */
function checkPart(part: UserDataPart, index: number): void {
  const where = `part ${index + 1}`;
  if (!/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(?:;[\x20-\x7e]*)?$/.test(part.contentType))
    throw new Error(
      `Invalid contentType "${part.contentType}" in ${where}: expected a MIME type such as text/cloud-config.`,
    );
  if (part.filename !== undefined && !(/^[\x20-\x7e]+$/.test(part.filename) && !/["\\]/.test(part.filename)))
    throw new Error(
      `Invalid filename "${part.filename}" in ${where}: expected printable ASCII without quotes or backslashes.`,
    );
  if (part.mergeType !== undefined && !/^[\x20-\x7e]+$/.test(part.mergeType))
    throw new Error(
      `Invalid mergeType "${part.mergeType}" in ${where}: expected printable ASCII on one line.`,
    );
}

// ---------------------------------------------------------------------------------------------------------
// Single-part shortcut

/** Content prefixes by which cloud-init (handlers.INCLUSION_TYPES_MAP) detects a non-MIME payload's type. */
const DETECTED_TYPES: readonly (readonly [prefix: string, contentType: string])[] = [
  ["#include-once", "text/x-include-once-url"],
  ["#include", "text/x-include-url"],
  ["#!", "text/x-shellscript"],
  ["#cloud-config-archive", "text/cloud-config-archive"],
  ["#cloud-config-jsonp", "text/cloud-config-jsonp"],
  ["#cloud-config", "text/cloud-config"],
  ["#part-handler", "text/part-handler"],
  ["#cloud-boothook", "text/cloud-boothook"],
  ["## template: jinja", "text/jinja2"],
]; // longest prefix first, as cloud-init searches

/**
 * A lone part can be written without MIME when cloud-init reads the same thing from the bare content:
 * the type it detects equals the declared one, no merge header is needed, and the content does not look
 * like MIME itself (cloud-init parses anything with "MIME-Version:" in its first 4096 bytes as MIME).
 * The filename is not carried then; cloud-init names the part part-001, our default anyway.
 */
function canStandAlone(part: UserDataPart): boolean {
  if (part.mergeType !== undefined) return false;
  const head = part.content.slice(0, 4096).toLowerCase();
  if (head.includes("mime-version:")) return false;
  const detected = DETECTED_TYPES.find(([prefix]) => head.trimStart().startsWith(prefix))?.[1];
  return detected === mediaType(part.contentType);
}

function mediaType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

// ---------------------------------------------------------------------------------------------------------
// gzip

/**
 * Node's gzip header already has mtime 0 (no timestamp), but its OS byte is the build platform's (3 on
 * Linux, other values elsewhere): set it to 255 "unknown", as Go's compress/gzip (the provider) does, so
 * every workstation makes the same bytes. Level fixed at 9 so a changed zlib default cannot change them.
 */
function deterministicGzip(bytes: Buffer): Buffer {
  const gz = gzipSync(bytes, { level: 9 });
  gz[9] = 0xff;
  return gz;
}
