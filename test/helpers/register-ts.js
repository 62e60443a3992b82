// Lets a child process started by a test (`node -r test/helpers/register-ts.js script.ts`) load the
// project's TypeScript sources: each .ts file is transpiled with the project's own typescript (no type
// check: jest's ts-jest and `tsc --noEmit` do that), so such a child needs no build of dist/.
"use strict";
const fs = require("fs");
const ts = require("typescript");

require.extensions[".ts"] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  module._compile(out.outputText, filename);
};
