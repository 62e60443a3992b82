// The SSH forced command's parser: SSH_ORIGINAL_COMMAND → one git service and the gear's own repository,
// everything else refused (injection, traversal, other repositories, other commands).

import { RefusedError } from "../../../common/errors";
import { parseSshCommand, resolveGearRepo, unquoteGitArg } from "../../../node/deploy/command";

const HOME = "/var/lib/geartrain/0123456789abcdef0123456789abcdef";
const REPO = `${HOME}/git/myapp.git`;

describe("parseSshCommand", () => {
  test.each([
    ["git-receive-pack 'git/myapp.git'", "git-receive-pack", "git/myapp.git"],
    ["git-upload-pack '~/git/myapp.git/'", "git-upload-pack", "~/git/myapp.git/"],
    ["git receive-pack '/~/git/myapp.git'", "git-receive-pack", "/~/git/myapp.git"],
    ["git upload-pack 'git/myapp.git'", "git-upload-pack", "git/myapp.git"],
    [`git-upload-pack '${REPO}'`, "git-upload-pack", REPO],
    ["git-upload-pack git/myapp.git", "git-upload-pack", "git/myapp.git"],
    // git's quoting of ' and ! inside a path
    ["git-upload-pack 'it'\\''s'", "git-upload-pack", "it's"],
    ["git-upload-pack 'a'\\!'b'", "git-upload-pack", "a!b"],
  ])("%s", (cmd, service, p) => {
    expect(parseSshCommand(cmd)).toEqual({ service, path: p });
  });

  test.each([
    [undefined, /interactive logins are not allowed/],
    ["", /interactive logins are not allowed/],
    ["id", /refused "id": only git push and git fetch\/clone/],
    ["bash -i", /only git push/],
    ["git-upload-archive 'git/myapp.git'", /only git push/],
    ["scp -t /tmp", /only git push/],
    ["rsync --server . x", /only git push/],
    ["git-receive-pack", /only git push/],
    ["git-receive-pack ", /only git push/],
    ["git-receive-pack ''", /expected exactly one quoted repository path/],
    ["git-receive-pack  'git/myapp.git'", /expected exactly one quoted repository path/],
    ["git-receive-pack 'git/myapp.git'; id", /expected exactly one quoted repository path/],
    ["git-receive-pack 'git/myapp.git' && id", /expected exactly one quoted repository path/],
    ["git-receive-pack 'git/myapp.git'$(id)", /expected exactly one quoted repository path/],
    ["git-receive-pack `id`", /expected exactly one quoted repository path/],
    ["git-receive-pack 'git/myapp.git' 'other'", /expected exactly one quoted repository path/],
    ["git-receive-pack 'git/myapp.git", /expected exactly one quoted repository path/],
    ["git-receive-pack 'a'\\x'b'", /expected exactly one quoted repository path/],
    ["git-receive-pack git/my app.git", /expected exactly one quoted repository path/],
    ["git-receive-pack $HOME/git/myapp.git", /expected exactly one quoted repository path/],
    ["git-receive-pack 'git/myapp.git'\nid", /control or non-ASCII characters/],
    ["git-receive-pack 'git/myapp.git'\0", /control or non-ASCII characters/],
    ["git-receive-pack 'git/myäpp.git'", /control or non-ASCII characters/],
    ["git-receive-pack\t'git/myapp.git'", /control or non-ASCII characters/],
    ["GIT-RECEIVE-PACK 'git/myapp.git'", /only git push/],
    ["/usr/bin/git-receive-pack 'git/myapp.git'", /only git push/],
    ["git --exec-path=/tmp receive-pack 'git/myapp.git'", /only git push/],
    [`git-receive-pack '${"a".repeat(1100)}'`, /repository path too long/],
    [`git-receive-pack '${"a".repeat(5000)}'`, /command too long/],
  ])("refuses %j", (cmd, message) => {
    expect(() => parseSshCommand(cmd as string | undefined)).toThrow(RefusedError);
    expect(() => parseSshCommand(cmd as string | undefined)).toThrow(message);
  });

  test("messages quote untrusted text as JSON, bounded", () => {
    const long = `x${"\\".repeat(200)}`;
    try {
      parseSshCommand(long);
      throw new Error("not refused");
    } catch (e) {
      // at most 80 characters of the input, JSON-escaped (here every \ doubled)
      expect((e as Error).message).toContain(`"x${"\\\\".repeat(76)}..."`);
      expect((e as Error).message.length).toBeLessThan(250);
    }
  });
});

describe("unquoteGitArg", () => {
  test("undoes exactly sq_quote_buf", () => {
    expect(unquoteGitArg("'abc'")).toBe("abc");
    expect(unquoteGitArg("'a b'")).toBe("a b");
    expect(unquoteGitArg("'a'\\''b'")).toBe("a'b");
    expect(unquoteGitArg("'a\"b'")).toBe('a"b');
    expect(unquoteGitArg("'a'b")).toBeNull();
    expect(unquoteGitArg("a'b'")).toBeNull();
    expect(unquoteGitArg("'a' 'b'")).toBeNull();
    expect(unquoteGitArg("'a'\\")).toBeNull();
  });
});

describe("resolveGearRepo", () => {
  test.each([
    "git/myapp.git",
    "git/myapp.git/",
    "~/git/myapp.git",
    "~/git/myapp.git/",
    "/~/git/myapp.git/",
    REPO,
    `${REPO}/`,
  ])("accepts %s", (p) => {
    expect(resolveGearRepo(p, HOME, "myapp")).toBe(REPO);
  });

  test.each([
    ["../x.git", /path traversal/],
    ["git/myapp.git/../../.ssh", /path traversal/],
    ["~/../0123456789abcdef0123456789abcdee/git/myapp.git", /path traversal/],
    [`${HOME}/git/../git/myapp.git`, /path traversal/],
    ["..", /path traversal/],
    ["git/other.git", /only serves ~\/git\/myapp\.git/],
    ["/var/lib/geartrain/ffffffffffffffffffffffffffffffff/git/myapp.git", /only serves/],
    ["/git/myapp.git", /only serves/],
    ["git/myapp.git//", /only serves/],
    ["./git/myapp.git", /only serves/],
    ["git/myapp", /only serves/],
    [".ssh", /only serves/],
    ["app-root/data", /only serves/],
    ["git", /only serves/],
    ["~", /only serves/],
    ["/", /only serves/],
  ])("refuses %s", (p, message) => {
    expect(() => resolveGearRepo(p, HOME, "myapp")).toThrow(message);
  });
});
