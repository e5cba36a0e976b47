#!/usr/bin/env node
// The `aether` CLI. Aether runs its TypeScript directly through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
