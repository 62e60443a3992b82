// Templates that are plain variable substitution ("{{GEARTRAIN_LOG_DIR}}nodejs.log"): what every shipped
// cartridge's templates are. Handlebars' own parser decides which ones qualify (nothing is compiled or run
// here), and rendering one is string concatenation. Pure.
//
// For these, the result is exactly Handlebars' (noEscape, the gear env as the context): text outside
// mustaches is copied as is (no whitespace control: no ~, no block, comment or partial whose line
// Handlebars would strip), and {{NAME}} / {{{NAME}}} with an upper-case variable name (never a helper's:
// those are lower case) is the variable's value, or nothing when it is not set.

import Handlebars from "handlebars";

/** The text and variable references of a simple template, in order. */
export type SimpleTemplate = readonly (string | { readonly variable: string })[];

const VARIABLE = /^[A-Z_][A-Z0-9_]*$/;

/** `text` as a SimpleTemplate, or null when it uses anything but text and {{VARIABLE}} (or does not parse). */
export function simpleTemplate(text: string): SimpleTemplate | null {
  if (text.includes("\0")) return null;
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(text);
  } catch {
    return null;
  }
  const parts: (string | { variable: string })[] = [];
  for (const s of program.body) {
    if (s.type === "ContentStatement") {
      // (the typings call `original` strip flags; it is the source text)
      const c = s as unknown as { value: string; original: string };
      if (c.value !== c.original) return null;
      parts.push(c.value);
    } else if (s.type === "MustacheStatement") {
      const m = s as hbs.AST.MustacheStatement;
      const p = m.path as hbs.AST.PathExpression;
      const simple =
        p.type === "PathExpression" &&
        !p.data &&
        p.depth === 0 &&
        p.parts.length === 1 &&
        p.original === p.parts[0] &&
        VARIABLE.test(p.original) &&
        m.params.length === 0 &&
        !m.hash &&
        !m.strip.open &&
        !m.strip.close;
      if (!simple) return null;
      parts.push({ variable: p.original });
    } else {
      return null;
    }
  }
  return parts;
}

/** Render a SimpleTemplate with `env` (own properties only, as Handlebars looks them up). */
export function renderSimple(t: SimpleTemplate, env: Readonly<Record<string, string>>): string {
  return t
    .map((p) =>
      typeof p === "string"
        ? p
        : Object.prototype.hasOwnProperty.call(env, p.variable)
          ? env[p.variable]
          : "",
    )
    .join("");
}
