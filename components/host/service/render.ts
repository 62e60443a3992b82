// Renders a ServiceSpec into the files of its backend: a systemd unit, or a runit service directory (run,
// finish, check, control/t, log/run). Deterministic: fixed key order, sorted lists, no timestamps. Secret
// values appear only in the environment file (0600), rendered apart by renderEnvironment. No I/O.
import { runitRoot, ServicePaths, servicePaths, ServiceSpec, unitName } from "./model";

/** One file of a service's definition on its host. */
export interface RenderedFile {
  /** Its name in the set (stable key for hashes and drift): "unit", "run", "log/run", "env", ... */
  readonly name: string;
  readonly path: string;
  readonly mode: "0600" | "0644" | "0755";
  readonly content: string;
}

const HEADER = (spec: ServiceSpec) =>
  `Managed by Geartrain (service ${spec.name}, ${spec.backend}); \`pulumi up\` overwrites changes.`;

/** Single-quotes a word for bash: the only way a value reaches a script line. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Quotes one ExecStart= word: double quotes, with `\` and `"` escaped and `$`, `%` doubled (no expansion). */
export function systemdQuote(word: string): string {
  const escaped = word
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/\$/g, "$$$$")
    .replace(/%/g, "%%");
  return `"${escaped}"`;
}

/** One systemd EnvironmentFile= value: double-quoted, `"`, `\`, `` ` `` and `$` backslash-escaped. */
function systemdEnvValue(value: string): string {
  return `"${value.replace(/["\\`$]/g, (c) => `\\${c}`)}"`;
}

/**
 * The environment file. systemd: `NAME="value"` lines (EnvironmentFile=); runit: `NAME=value` records
 * separated by NUL, read by the run script with `read -d ''` (no quoting at all). Names sorted.
 */
export function renderEnvironment(spec: ServiceSpec, env: Readonly<Record<string, string>>): string {
  const names = Object.keys(env).sort();
  if (spec.backend === "systemd") {
    return `# ${HEADER(spec)}\n` + names.map((n) => `${n}=${systemdEnvValue(env[n])}\n`).join("");
  }
  return names.map((n) => `${n}=${env[n]}\0`).join("");
}

const SIGNAL_NUMBERS: Record<string, string> = {
  TERM: "SIGTERM",
  INT: "SIGINT",
  QUIT: "SIGQUIT",
  HUP: "SIGHUP",
  KILL: "SIGKILL",
  USR1: "SIGUSR1",
  USR2: "SIGUSR2",
};

/** The check script (both backends): exits 0 when the service answers. */
function renderCheck(spec: ServiceSpec): string | null {
  const r = spec.readiness;
  if (r === null) return null;
  const lines = ["#!/bin/bash", `# ${HEADER(spec)}`, "# Readiness check: exits 0 once the service answers."];
  if (r.kind === "tcp") {
    const target = `/dev/tcp/${r.address}/${r.port}`;
    lines.push(`exec timeout 5 bash -c 'exec 3<>"$0"' ${shellQuote(target)} 2>/dev/null`);
  } else {
    const group = spec.group === null ? `"$(id -gn -- ${shellQuote(spec.user)})"` : shellQuote(spec.group);
    lines.push(
      `cd ${shellQuote(spec.workingDirectory)} || exit 1`,
      `exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\`,
      `  setpriv --reuid=${shellQuote(spec.user)} --regid=${group} --init-groups -- \\`,
      `  ${r.command.map(shellQuote).join(" ")}`,
    );
  }
  return lines.join("\n") + "\n";
}

function renderSystemdUnit(spec: ServiceSpec, paths: ServicePaths): string {
  const after = ["network.target", ...spec.requires.map(unitName)];
  const unit = [
    `# ${HEADER(spec)}`,
    "[Unit]",
    `Description=Geartrain service ${spec.name}`,
    `After=${after.join(" ")}`,
    // restart for ever, as runit does (the default gives up after 5 starts in 10 s)
    "StartLimitIntervalSec=0",
    ...(spec.requires.length > 0 ? [`Requires=${spec.requires.map(unitName).join(" ")}`] : []),
    "",
    "[Service]",
    "Type=exec",
    `ExecStart=${spec.command.map(systemdQuote).join(" ")}`,
    `User=${spec.user}`,
    ...(spec.group !== null ? [`Group=${spec.group}`] : []),
    `WorkingDirectory=${spec.workingDirectory}`,
    ...(spec.environmentNames.length > 0 ? [`EnvironmentFile=${paths.environmentFile}`] : []),
    `Restart=${spec.restart}`,
    "RestartSec=1",
    `KillSignal=${SIGNAL_NUMBERS[spec.stopSignal]}`,
    `TimeoutStopSec=${spec.stopTimeoutSeconds}`,
    `SyslogIdentifier=geartrain-${spec.name}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  ];
  return unit.join("\n") + "\n";
}

function renderRunitRun(spec: ServiceSpec, paths: ServicePaths): string {
  const account = spec.group === null ? spec.user : `${spec.user}:${spec.group}`;
  const lines = ["#!/bin/bash", `# ${HEADER(spec)}`, "exec 2>&1"];
  for (const dep of spec.requires) {
    const depDir = `${runitRoot(spec.serviceDirectory)}/sv/${dep}`;
    lines.push(`# needs ${dep}: start only once it is up (and its check passes)`);
    lines.push(`sv -w 30 check ${shellQuote(depDir)} >/dev/null || { echo "waiting for ${dep}"; exit 1; }`);
  }
  if (spec.environmentNames.length > 0) {
    lines.push(
      "# NAME=value records separated by NUL; exported as they are (no expansion)",
      `while IFS= read -r -d '' kv; do export "$kv"; done <${shellQuote(paths.environmentFile)}`,
    );
  }
  lines.push(
    `cd ${shellQuote(spec.workingDirectory)} || exit 111`,
    `exec chpst -u ${shellQuote(account)} -- ${spec.command.map(shellQuote).join(" ")}`,
  );
  return lines.join("\n") + "\n";
}

/** runit restarts whatever exits; finish turns that off for `no`, and for a clean exit under `on-failure`. */
function renderRunitFinish(spec: ServiceSpec): string | null {
  if (spec.restart === "always") return null;
  const lines = ["#!/bin/bash", `# ${HEADER(spec)}`, `# restart policy: ${spec.restart}`];
  // writing "d" to runsv's control pipe (opened read-write: never blocks) stops the restart
  if (spec.restart === "no") lines.push("printf d 1<>supervise/control");
  else lines.push('if [ "$1" = 0 ]; then printf d 1<>supervise/control; fi');
  lines.push("exit 0");
  return lines.join("\n") + "\n";
}

/** runsv runs control/t instead of sending TERM (for sv down, restart, exit). */
function renderRunitStop(spec: ServiceSpec): string | null {
  if (spec.stopSignal === "TERM") return null;
  return [
    "#!/bin/bash",
    `# ${HEADER(spec)}`,
    `# stop signal: ${spec.stopSignal}`,
    `kill -s ${spec.stopSignal} "$(cat supervise/pid)"`,
    "",
  ].join("\n");
}

function renderRunitLog(spec: ServiceSpec): string {
  return ["#!/bin/bash", `# ${HEADER(spec)}`, "mkdir -p main", "exec svlogd -tt main", ""].join("\n");
}

/** Every file of the service's definition except the environment file, sorted by name. */
export function renderDefinition(spec: ServiceSpec): RenderedFile[] {
  const paths = servicePaths(spec);
  const files: RenderedFile[] = [];
  const check = renderCheck(spec);
  if (check !== null) files.push({ name: "check", path: paths.checkScript, mode: "0755", content: check });
  if (spec.backend === "systemd") {
    files.push({ name: "unit", path: paths.entry, mode: "0644", content: renderSystemdUnit(spec, paths) });
  } else {
    const add = (name: string, content: string | null) => {
      if (content !== null) files.push({ name, path: `${paths.dir}/${name}`, mode: "0755", content });
    };
    add("run", renderRunitRun(spec, paths));
    add("finish", renderRunitFinish(spec));
    add("control/t", renderRunitStop(spec));
    add("log/run", renderRunitLog(spec));
  }
  return files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The environment file, or null when the service has no environment. */
export function renderEnvironmentFile(
  spec: ServiceSpec,
  env: Readonly<Record<string, string>>,
): RenderedFile | null {
  if (Object.keys(env).length === 0) return null;
  return {
    name: "env",
    path: servicePaths(spec).environmentFile,
    mode: "0600",
    content: renderEnvironment(spec, env),
  };
}
