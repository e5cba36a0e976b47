/** `aether stack …` run in this process, its stdout captured: the exit code and what it printed. */
export async function runStack(args: string[]): Promise<{ code: number; out: string }> {
  const { run } = await import('../../bin/commands/stack.ts');
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    return { code: await run(args), out };
  } finally {
    process.stdout.write = write;
  }
}
