// A node's facts (services/bus/actions.ts NodeFacts): what the broker places gears by. The agent's config
// says the district, profile, gear limit and public host name; the node says its gears and cartridges.

import { listGears, listRepository, type NodeContext } from "../../node";
import type { NodeFacts } from "../bus/actions";

export interface FactsConfig {
  readonly node: string;
  readonly district: string;
  readonly profile: string;
  readonly maxActiveGears: number;
  readonly publicHostname: string;
}

/** Pure: the facts of a node from what it has. A gear counts as active once created. */
export function factsOf(
  cfg: FactsConfig,
  gears: readonly { readonly phase: string }[],
  repository: readonly {
    readonly name: string;
    readonly versions: readonly string[];
    readonly categories: readonly string[];
  }[],
  at: number,
): NodeFacts {
  const cartridges = repository
    .flatMap((c) =>
      c.versions.map((version) => ({
        name: c.name,
        version,
        type: c.categories.includes("web_framework") ? "standalone" : "embedded",
      })),
    )
    .sort((a, b) => (a.name === b.name ? (a.version < b.version ? -1 : 1) : a.name < b.name ? -1 : 1));
  return {
    node: cfg.node,
    district: cfg.district,
    profile: cfg.profile,
    activeGears: gears.filter((g) => g.phase === "created").length,
    maxActiveGears: cfg.maxActiveGears,
    publicHostname: cfg.publicHostname,
    cartridges,
    at,
  };
}

export async function collectFacts(ctx: NodeContext, cfg: FactsConfig): Promise<NodeFacts> {
  const [gears, repo] = await Promise.all([listGears(ctx), listRepository(ctx.config)]);
  return factsOf(cfg, gears, repo.cartridges, Date.now());
}
