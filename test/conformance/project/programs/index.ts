// The conformance programs by name. Each is a function, so importing this file declares nothing.
import { basics } from "./basics";
import { commandAssets, commandFailure, commandOutput, commandSecrets } from "./commands";
import { stackReference } from "./stack-reference";

export const PROGRAMS = {
  basics,
  "stack-reference": stackReference,
  "command-secrets": commandSecrets,
  "command-output": commandOutput,
  "command-failure": commandFailure,
  "command-assets": commandAssets,
} as const;

export type ProgramName = keyof typeof PROGRAMS;

export function isProgramName(name: string): name is ProgramName {
  return Object.prototype.hasOwnProperty.call(PROGRAMS, name);
}
