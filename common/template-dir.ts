// Where a module's Handlebars templates are: beside it in the source tree, or (running from dist/, which
// holds no .hbs files) in the source tree's copy. Shared by every module that renders from templates
// (node/frontend, components/datastore and dns, common/render).

import { readFileSync } from "fs";
import * as path from "path";

/**
 * The templates folder of the module in `here` (its __dirname, two folders below the repository root or
 * below dist/): `here/templates` when it holds `probe`, else `<root>/<source>` (e.g. "components/dns/templates").
 */
export function templateDir(here: string, source: string, probe: string): string {
  for (const d of [path.join(here, "templates"), path.resolve(here, "../../..", source)]) {
    try {
      readFileSync(path.join(d, probe));
      return d;
    } catch {
      /* next */
    }
  }
  throw new Error(`${source} not found from ${here}`);
}
