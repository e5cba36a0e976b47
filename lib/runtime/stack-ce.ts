import type { Stack, StackFunction } from './stack.ts';

/**
 * OpenFaaS CE (Community Edition) is for evaluation only: at most 15 functions and 5 replicas each,
 * public images (no pull secrets), no autoscaling target, and none of the OpenFaaS Standard features
 * production relies on (Profiles, per-function service accounts, readiness paths). Its gateway rejects
 * a function that asks for more. These are the rules `ceViolations` checks and `ceStack` applies.
 */
export const CE_MAX_FUNCTIONS = 15;
export const CE_MAX_REPLICAS = 5;

/** Labels CE's validation refuses (scaling beyond min/max is OpenFaaS Standard's autoscaler). */
const CE_REFUSED_LABELS = ['com.openfaas.scale.target', 'com.openfaas.scale.target-proportion', 'com.openfaas.scale.type', 'com.openfaas.scale.zero', 'com.openfaas.scale.zero-duration'];
/** Annotations only OpenFaaS Standard acts on: CE ignores them, so a CE stack carrying them would promise what it does not do. */
const STANDARD_ONLY_ANNOTATIONS = ['com.openfaas.profile', 'com.openfaas.serviceaccount'];
const STANDARD_ONLY_ANNOTATION_PREFIXES = ['com.openfaas.ready.http.', 'com.openfaas.health.http.'];

const standardOnly = (key: string) => STANDARD_ONLY_ANNOTATIONS.includes(key) || STANDARD_ONLY_ANNOTATION_PREFIXES.some((p) => key.startsWith(p));

/** Every way the stack breaks CE's rules, one line each (empty: CE deploys it). */
export function ceViolations(stack: Stack): string[] {
  const out: string[] = [];
  const names = Object.keys(stack.functions);
  if (names.length > CE_MAX_FUNCTIONS) out.push(`${names.length} functions: CE allows at most ${CE_MAX_FUNCTIONS}`);
  for (const [name, fn] of Object.entries(stack.functions)) {
    const labels = fn.labels ?? {};
    for (const key of CE_REFUSED_LABELS) if (labels[key] !== undefined) out.push(`${name}: label ${key} is not accepted by CE`);
    const max = labels['com.openfaas.scale.max'];
    if (max === undefined) out.push(`${name}: no com.openfaas.scale.max (CE needs one of at most ${CE_MAX_REPLICAS})`);
    else if (Number(max) > CE_MAX_REPLICAS) out.push(`${name}: com.openfaas.scale.max ${max} exceeds CE's ${CE_MAX_REPLICAS}`);
    for (const key of Object.keys(fn.annotations ?? {})) if (standardOnly(key)) out.push(`${name}: annotation ${key} is OpenFaaS Standard only`);
    // A pull secret would be how a private image is reached; CE pulls public images only.
    for (const s of fn.secrets ?? []) if (/registry|pull/.test(s)) out.push(`${name}: secret ${s} looks like an image pull secret (CE pulls public images only)`);
  }
  return out;
}

function ceFunction(fn: StackFunction): StackFunction {
  const out = structuredClone(fn);
  const labels = Object.fromEntries(Object.entries(out.labels ?? {}).filter(([k]) => !CE_REFUSED_LABELS.includes(k)));
  const max = Math.min(Number(labels['com.openfaas.scale.max'] ?? CE_MAX_REPLICAS), CE_MAX_REPLICAS);
  labels['com.openfaas.scale.max'] = String(max);
  if (labels['com.openfaas.scale.min'] !== undefined) labels['com.openfaas.scale.min'] = String(Math.min(Number(labels['com.openfaas.scale.min']), max));
  out.labels = labels;
  const annotations = Object.fromEntries(Object.entries(out.annotations ?? {}).filter(([k]) => !standardOnly(k)));
  if (Object.keys(annotations).length) out.annotations = annotations;
  else delete out.annotations;
  return out;
}

/** The production stack under CE's rules: what k8s/overlays/production-ce/stack.yml holds (`aether stack ce`). */
export function ceStack(stack: Stack): Stack {
  return { ...stack, functions: Object.fromEntries(Object.entries(stack.functions).map(([name, fn]) => [name, ceFunction(fn)])) };
}
