// Routes: domains.

import { message } from "../envelope";
import { domainRep } from "../represent";
import type { Auth, Routes } from "./route";

export function domainsRoutes({ route, svc, deleted, stringQuery }: Routes): void {
  const dev: Auth = "user";
  const suffix = svc.cloudDomain;
  route(
    "GET",
    "/domains",
    { auth: dev, query: stringQuery("owner"), summary: "list your domains", tags: ["domains"] },
    async (c) => ({
      type: "domains",
      data: (await svc.listDomains(c.p)).map((d) => domainRep(c.base, d, suffix)),
    }),
  );
  route(
    "POST",
    "/domains",
    { auth: dev, body: "addDomain", summary: "create a domain", tags: ["domains"] },
    async (c) => {
      const name = String(c.body.name ?? c.body.id);
      const d = await svc.addDomain(c.p, name);
      return {
        status: 201,
        type: "domain",
        data: domainRep(c.base, d, suffix),
        messages: [message("info", `Domain '${name}' created`)],
      };
    },
  );
  route(
    "GET",
    "/domain/:name",
    { auth: dev, params: "domain", summary: "show a domain", tags: ["domains"] },
    async (c) => ({
      type: "domain",
      data: domainRep(c.base, await svc.getDomain(c.p, c.params.name), suffix),
    }),
  );
  route(
    "DELETE",
    "/domain/:name",
    {
      auth: dev,
      params: "domain",
      query: stringQuery("force"),
      summary: "delete a domain",
      tags: ["domains"],
    },
    async (c) => {
      await svc.removeDomain(c.p, c.params.name, c.query.force === "true");
      return deleted(`Domain '${c.params.name}' deleted`);
    },
  );
}
