// Routes: discovery, health, OpenAPI, the cartridge catalogue (no login).

import { BrokerNotFoundError } from "../../app/errors";
import { apiLinks } from "../links";
import { catalogueRep } from "../represent";
import { PREFIX, type Routes } from "./route";

export function apiRoutes({ route, svc, app }: Routes): void {
  route("GET", "/api", { auth: "none", summary: "API discovery: the link map", tags: ["api"] }, async (c) => {
    const cartridges = await svc.catalogue();
    return {
      type: "links",
      data: apiLinks(
        c.base,
        cartridges.map((x) => x.name),
      ),
    };
  });
  app.get(
    `${PREFIX}/openapi.json`,
    { schema: { hide: true }, config: { auth: "none" } },
    async (_req, reply) => reply.type("application/json; charset=utf-8").send(app.swagger()),
  );
  route(
    "GET",
    "/health",
    { auth: "none", summary: "health of the broker and its database", tags: ["api"] },
    async () => {
      const h = await svc.health();
      return { status: h.ok ? 200 : 503, type: "health", data: { ok: h.ok, checks: h.checks } };
    },
  );
  route(
    "GET",
    "/cartridges",
    { auth: "none", summary: "the cartridge catalogue", tags: ["cartridges"] },
    async () => ({
      type: "cartridges",
      data: (await svc.catalogue()).map((x) => catalogueRep(x)),
    }),
  );
  route(
    "GET",
    "/cartridge/:name",
    { auth: "none", params: "name", summary: "one cartridge of the catalogue", tags: ["cartridges"] },
    async (c) => {
      const found = (await svc.catalogue()).find((x) => x.name === c.params.name);
      if (!found) throw new BrokerNotFoundError(`Cartridge '${c.params.name}' not found`);
      return { type: "cartridge", data: catalogueRep(found) };
    },
  );
}
