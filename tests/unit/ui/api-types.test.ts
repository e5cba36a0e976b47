import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateTypes, TYPES_FILE } from '../../../ui/scripts/openapi.ts';

describe('the web UI API types', () => {
  it('ui/src/api/schema.d.ts is generated from the current routes (npm run ui:types)', async () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(await generateTypes());
  }, 60_000);
});
