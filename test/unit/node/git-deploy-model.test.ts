// git push deploys, pure parts: deployment ids and the runtime/repo link, settings from the gear env, the
// ref lines git gives the hooks, which deployments are pruned.

import {
  deploymentId,
  deploymentsToPrune,
  DEPLOYMENT_ID_PATTERN,
  idOfLink,
  parseBranch,
  parseKeep,
  parseRefUpdates,
  repoLinkTarget,
} from "../../../node/deploy/model";
import { PRE_RECEIVE_HOOK, POST_RECEIVE_HOOK, repoHookFiles } from "../../../node/deploy/git-hooks";

const SHA = "0123456789abcdef0123456789abcdef01234567";

test("deployment ids sort by time and carry the commit", () => {
  const a = deploymentId(new Date(Date.UTC(2025, 10, 25, 22, 53, 1, 7)), SHA);
  expect(a).toBe("20251125-225301007-0123456789ab");
  expect(DEPLOYMENT_ID_PATTERN.test(a)).toBe(true);
  const b = deploymentId(new Date(Date.UTC(2025, 10, 25, 22, 53, 1, 8)), null);
  expect(b).toBe("20251125-225301008-template");
  expect([b, a].sort()).toEqual([a, b]);
});

test("runtime/repo link target round-trips; anything else is not ours", () => {
  const id = "20251125-225301007-0123456789ab";
  expect(repoLinkTarget(id)).toBe(`../../app-deployments/${id}/repo`);
  expect(idOfLink(repoLinkTarget(id))).toBe(id);
  for (const t of [
    null,
    "/etc",
    `../../app-deployments/${id}/repo/..`,
    `../../app-deployments/../${id}/repo`,
    "../../app-deployments/x/repo",
    `app-deployments/${id}/repo`,
  ]) {
    expect(idOfLink(t)).toBeNull();
  }
  expect(() => repoLinkTarget("../x")).toThrow(/bad deployment id/);
});

test("settings: OpenShift defaults (keep 1, master); bad values warn and fall back", () => {
  expect(parseKeep(undefined, "K")).toEqual({ value: 1, warning: null });
  expect(parseKeep("3\n", "K")).toEqual({ value: 3, warning: null });
  for (const bad of ["0", "-1", "21", "two", "1.5", " "]) {
    expect(parseKeep(bad, "K").value).toBe(1);
    expect(parseKeep(bad, "K").warning).toMatch(/^K=.* is not an integer in 1\.\.20; keeping 1$/);
  }
  expect(parseBranch(undefined, "B")).toEqual({ value: "master", warning: null });
  expect(parseBranch("main", "B")).toEqual({ value: "main", warning: null });
  for (const bad of ["-x", "a..b", "a b", "x.lock", "refs/heads/x", "a;b"]) {
    expect(parseBranch(bad, "B")).toMatchObject({ value: "master", warning: expect.stringMatching(/^B=/) });
  }
});

test("ref updates from git's hook input", () => {
  const z = "0".repeat(40);
  expect(parseRefUpdates(`${z} ${SHA} refs/heads/master\n${SHA} ${z} refs/tags/v1\n`)).toEqual([
    { oldSha: z, newSha: SHA, ref: "refs/heads/master" },
    { oldSha: SHA, newSha: z, ref: "refs/tags/v1" },
  ]);
  expect(parseRefUpdates("")).toEqual([]);
  for (const bad of [
    `${SHA} ${SHA}`,
    `${SHA} ${SHA} master`,
    `x ${SHA} refs/heads/m`,
    `${SHA} ${SHA} refs/heads/a b`,
  ]) {
    expect(() => parseRefUpdates(bad)).toThrow(/unexpected ref update line/);
  }
});

describe("deploymentsToPrune", () => {
  const d = (id: string, state: "deployed" | "failed" | "building" | "built" | null = "deployed") => ({
    id,
    state,
  });
  const all = [d("1"), d("2"), d("3", "failed"), d("4"), d("5", "building"), d("6")];

  test("keep 1: only the active one", () => {
    expect(deploymentsToPrune(all, "6", 1)).toEqual(["1", "2", "3", "4", "5"]);
  });
  test("keep 3: the active one and the two newest other deployed ones", () => {
    expect(deploymentsToPrune(all, "6", 3)).toEqual(["1", "3", "5"]);
  });
  test("an older active one (rollback) is kept; so is the one being built", () => {
    expect(deploymentsToPrune(all, "2", 2, "5")).toEqual(["1", "3", "4"]);
  });
  test("no active deployment: the newest deployed ones", () => {
    expect(deploymentsToPrune(all, null, 1)).toEqual(["1", "2", "3", "4", "5"]);
    expect(deploymentsToPrune([d("1", null)], null, 5)).toEqual(["1"]);
  });
});

test("repository hooks hand over to gear-hook and refuse pushes without the forced command", () => {
  expect(PRE_RECEIVE_HOOK).toMatch(/^#!\/bin\/sh\n/);
  expect(PRE_RECEIVE_HOOK).toContain(
    'exec "$GEARTRAIN_GEAR_HOOK_NODE" "$GEARTRAIN_GEAR_HOOK_SCRIPT" node gear-hook pre-receive\n',
  );
  expect(PRE_RECEIVE_HOOK).toContain("exit 1");
  expect(POST_RECEIVE_HOOK).toContain("node gear-hook post-receive\n");
  expect(repoHookFiles("git/a.git").map((h) => h.rel)).toEqual([
    "git/a.git/hooks/post-receive",
    "git/a.git/hooks/pre-receive",
  ]);
});
