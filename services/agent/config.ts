// The agent's config file (JSON), validated before anything connects; every error names its field. The
// types and schema are common/config/agent-config.ts (the NodeHost component renders the file with the same
// schema); this module loads the file and reads the bus password from its own file (never the config itself,
// never argv), which must not be readable by others.

import { readFileSync, statSync } from "fs";
import * as path from "path";
import { UnavailableError, ValidationError } from "../../common/errors";
import { validateAgentConfig, type AgentConfig } from "../../common/config/agent-config";
import { loadConfigFile } from "../config-file";

export { AGENT_CONFIG_SCHEMA, validateAgentConfig, type AgentConfig } from "../../common/config/agent-config";

export function loadAgentConfig(file: string): AgentConfig {
  return loadConfigFile(file, "the agent config", validateAgentConfig);
}

/** The bus password: the file's first line. Refused when others may read it. */
export function readPasswordFile(file: string): string {
  const abs = path.resolve(file);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    throw new UnavailableError(`cannot read the bus password file ${abs}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new ValidationError("bus.passwordFile", `${abs} is not a regular file`);
  if (st.mode & 0o007)
    throw new ValidationError("bus.passwordFile", `${abs} is readable by others (chmod 0600 it)`);
  const pw = readFileSync(abs, "utf8").split("\n")[0];
  if (!pw) throw new ValidationError("bus.passwordFile", `${abs} is empty`);
  return pw;
}
