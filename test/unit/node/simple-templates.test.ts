import Handlebars from "handlebars";
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import { renderSimple, simpleTemplate } from "../../../node/cartridge/simple-templates";

// what the gear's renderer does (node/cartridge/hooks.ts RENDER)
const handlebars = (text: string, env: Record<string, string>) =>
  Handlebars.compile(text, { noEscape: true })(Object.assign(Object.create(null), env));

const ENV = {
  GEARTRAIN_LOG_DIR: "/var/lib/gears/0123/app-root/logs/",
  RAW: "<b>&amp;</b> {{NOT_A_TEMPLATE}} $HOME `x`",
  EMPTY: "",
  UNICODE: "héllo — ✓",
  USER: "0123",
};

describe("simple templates render exactly as Handlebars does", () => {
  it.each([
    "{{GEARTRAIN_LOG_DIR}}nodejs.log",
    "{{GEARTRAIN_LOG_DIR}}nodejs.log\n",
    "{{USER}} at {{RAW}}\n",
    "{{{RAW}}} and {{&RAW}}",
    "{{ USER }}",
    "missing=[{{NOT_SET}}] empty=[{{EMPTY}}]",
    "{{UNICODE}}\n\n  indented {{USER}}\n",
    "no mustache at all\n",
    "",
    "a } b }} c {{USER}}",
    "\\{{USER}} is literal",
    "tab\t{{USER}}\r\nwindows line",
  ])("%j", (text) => {
    const t = simpleTemplate(text);
    expect(t).not.toBeNull();
    expect(renderSimple(t!, ENV)).toBe(handlebars(text, ENV));
  });

  it("the shipped cartridges' templates are all simple", () => {
    const root = path.resolve(__dirname, "../../../cartridges");
    const found: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".hbs")) found.push(p);
      }
    };
    walk(root);
    expect(found.length).toBeGreaterThan(5);
    for (const f of found) {
      const text = readFileSync(f, "utf8");
      const t = simpleTemplate(text);
      expect([f, t === null]).toEqual([f, false]);
      expect(renderSimple(t!, ENV)).toBe(handlebars(text, ENV));
    }
  });
});

describe("anything else is left to Handlebars (the gear's renderer)", () => {
  it.each([
    "{{user}}",
    "{{log}}",
    "{{X.Y}}",
    "{{this.X}}",
    "{{./X}}",
    "{{../X}}",
    "{{@index}}",
    "{{~X}}",
    "{{X~}}",
    "{{X Y}}",
    "{{X y=1}}",
    "{{!comment}}",
    "{{!-- comment --}}",
    "{{#if X}}a{{/if}}",
    "{{^X}}a{{/X}}",
    "{{> partial}}",
    '{{"literal"}}',
    "{{1}}",
    "{{X}}}",
    "{{unclosed",
    "nul\0byte",
  ])("%j", (text) => {
    expect(simpleTemplate(text)).toBeNull();
  });
});
