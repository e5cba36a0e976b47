/** Whether a file or directory under node_modules is never loaded by `node bin/aether.js` (bin/prune-modules.js). */
export declare const prunable: (path: string) => boolean;
