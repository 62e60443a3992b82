// YAML reading for cartridge metadata: YAML 1.2, one document, unique text keys. Syntax errors become
// findings with line and column; an index of key positions lets every later finding name its line.
import * as YAML from "yaml";
import type { PathSegment } from "../../common/ajv-errors";
import type { Finding, Locate } from "./problems";

export interface ParsedYaml {
  readonly value: unknown;
  /** Syntax errors (and an empty manifest): nothing else is checked when there are any. */
  readonly findings: Finding[];
  /** Keys that are not text; reported next to the schema's problems. */
  readonly keyFindings: Finding[];
  readonly locate: Locate;
}

/**
 * YAML 1.2 (the `yaml` package), one document, unique keys, text keys only (an unquoted `5.10:` would
 * silently become 5.1). Syntax errors come back as findings with line and column; an index of key
 * positions lets later problems name their line.
 */
export function parseYaml(text: string, emptyIsOk = false): ParsedYaml {
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    version: "1.2",
  });
  const positions = new Map<string, number>();
  const locate: Locate = (at) => {
    for (let n = at.length; n >= 1; n--) {
      const offset = positions.get(JSON.stringify(at.slice(0, n)));
      if (offset !== undefined) {
        const { line, col } = lineCounter.linePos(offset);
        return { line, column: col };
      }
    }
    return undefined;
  };
  const findings: Finding[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    findings.push({
      at: [],
      where: `line ${line}, column ${col}`,
      line,
      column: col,
      message: `expected valid YAML, got: ${firstLine(error.message)} (fix the YAML syntax there; quote values that contain ': ' or start with a special character)`,
    });
  }
  if (findings.length > 0) return { value: undefined, findings, keyFindings: [], locate };
  const keyFindings: Finding[] = [];
  indexKeys(doc.contents, [], positions, text, lineCounter, keyFindings);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) {
    if (!emptyIsOk)
      findings.push({
        at: [],
        where: "",
        message:
          "expected a YAML mapping of manifest keys, got an empty file (start with Name: and Cartridge-Short-Name:)",
      });
  }
  return { value, findings, keyFindings, locate };
}

function indexKeys(
  node: unknown,
  at: readonly PathSegment[],
  positions: Map<string, number>,
  text: string,
  lineCounter: YAML.LineCounter,
  findings: Finding[],
): void {
  if (YAML.isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key;
      const keyValue: unknown = YAML.isScalar(key) ? key.value : key;
      const range = YAML.isNode(key) ? key.range : undefined;
      const source = range ? text.slice(range[0], range[1]) : String(keyValue);
      const here = [...at, typeof keyValue === "string" ? keyValue : source];
      if (range) positions.set(JSON.stringify(here), range[0]);
      if (typeof keyValue !== "string") {
        const pos = range ? lineCounter.linePos(range[0]) : undefined;
        if (YAML.isScalar(key)) key.value = source; // keep the key as written ("5.10", not 5.1)
        findings.push({
          at: here,
          line: pos?.line,
          column: pos?.col,
          message: `expected a text key, got ${YAML.isScalar(key) ? `the ${typeName(keyValue)} ${source}` : "a structure"} (quote it: '${source}':)`,
        });
      }
      indexKeys(pair.value, here, positions, text, lineCounter, findings);
    }
  } else if (YAML.isSeq(node)) {
    node.items.forEach((item, i) => {
      const here = [...at, i];
      if (YAML.isNode(item) && item.range) positions.set(JSON.stringify(here), item.range[0]);
      indexKeys(item, here, positions, text, lineCounter, findings);
    });
  }
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  return typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : typeof value;
}

function firstLine(message: string): string {
  return message.split("\n")[0]?.trim() ?? message;
}
