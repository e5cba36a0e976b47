import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './schema/index.ts',
  out: './schema/migrations',
  entities: { roles: { provider: '', exclude: ['aether_app'] } },
});
