// The path globs of `assetPaths`/`archivePaths`, with upstream's rules (github.com/gobwas/glob with
// "/" as separator): `*` and `?` stop at "/", `**` crosses it, `[abc]`/`[!abc]`/`[a-z]` classes and
// `{a,b}` alternatives; a pattern starting with `!` excludes. Patterns apply in order to each file
// path (relative, "/"-separated, no "./"), so an exclusion only removes what earlier patterns added.

/** Why the pattern cannot be compiled, or undefined. */
export function globProblem(pattern: string): string | undefined {
  try {
    compileGlob(pattern.replace(/^!/, ""));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const REGEX_SPECIAL = /[\\^$.|+()[\]{}*?]/g;

/** Compiles one glob (without its `!`) to an anchored regular expression. */
export function compileGlob(glob: string): RegExp {
  let i = 0;
  const parse = (inAlternative: boolean): string => {
    let out = "";
    while (i < glob.length) {
      const c = glob[i];
      if (inAlternative && (c === "," || c === "}")) return out;
      i++;
      if (c === "*") {
        if (glob[i] === "*") {
          i++;
          out += ".*";
        } else {
          out += "[^/]*";
        }
      } else if (c === "?") {
        out += "[^/]";
      } else if (c === "\\") {
        if (i >= glob.length) throw new Error(`glob ${JSON.stringify(glob)} ends with an escape`);
        out += glob[i++].replace(REGEX_SPECIAL, "\\$&");
      } else if (c === "[") {
        const end = glob.indexOf("]", i + 1);
        if (end < 0) throw new Error(`glob ${JSON.stringify(glob)} has an unclosed [`);
        let body = glob.slice(i, end);
        i = end + 1;
        const negated = body.startsWith("!");
        if (negated) body = body.slice(1);
        out += `[${negated ? "^" : ""}${body.replace(/[\\\]^]/g, "\\$&")}]`;
      } else if (c === "{") {
        const options: string[] = [];
        for (;;) {
          options.push(parse(true));
          if (i >= glob.length) throw new Error(`glob ${JSON.stringify(glob)} has an unclosed {`);
          if (glob[i++] === "}") break;
        }
        out += `(?:${options.join("|")})`;
      } else {
        out += c.replace(REGEX_SPECIAL, "\\$&");
      }
    }
    return out;
  };
  const source = parse(false);
  return new RegExp(`^${source}$`, "s");
}

/** The paths the patterns select, in the order given. */
export function selectPaths(paths: readonly string[], patterns: readonly string[]): string[] {
  const rules = patterns.map((p) => ({ exclude: p.startsWith("!"), re: compileGlob(p.replace(/^!/, "")) }));
  return paths.filter((p) => {
    let selected = false;
    for (const rule of rules) {
      if (rule.re.test(p)) selected = !rule.exclude;
    }
    return selected;
  });
}
