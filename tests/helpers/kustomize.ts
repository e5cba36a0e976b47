import { execFileSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

export const ROOT = join(import.meta.dirname, '..', '..');

export const objectSchema = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({
    name: z.string().min(1),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
});
export type K8sObject = z.infer<typeof objectSchema>;

/** Renders a kustomization exactly as an operator would apply it. Never skipped: no kubectl, no pass. */
export function kustomize(dir: string): K8sObject[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error('kubectl is not on PATH: install kubectl (it bundles kustomize) to render and check k8s/', {
        cause: error,
      });
    }
    throw new Error(`kubectl kustomize ${relative(ROOT, dir)} failed:\n${e.stderr ?? e.message}`, { cause: error });
  }
  return parseAllDocuments(out).map((doc) => objectSchema.parse(doc.toJS()));
}
