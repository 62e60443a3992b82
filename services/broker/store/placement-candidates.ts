// What placement (services/broker/model/placement.ts, pure) decides over: every node of every district with
// its district's state and free UIDs, its last facts, and how many gears of the application it hosts. A
// node's active gears are its last facts' count plus the gears recorded on it since those facts, so creates
// running at once see each other's gears before the next facts arrive.

import type { PlacementNode } from "../model/placement";
import { validateId } from "../model/validate";
import type { Queryable } from "./db";

/** A placement input with what the caller needs of the chosen node. */
export interface PlacementCandidate extends PlacementNode {
  /** from the node's last facts (the app's DNS record points there); null without facts */
  readonly publicHostname: string | null;
}

interface Row {
  identity: string;
  district_id: string;
  district_profile: string;
  district_active: boolean;
  free_uids: number;
  active: boolean;
  last_seen_ms: number | null;
  profile: string | null;
  public_hostname: string | null;
  active_gears: number;
  max_active_gears: number;
  app_gears: number;
  now_ms: number;
}

/**
 * The candidates, and the database's clock (epoch ms) to judge last_seen by. A gear's node:
 *
 *   const { now, nodes } = await placementCandidates(db, { appId });
 *   const p = placeGear(nodes, { profile, now, silenceMs, random: Math.random() });
 *   if (!p.node) throw new UnavailableError(noNodeMessage(profile, p.excluded));
 */
export async function placementCandidates(
  q: Queryable,
  opts: { appId?: string } = {},
): Promise<{ now: number; nodes: PlacementCandidate[] }> {
  const appId = opts.appId === undefined ? null : validateId("application_id", opts.appId);
  const { rows } = await q.query<Row>(
    `WITH free AS (SELECT district_id, count(*)::integer AS n FROM district_free_uids GROUP BY district_id),
          since AS (SELECT g.node, count(*)::integer AS n FROM gears g LEFT JOIN nodes n ON n.identity = g.node
                     WHERE n.facts IS NULL
                        OR g.created_at > to_timestamp((n.facts->>'at')::double precision / 1000)
                     GROUP BY g.node),
          mine AS (SELECT node, count(*)::integer AS n FROM gears WHERE app_id = $1 GROUP BY node)
     SELECT dn.identity, dn.district_id, d.profile AS district_profile, d.active AS district_active,
            coalesce(free.n, 0) AS free_uids, dn.active,
            (extract(epoch FROM n.last_seen) * 1000)::double precision AS last_seen_ms,
            n.facts->>'profile' AS profile, n.facts->>'publicHostname' AS public_hostname,
            coalesce((n.facts->>'activeGears')::integer, 0) + coalesce(since.n, 0) AS active_gears,
            coalesce((n.facts->>'maxActiveGears')::integer, 0) AS max_active_gears,
            coalesce(mine.n, 0) AS app_gears,
            (extract(epoch FROM now()) * 1000)::double precision AS now_ms
       FROM district_nodes dn
       JOIN districts d ON d.id = dn.district_id
       LEFT JOIN nodes n ON n.identity = dn.identity
       LEFT JOIN free ON free.district_id = dn.district_id
       LEFT JOIN since ON since.node = dn.identity
       LEFT JOIN mine ON mine.node = dn.identity
      ORDER BY dn.identity`,
    [appId],
  );
  const now = rows[0]?.now_ms ?? Date.now();
  return {
    now,
    nodes: rows.map((r) => ({
      identity: r.identity,
      districtId: r.district_id,
      districtProfile: r.district_profile,
      districtActive: r.district_active,
      districtFreeUids: r.free_uids,
      active: r.active,
      lastSeen: r.last_seen_ms,
      profile: r.profile,
      activeGears: r.active_gears,
      maxActiveGears: r.max_active_gears,
      appGears: r.app_gears,
      publicHostname: r.public_hostname,
    })),
  };
}
