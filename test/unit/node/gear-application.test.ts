// Which gears form one application (node/gear/application.ts): by the broker's id, never by name.

import { applicationConflict, sameApplication } from "../../../node/gear/application";

const X = "a".repeat(32);
const Y = "b".repeat(32);
const gear = (uuid: string, app: string, appUuid?: string) => ({
  uuid: uuid.repeat(32),
  app,
  namespace: "dev",
  ...(appUuid ? { appUuid } : {}),
});

test("gears join by application id only; a gear without one is alone", () => {
  expect(sameApplication(gear("1", "shop", X), gear("2", "other", X))).toBe(true);
  expect(sameApplication(gear("1", "shop", X), gear("2", "shop", Y))).toBe(false);
  expect(sameApplication(gear("1", "shop"), gear("2", "shop"))).toBe(false); // same names, no id
  expect(sameApplication(gear("1", "shop"), gear("1", "shop"))).toBe(true); // itself
  expect(sameApplication(gear("1", "shop", X), gear("2", "shop"))).toBe(false);
});

test("one application per name on a node, one name per application", () => {
  const victim = gear("1", "shop", X);
  expect(applicationConflict(gear("2", "shop", X), [victim])).toBeNull(); // another gear of the app
  expect(applicationConflict(gear("2", "other", Y), [victim])).toBeNull();
  expect(applicationConflict(gear("2", "shop", Y), [victim])).toBe(
    `app shop in namespace dev belongs to application ${X} on this node (gear ${"1".repeat(32)}); this gear is for application ${Y}`,
  );
  expect(applicationConflict(gear("2", "shop"), [victim])).toMatch(
    /belongs to application a+ .*this gear is for a gear without an application id/,
  );
  expect(applicationConflict(gear("2", "shop", X), [gear("1", "shop")])).toMatch(
    /belongs to a gear without an application id/,
  );
  expect(applicationConflict(gear("2", "renamed", X), [victim])).toBe(
    `application ${X} is app shop in namespace dev on this node (gear ${"1".repeat(32)}), not renamed in dev`,
  );
  // gears from before ids: same names, none has one (each is alone); the gear itself is no conflict
  expect(applicationConflict(gear("2", "shop"), [gear("1", "shop")])).toBeNull();
  expect(applicationConflict(victim, [victim])).toBeNull();
});
