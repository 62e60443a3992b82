// The broker's name rules (services/broker/model/validate.ts): each accepts what origin accepted, rejects the
// rest with a ValidationError naming the field.

import { ValidationError } from "../../../common/errors";
import {
  validateAppName,
  validateDistrictName,
  validateEnvName,
  validateId,
  validateInt,
  validateLogin,
  validateNamespace,
  validateNodeIdentity,
  validateProfile,
  validateSshKeyContent,
  validateUidBlock,
} from "../../../services/broker/model/validate";

function fieldOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).field;
  }
  return undefined;
}

test.each<[string, () => unknown, string | undefined]>([
  ["id ok", () => validateId("gear_id", "0123456789abcdef0123456789abcdef"), undefined],
  ["id upper case", () => validateId("gear_id", "0123456789ABCDEF0123456789ABCDEF"), "gear_id"],
  ["id short", () => validateId("gear_id", "abc"), "gear_id"],
  ["id not a string", () => validateId("gear_id", 12), "gear_id"],
  ["login email", () => validateLogin("dev@example.com"), undefined],
  ["login with space", () => validateLogin("a b"), "login"],
  ["login empty", () => validateLogin(""), "login"],
  ["namespace", () => validateNamespace("Team42"), undefined],
  ["namespace too long", () => validateNamespace("a".repeat(17)), "namespace"],
  ["namespace dash", () => validateNamespace("my-ns"), "namespace"],
  ["app name", () => validateAppName("web1"), undefined],
  ["app name too long", () => validateAppName("a".repeat(33)), "name"],
  ["district name", () => validateDistrictName("east_1.a-b"), undefined],
  ["district name slash", () => validateDistrictName("a/b"), "name"],
  ["node identity", () => validateNodeIdentity("node1.example.com"), undefined],
  ["node identity upper", () => validateNodeIdentity("Node1"), "node"],
  ["node identity dash end", () => validateNodeIdentity("node-"), "node"],
  ["profile", () => validateProfile("small"), undefined],
  ["profile unknown", () => validateProfile("huge"), "profile"],
  ["env name", () => validateEnvName("MY_VAR"), undefined],
  [
    "env name lower",
    () => validateEnvName("my_var", "environment_variables[0].name"),
    "environment_variables[0].name",
  ],
  ["ssh key body", () => validateSshKeyContent("AAAAC3NzaC1lZDI1NTE5AAAAIG4x"), undefined],
  ["ssh key body with space", () => validateSshKeyContent("AAAA B"), "content"],
  ["int", () => validateInt("max_gears", 3, 0, 10), undefined],
  ["int fraction", () => validateInt("max_gears", 1.5, 0, 10), "max_gears"],
  ["int out of range", () => validateInt("max_gears", 11, 0, 10), "max_gears"],
  ["uid block", () => validateUidBlock(1000, 6000), undefined],
  ["uid block below 1000", () => validateUidBlock(999, 10), "first_uid"],
  ["uid block past the MCS range", () => validateUidBlock(523_000, 1000), "uid_count"],
])("%s", (_name, f, field) => {
  expect(fieldOf(f)).toBe(field);
});

test("the message names the field and the value", () => {
  expect(() => validateNamespace("bad-ns")).toThrow("invalid namespace: 'bad-ns' is not a namespace");
});
