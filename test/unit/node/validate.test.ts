import { ValidationError } from "../../../common/errors";
import { defaultConfig } from "../../../node/config";
import { validateEnv, validateGearSpec, validateUpdate } from "../../../node/validate";

const config = defaultConfig();
const good = { uuid: "0123456789abcdef0123456789abcdef", uid: 1000, app: "myapp", namespace: "dev" };

function fieldOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return e.field;
    throw e;
  }
  throw new Error("did not throw");
}

test("a good spec gets the default profile and empty env", () => {
  expect(validateGearSpec(good, config)).toEqual({ ...good, profile: "small", env: {} });
  expect(validateGearSpec({ ...good, uid: "6999" }, config).uid).toBe(6999);
});

test.each([
  [{ uuid: "0123456789abcdef0123456789abcde" }, "uuid"],
  [{ uuid: "0123456789abcdef0123456789abcdeg" }, "uuid"],
  [{ uuid: "0123456789ABCDEF0123456789ABCDEF" }, "uuid"],
  [{ uuid: "0123456789abcdef0123456789abcdef\n" }, "uuid"],
  [{ uid: 999 }, "uid"],
  [{ uid: 7000 }, "uid"],
  [{ uid: 1000.5 }, "uid"],
  [{ uid: "1000 " }, "uid"],
  [{ app: "My" }, "app"],
  [{ app: "a-b" }, "app"],
  [{ app: "a b" }, "app"],
  [{ app: "$(id)" }, "app"],
  [{ app: "" }, "app"],
  [{ namespace: "x".repeat(33) }, "namespace"],
  [{ namespace: "ns|cat" }, "namespace"],
  [{ profile: "xlarge" }, "profile"],
  [{ profile: "../small" }, "profile"],
  [{ env: { lower: "x" } }, "env"],
  [{ env: { HOME: "x" } }, "env"],
  [{ env: { GEARTRAIN_X: "x" } }, "env"],
  [{ env: { OK: 1 } }, "env.OK"],
  [{ env: { OK: "x".repeat(513) } }, "env.OK"],
  [{ env: [] }, "env"],
  [{ appUuid: "0123456789ABCDEF0123456789ABCDEF" }, "appUuid"],
  [{ appUuid: "guestbook" }, "appUuid"],
  [{ appUuid: null }, "appUuid"],
  [{ color: "red" }, "color"],
])("%j → ValidationError naming %s", (patch, field) => {
  expect(fieldOf(() => validateGearSpec({ ...good, ...patch }, config))).toBe(field);
});

test("error text has fixed wording and names the field", () => {
  expect(() => validateGearSpec({ ...good, uid: 1 }, config)).toThrow(
    "invalid uid: 1 is outside this node's district range 1000-6999",
  );
  expect(() => validateGearSpec({ ...good, profile: "huge" }, config)).toThrow(
    'invalid profile: unknown profile "huge" (this node has: large, medium, small)',
  );
});

test("env: at most 50, sorted", () => {
  const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`V${i}`, "x"]));
  expect(fieldOf(() => validateEnv(many, config))).toBe("env");
  expect(Object.keys(validateEnv({ B: "1", A: "2" }, config))).toEqual(["A", "B"]);
});

test("update may change profile and env only", () => {
  const cur = validateGearSpec(good, config);
  expect(validateUpdate({ uuid: good.uuid, profile: "large" }, cur, config).profile).toBe("large");
  expect(fieldOf(() => validateUpdate({ uuid: good.uuid, uid: 1001 }, cur, config))).toBe("uid");
  expect(fieldOf(() => validateUpdate({ uuid: good.uuid, app: "other" }, cur, config))).toBe("app");
  const appUuid = "fedcba9876543210fedcba9876543210";
  expect(fieldOf(() => validateUpdate({ uuid: good.uuid, appUuid }, cur, config))).toBe("appUuid");
  const withApp = validateGearSpec({ ...good, appUuid }, config);
  expect(withApp.appUuid).toBe(appUuid);
  expect(validateUpdate({ uuid: good.uuid, profile: "large" }, withApp, config).appUuid).toBe(appUuid);
  expect(fieldOf(() => validateUpdate({ uuid: good.uuid, appUuid: good.uuid }, withApp, config))).toBe(
    "appUuid",
  );
});
