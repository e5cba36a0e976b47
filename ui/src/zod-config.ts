import { config } from 'zod';

// Imported first by every module that imports the server's schemas (lib/settings-fields.ts, KeyUploadForm): the page's CSP allows no eval, and zod's compiled
// parsers would probe `new Function`, which the browser reports as a CSP violation.
config({ jitless: true });
