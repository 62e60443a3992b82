// PostgreSQL's errors as common/errors.ts classes (services/broker/store/db.ts translatePgError).

import { ConflictError, NotFoundError, UnavailableError, ValidationError } from "../../../common/errors";
import { DatabaseError, translatePgError } from "../../../services/broker/store/db";

const pgError = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`pg says ${code}`), { code, ...extra });

test.each<[string, Error, unknown, string]>([
  [
    "unique violation",
    pgError("23505", { constraint: "users_login_key" }),
    ConflictError,
    "already exists (users_login_key)",
  ],
  [
    "foreign key to a missing row",
    pgError("23503", {
      constraint: "gears_app_id_fkey",
      detail: 'Key (app_id)=(x) is not present in table "applications".',
    }),
    NotFoundError,
    "refers to something that does not exist (gears_app_id_fkey)",
  ],
  [
    "foreign key still referred to",
    pgError("23503", {
      constraint: "gears_district_id_uid_fkey",
      detail: 'Key (district_id, uid)=(x, 1) is still referenced from table "gears".',
    }),
    ConflictError,
    "still in use (gears_district_id_uid_fkey)",
  ],
  [
    "connection refused",
    Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    UnavailableError,
    "the database does not answer: connect ECONNREFUSED",
  ],
  ["admin shutdown", pgError("57P01"), UnavailableError, "the database is shutting down or starting"],
  ["bad password", pgError("28P01"), UnavailableError, "the database refused the broker's login"],
  ["anything else", pgError("42P01"), DatabaseError, "database error 42P01: pg says 42P01"],
])("%s", (_name, err, cls, message) => {
  const e = translatePgError(err);
  expect(e).toBeInstanceOf(cls as new (...a: never[]) => Error);
  expect(e.message).toBe(message);
});

test("our own errors and serialization failures pass through; the constraint stays on the error", () => {
  const v = new ValidationError("login", "bad");
  expect(translatePgError(v)).toBe(v);
  const s = pgError("40001");
  expect(translatePgError(s)).toBe(s);
  expect(translatePgError(pgError("23505", { constraint: "x" }))).toMatchObject({
    constraint: "x",
    pgCode: "23505",
  });
  expect(new DatabaseError("m", "42P01").details()).toEqual({ pgCode: "42P01" });
});
