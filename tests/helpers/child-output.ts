import type { ChildProcess } from 'node:child_process';

/**
 * Resolves with the child's output (stdout and stderr together) once it contains `text`; rejects,
 * output included, when the child exits first or `ms` pass.
 */
export function untilOutput(child: ChildProcess, text: string, ms: number): Promise<string> {
  let output = '';
  return new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${JSON.stringify(text)} within ${ms / 1000} s:\n${output}`)), ms);
    const onData = (d: Buffer): void => {
      output += d.toString();
      if (!output.includes(text)) return;
      clearTimeout(timer);
      ok(output);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`exited (${code ?? signal}) before ${JSON.stringify(text)}:\n${output}`));
    });
  });
}
