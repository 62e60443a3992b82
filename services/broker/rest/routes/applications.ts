// Routes: applications and their events.

import type { AppEvent } from "../../app/types";
import { message } from "../envelope";
import { applicationRep, liveStateRep } from "../represent";
import { appRef, wireMessages, type Auth, type Ctx, type Routes } from "./route";

export function applicationsRoutes({ route, svc, deleted, stringQuery }: Routes): void {
  const dev: Auth = "user";
  const include = (c: Ctx) => (c.query.include ?? "").split(",").includes("cartridges");
  route(
    "GET",
    "/domain/:name/applications",
    {
      auth: dev,
      params: "domain",
      query: stringQuery("include"),
      summary: "applications of a domain",
      tags: ["applications"],
    },
    async (c) => ({
      type: "applications",
      data: (await svc.listApplications(c.p, c.params.name)).map((a) =>
        applicationRep(c.base, a, { includeCartridges: include(c) }),
      ),
    }),
  );
  route(
    "GET",
    "/applications",
    {
      auth: dev,
      query: stringQuery("include", "owner"),
      summary: "all your applications",
      tags: ["applications"],
    },
    async (c) => ({
      type: "applications",
      data: (await svc.listApplications(c.p)).map((a) =>
        applicationRep(c.base, a, { includeCartridges: include(c) }),
      ),
    }),
  );
  route(
    "POST",
    "/domain/:name/applications",
    {
      auth: dev,
      params: "domain",
      body: "addApplication",
      summary: "create an application",
      tags: ["applications"],
    },
    async (c) => {
      const b = c.body as {
        name: string;
        cartridges?: (string | { name: string })[];
        cartridge?: string;
        environment_variables?: { name: string; value: string }[];
        gear_profile?: string;
      };
      const carts = (b.cartridges ?? (b.cartridge ? [b.cartridge] : [])).map((x) =>
        typeof x === "string" ? x : x.name,
      );
      const r = await svc.addApplication(c.p, c.params.name, {
        name: b.name,
        cartridges: carts,
        environmentVariables: b.environment_variables ?? [],
        ...(b.gear_profile ? { gearProfile: b.gear_profile } : {}),
      });
      return {
        status: 201,
        type: "application",
        data: applicationRep(c.base, r.value, { includeCartridges: true }),
        messages: [message("info", `Application ${b.name} was created.`), ...wireMessages(r.messages)],
      };
    },
  );
  for (const [path, params] of [
    ["/domain/:domain_name/application/:name", "domainApp"],
    ["/application/:id", "app"],
  ] as const) {
    route(
      "GET",
      path,
      {
        auth: dev,
        params,
        query: stringQuery("include"),
        summary: "show an application",
        tags: ["applications"],
      },
      async (c) => ({
        type: "application",
        data: applicationRep(c.base, await svc.getApplication(c.p, appRef(c.params)), {
          includeCartridges: include(c),
        }),
      }),
    );
    route(
      "DELETE",
      path,
      { auth: dev, params, summary: "delete an application", tags: ["applications"] },
      async (c) => {
        const ref = appRef(c.params);
        const a = await svc.getApplication(c.p, ref);
        await svc.removeApplication(c.p, ref);
        return deleted(`Application ${a.name} is deleted.`);
      },
    );
  }
  route(
    "POST",
    "/application/:id/events",
    {
      auth: dev,
      params: "app",
      body: "event",
      summary: "start, stop, restart ... the application",
      tags: ["applications"],
    },
    async (c) => {
      const event = c.body.event as AppEvent;
      const r = await svc.applicationEvent(c.p, appRef(c.params), event);
      return {
        type: "application",
        data: applicationRep(c.base, r.value),
        messages: [
          message("info", `Application ${r.value.name}: ${event} done`),
          ...wireMessages(r.messages),
        ],
      };
    },
  );
  route(
    "GET",
    "/application/:id/live-state",
    {
      auth: dev,
      params: "app",
      summary: "what the nodes really have: each gear's limits, MCS label, drift, cartridge status, route",
      tags: ["applications"],
    },
    async (c) => ({
      type: "application-live-state",
      data: liveStateRep(await svc.liveState(c.p, appRef(c.params))),
    }),
  );
  route(
    "POST",
    "/application/:id/repair",
    {
      auth: dev,
      params: "app",
      summary: "converge each gear to its spec and the cartridges to the application's state",
      tags: ["applications"],
    },
    async (c) => {
      const r = await svc.repairApplication(c.p, appRef(c.params));
      return {
        type: "application-live-state",
        data: liveStateRep(r.value),
        messages: [message("info", `Application ${r.value.name} repaired`), ...wireMessages(r.messages)],
      };
    },
  );
}
