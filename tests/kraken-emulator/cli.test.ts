import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { run, startFromArgs } from '../../bin/commands/kraken-emulator.ts';

describe('aether kraken-emulator', () => {
  it.each([[['--port', 'abc']], [['--port', '70000']], [['--bogus']], [['--scenario', '/nonexistent/file.json']]])('bad arguments %j → exit code 2 with a message', async (argv) => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run(argv)).toBe(2);
      expect(String(err.mock.calls[0]?.[0])).toMatch(/port|bogus|Unknown option|scenario/i);
    } finally {
      err.mockRestore();
    }
  });

  it('starts with a scenario file and a funded demo key', async () => {
    const file = fileURLToPath(new URL('./scenarios/flaky-order-entry.json', import.meta.url));
    const s = await startFromArgs(['--port', '0', '--scenario', file]);
    try {
      expect(s.emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(s.emu.balances(s.demo.key)['ZUSD']!.total).toBe(100_000);
      expect(s.emu.balances('scenario-key')['ZUSD']!.total).toBe(25_000);
      expect(s.emu.faults.pending()).toHaveLength(4);
      const res = await fetch(`${s.emu.url}/0/public/Time`);
      expect(((await res.json()) as { error: string[] }).error).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});
