import { findAccount } from '../../lib/accounts/accounts.ts';
import { createUser, UserExistsError, userInputSchema } from '../../lib/accounts/users.ts';
import { systemClock } from '../../lib/clock.ts';
import { parseConfig } from '../../lib/config.ts';
import { args, command, UsageError, type Help } from '../args.ts';
import { withDatabase } from '../services.ts';

export const help: Help = {
  usage: 'aether users create (--admin | --viewer --account SLUG …) --email EMAIL --name NAME   (password on stdin)',
  about: 'Creates a user; the password is read from stdin (never a flag: it would stay in the shell history).\nPrints the TOTP URI to enrol in an authenticator app, once.',
  flags: [
    ['--admin', 'an administrator (every account)'],
    ['--viewer', 'a read-only user of the accounts given with --account'],
    ['--account SLUG', 'an account the viewer may see; repeatable'],
    ['--email EMAIL', 'login'],
    ['--name NAME', 'display name'],
  ],
  examples: ['read -s P && printf %s "$P" | aether users create --admin --email ops@example.com --name Ops'],
};

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('pipe the password on stdin, e.g. `read -s P && printf %s "$P" | aether users create …`');
  let data = '';
  for await (const chunk of process.stdin) data += chunk;
  return data.replace(/\r?\n$/, '');
}

export const run = (argv: string[]): Promise<number> =>
  command(help, async () => {
    const [sub, ...rest] = argv;
    if (sub !== 'create') throw new UsageError(`unknown subcommand '${sub ?? ''}'`);
    const { values } = args(rest, {
      admin: { type: 'boolean', default: false },
      viewer: { type: 'boolean', default: false },
      email: { type: 'string' },
      name: { type: 'string' },
      account: { type: 'string', multiple: true, default: [] },
    });
    if (values.admin === values.viewer) throw new UsageError('pass exactly one of --admin or --viewer');
    const password = await readStdin();
    const result = await withDatabase(parseConfig(), async (db, masterKey) => {
      const accountIds: string[] = [];
      for (const slug of values.account) {
        const a = await findAccount(db, slug);
        if (!a) throw new UsageError(`no account ${slug}`);
        accountIds.push(a.id);
      }
      const input = userInputSchema.safeParse({ email: values.email, name: values.name, role: values.admin ? 'admin' : 'viewer', password, accountIds });
      if (!input.success) throw new UsageError(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      try {
        return await db.transaction((tx) => createUser(tx, input.data, { actor: null, masterKey: masterKey(), clock: systemClock }));
      } catch (err) {
        if (err instanceof UserExistsError) throw new UsageError(err.message);
        throw err;
      }
    });
    process.stdout.write(`created ${result.user.role} ${result.user.email} (${result.user.id})\n`);
    if (result.totpUri) process.stdout.write(`enrol this TOTP URI in an authenticator app now (shown once):\n  ${result.totpUri}\n`);
    return 0;
  });
