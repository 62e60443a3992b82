// The gear's SSH forced command only runs git on the gear's own repository. This module decides, from
// SSH_ORIGINAL_COMMAND alone (pure, no shell), whether a request is one of
//   git-receive-pack '<path>'   git-upload-pack '<path>'   (and the "git receive-pack" spelling)
// and whether <path> names this gear's repository. Git clients quote the path the way git's sq_quote_buf
// does: the whole path in single quotes, with ' and ! written as '\'' and '\!'. We undo exactly that
// quoting and nothing else; anything else (a second argument, a shell metacharacter outside the quotes,
// a control character) is refused.

import { RefusedError } from "../../common/errors";

export type GitService = "git-receive-pack" | "git-upload-pack";

export interface GitRequest {
  readonly service: GitService;
  /** the path as the client sent it, unquoted */
  readonly path: string;
}

export const MAX_COMMAND_LENGTH = 4096;
export const MAX_PATH_LENGTH = 1024;

const SERVICES: Readonly<Record<string, GitService>> = {
  "git-receive-pack": "git-receive-pack",
  "git-upload-pack": "git-upload-pack",
  "git receive-pack": "git-receive-pack",
  "git upload-pack": "git-upload-pack",
};

/** Characters a path may use when the client sent it without quotes. */
const BARE_PATH = /^[A-Za-z0-9._/~+-]+$/;

/** A printable, bounded rendering of untrusted text for messages. */
export function describeCommand(s: string): string {
  const shown = s.length > 80 ? `${s.slice(0, 77)}...` : s;
  return JSON.stringify(shown);
}

/** Undo git's sq_quote_buf quoting of one argument; null when `arg` is not exactly one quoted word. */
export function unquoteGitArg(arg: string): string | null {
  if (!arg.startsWith("'")) return BARE_PATH.test(arg) ? arg : null;
  let out = "";
  let quoted = false;
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i];
    if (quoted) {
      if (c === "'") quoted = false;
      else out += c;
    } else if (c === "'") {
      quoted = true;
    } else if (c === "\\" && (arg[i + 1] === "'" || arg[i + 1] === "!")) {
      out += arg[i + 1];
      i++;
    } else {
      return null; // a space (second argument), a shell metacharacter, a stray backslash
    }
  }
  return quoted ? null : out;
}

/** Parse SSH_ORIGINAL_COMMAND. Throws RefusedError for anything but one git transport command. */
export function parseSshCommand(original: string | undefined): GitRequest {
  if (original === undefined || original === "") {
    throw new RefusedError("interactive logins are not allowed; this account only serves git push and fetch");
  }
  if (original.length > MAX_COMMAND_LENGTH) throw new RefusedError("command too long");
  // printable ASCII only: no newline, tab, NUL, escape sequences or non-ASCII look-alikes
  if (!/^[\x20-\x7e]+$/.test(original)) {
    throw new RefusedError(`refused ${describeCommand(original)}: control or non-ASCII characters`);
  }
  const m = /^(git-receive-pack|git-upload-pack|git receive-pack|git upload-pack) (.+)$/.exec(original);
  if (!m) {
    throw new RefusedError(
      `refused ${describeCommand(original)}: only git push and git fetch/clone of this gear's repository are allowed`,
    );
  }
  const service = SERVICES[m[1]];
  const p = unquoteGitArg(m[2]);
  if (p === null || p === "") {
    throw new RefusedError(
      `refused ${describeCommand(original)}: expected exactly one quoted repository path`,
    );
  }
  if (p.length > MAX_PATH_LENGTH) throw new RefusedError("repository path too long");
  return { service, path: p };
}

/**
 * The absolute path of the gear's repository when `requested` names it, in one of the forms git clients
 * send: `git/<app>.git`, `~/git/<app>.git`, `/~/git/<app>.git` or `<home>/git/<app>.git`, each with an
 * optional trailing slash. Everything else is refused: another gear's repository, `..` anywhere, other
 * files of the home.
 */
export function resolveGearRepo(requested: string, home: string, app: string): string {
  const segments = requested.split("/");
  if (segments.includes(".."))
    throw new RefusedError(`refused repository ${describeCommand(requested)}: path traversal`);
  const repo = `${home}/git/${app}.git`;
  const p = requested.endsWith("/") ? requested.slice(0, -1) : requested;
  const allowed = [`git/${app}.git`, `~/git/${app}.git`, `/~/git/${app}.git`, repo];
  if (!allowed.includes(p)) {
    throw new RefusedError(
      `refused repository ${describeCommand(requested)}: this account only serves ~/git/${app}.git`,
    );
  }
  return repo;
}
