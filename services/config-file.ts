// A service's config file (JSON) checked against its schema before anything connects, shared by the broker
// (services/broker/config.ts) and the agent (services/agent/config.ts): a file that cannot be read is
// unavailable, one that is not JSON or fails the schema is a ValidationError naming the field
// (`config.<path>`, the first error only; checkConfig lives in common/config/check.ts).

import { readFileSync } from "fs";
import { checkConfig } from "../common/config/check";
import { UnavailableError, ValidationError } from "../common/errors";

export { checkConfig };

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
