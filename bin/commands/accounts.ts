import { accountInputSchema, AccountExistsError, createAccount, listAccounts } from '../../lib/accounts/accounts.ts';
import { seedAccount } from '../../lib/accounts/settings.ts';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { withDatabase } from '../services.ts';

export const help: Help = {
  usage: ['aether accounts list', 'aether accounts create --slug SLUG --name NAME [--kind company|director|other]'],
  about: 'list: every account (slug, kind, id, name). create: a new account with default settings, simulated\nuntil it is switched to live (its order-<slug> function serves it at once).',
  flags: [
    ['--slug SLUG', 'lowercase letters, digits and dashes (≤ 40): the account’s name in URLs and the CLI'],
    ['--name NAME', 'display name'],
    ['--kind K', 'company, director or other (default)'],
  ],
  examples: ['aether accounts list', 'aether accounts create --slug fund-b --name "Fund B" --kind other'],
};

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const [sub, ...rest] = argv;
    if (sub === 'list') {
      args(rest, {});
      const rows = await withDatabase(parseConfig(), (db) => listAccounts(db));
      for (const a of rows) process.stdout.write(`${a.slug.padEnd(20)} ${a.kind.padEnd(9)} ${a.id}  ${a.name}\n`);
      if (!rows.length) process.stdout.write('no accounts yet (onboarding creates company, director-1, director-2)\n');
      return 0;
    }
    if (sub !== 'create') throw new UsageError(`unknown subcommand '${sub ?? ''}'`);
    const { values } = args(rest, { slug: { type: 'string' }, name: { type: 'string' }, kind: { type: 'string', default: 'other' } });
    const input = accountInputSchema.safeParse(values);
    if (!input.success) throw new UsageError(input.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
    try {
      const a = await withDatabase(parseConfig(), (db) =>
        db.transaction(async (tx) => {
          const created = await createAccount(tx, input.data, null, systemClock);
          await seedAccount(tx, created.id, null, systemClock);
          return created;
        }),
      );
      process.stdout.write(`created account ${a.slug} (${a.id})\n`);
      return 0;
    } catch (err) {
      if (err instanceof AccountExistsError) throw new UsageError(err.message);
      throw err;
    }
  });
