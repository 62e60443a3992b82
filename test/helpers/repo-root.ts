// The checkout's root directory, found from test/… when jest runs the sources and from dist/test/… when a
// benchmark runs the build: the nearest directory above with package.json and scripts/.

import { existsSync } from "fs";
import * as path from "path";

function find(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (existsSync(path.join(d, "package.json")) && existsSync(path.join(d, "scripts"))) return d;
  }
  throw new Error(`the checkout's root (package.json and scripts/) not found above ${__dirname}`);
}

export const REPO_ROOT = find();
