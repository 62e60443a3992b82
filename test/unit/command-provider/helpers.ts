// Shared helpers for the command provider tests: URNs, wire-encoded values, a capturing log sink.

import { createHash } from "crypto";
import {
  specialArchiveSig,
  specialAssetSig,
  specialSecretSig,
  specialSigKey,
  unknownValue,
} from "@pulumi/pulumi/runtime/rpc";
import type { LogSink, Severity } from "../../../plugins/command/logging";

export { unknownValue };

export function urn(type: string, name: string): string {
  return `urn:pulumi:test::geartrain::${type}::${name}`;
}

export const LOCAL = "command:local:Command";
export const REMOTE = "command:remote:Command";
export const COPY = "command:remote:CopyToRemote";

export function secret(value: unknown): Record<string, unknown> {
  return { [specialSigKey]: specialSecretSig, value };
}

export function stringAsset(text: string): Record<string, unknown> {
  return { [specialSigKey]: specialAssetSig, text, hash: createHash("sha256").update(text).digest("hex") };
}

export function fileAsset(path: string, hash = "h-" + path): Record<string, unknown> {
  return { [specialSigKey]: specialAssetSig, path, hash };
}

export function remoteAsset(uri: string): Record<string, unknown> {
  return { [specialSigKey]: specialAssetSig, uri, hash: "x" };
}

export function fileArchive(path: string, hash = "h-" + path): Record<string, unknown> {
  return { [specialSigKey]: specialArchiveSig, path, hash };
}

export function assetArchive(assets: Record<string, unknown>): Record<string, unknown> {
  return { [specialSigKey]: specialArchiveSig, assets, hash: "y" };
}

export interface CapturedLog {
  severity: Severity;
  urn: string;
  message: string;
  /** Present (true) for status lines, i.e. command output. */
  ephemeral?: true;
}

export function captureSink(): LogSink & { entries: CapturedLog[]; messages(): string[] } {
  const entries: CapturedLog[] = [];
  return {
    entries,
    log(severity, u, message, ephemeral) {
      entries.push({ severity, urn: u, message, ...(ephemeral ? { ephemeral: true as const } : {}) });
    },
    messages() {
      return entries.filter((e) => e.severity !== "debug").map((e) => e.message);
    },
  };
}
