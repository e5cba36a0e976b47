import { config } from 'zod';

// Imported first by main.tsx, before any schema: the page's CSP allows no eval, and zod's compiled
// parsers would probe `new Function`, which the browser reports as a CSP violation.
config({ jitless: true });
