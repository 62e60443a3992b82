// The contract between the `geartrain` dispatcher (services/cli) and each command group it loads lazily.
// It lives here, below both, so a group never imports the dispatcher.

export interface CommandGroup {
  /** one line for `geartrain --help` */
  readonly summary: string;
  /** runs the group's command line; resolves to the process exit code */
  run(argv: string[]): Promise<number>;
}
