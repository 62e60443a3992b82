// Routes: environment variables and gear groups of an application.

import type { EnvChange } from "../../app/types";
import { message } from "../envelope";
import { envRep, gearGroupsRep } from "../represent";
import { appRef, type Auth, type Routes } from "./route";

export function envRoutes({ route, svc }: Routes): void {
  const dev: Auth = "user";
  route(
    "GET",
    "/application/:id/environment-variables",
    { auth: dev, params: "app", summary: "environment variables", tags: ["applications"] },
    async (c) => {
      const a = await svc.getApplication(c.p, appRef(c.params));
      return {
        type: "environment-variables",
        data: (await svc.listEnv(c.p, { id: a.id })).map((v) => envRep(c.base, a.id, v)),
      };
    },
  );
  route(
    "PATCH",
    "/application/:id/environment-variables",
    {
      auth: dev,
      params: "app",
      body: "setEnv",
      summary: "set (with value) or unset (without) variables",
      tags: ["applications"],
    },
    async (c) => {
      const changes = (c.body.environment_variables as EnvChange[]).map((v) =>
        v.value === undefined ? { name: v.name } : { name: v.name, value: v.value },
      );
      const a = await svc.getApplication(c.p, appRef(c.params));
      const vars = await svc.setEnv(c.p, { id: a.id }, changes);
      return {
        status: 201,
        type: "environment-variables",
        data: vars.map((v) => envRep(c.base, a.id, v)),
        messages: [message("info", "Updated environment variable(s)")],
      };
    },
  );
  for (const path of ["/application/:id/gear_groups", "/application/:id/gear-groups"]) {
    route(
      "GET",
      path,
      { auth: dev, params: "app", summary: "gear groups (gears and their state)", tags: ["applications"] },
      async (c) => ({
        type: "gear_groups",
        data: gearGroupsRep(await svc.getApplication(c.p, appRef(c.params))),
      }),
    );
  }
}
