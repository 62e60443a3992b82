// The cartridge catalogue from what the nodes really run (their facts), pure: wire names are
// `<name>-<version>` (nodejs-20, postgresql-15), a web cartridge is "standalone", an add-on "embedded".

import type { CartridgeInfo } from "./types";

export interface FactsCartridge {
  readonly name: string;
  readonly version: string;
  readonly type: string;
}

export interface CatalogueEntry extends CartridgeInfo {
  /** the node repository's Name and version (cartridge.install's args) */
  readonly cartridge: string;
  readonly version: string;
}

const DISPLAY: Record<string, string> = {
  nodejs: "Node.js",
  python: "Python",
  postgresql: "PostgreSQL",
  static: "Static files",
  cron: "Cron",
};

export function wireName(c: { name: string; version: string }): string {
  return `${c.name}-${c.version}`;
}

/** web / standalone / framework → standalone; everything else is an add-on. */
export function wireType(type: string): "standalone" | "embedded" {
  return ["web", "standalone", "framework"].includes(type.toLowerCase()) ? "standalone" : "embedded";
}

/** The union of every node's cartridges, sorted by wire name; the first report of a name wins. */
export function catalogueOf(nodes: readonly (readonly FactsCartridge[])[]): CatalogueEntry[] {
  const out = new Map<string, CatalogueEntry>();
  for (const list of nodes) {
    for (const c of list) {
      const name = wireName(c);
      if (out.has(name)) continue;
      const type = wireType(c.type);
      out.set(name, {
        name,
        cartridge: c.name,
        version: c.version,
        displayName: `${DISPLAY[c.name] ?? c.name} ${c.version}`,
        type,
        tags: type === "standalone" ? ["web_framework"] : c.name === "postgresql" ? ["database"] : ["addon"],
        description: `${DISPLAY[c.name] ?? c.name} ${c.version}, as the nodes run it`,
      });
    }
  }
  return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
}
