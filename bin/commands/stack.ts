import { stringify } from 'yaml';
import { accountSlug } from '../../lib/queue/jobs.ts';
import { functionResource, krakenSecretResource, KRAKEN_SECRET_PREFIX, loadStack, ORDER_FUNCTION_PREFIX, orderFunctionFor } from '../../lib/runtime/stack.ts';

const USAGE = 'usage: aether stack account <slug>   (prints what the cluster needs for a new account: k8s/README.md "Adding an account")\n';

/**
 * `aether stack account <slug>`: the deployment step of a new account in the cluster, as text to
 * paste — its `order-<slug>` entry for stack.yml, the Function object for k8s/base/functions/, the
 * empty `kraken-<slug>` Secret and the RBAC name. Reads stack.yml; writes nothing.
 */
export async function run(argv: string[]): Promise<number> {
  const [sub, slug, ...rest] = argv;
  if (sub !== 'account' || !slug || rest.length) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (!accountSlug.safeParse(slug).success) {
    process.stderr.write(`aether stack account: "${slug}" is not an account slug (lowercase letters, digits and dashes, at most 40)\n`);
    return 2;
  }
  const stack = loadStack();
  const name = `${ORDER_FUNCTION_PREFIX}${slug}`;
  if (stack.functions[name]) {
    process.stderr.write(`aether stack account: stack.yml already has ${name}\n`);
    return 1;
  }
  const fn = orderFunctionFor(stack, slug);
  const indent = (text: string, by: string): string => text.replace(/^(?=.)/gm, by);
  const out = [
    `# 1. stack.yml, under functions: (OpenFaaS CE: then faas-cli deploy -f stack.yml --read-template=false --filter ${name})`,
    indent(stringify({ [name]: fn }, { lineWidth: 0 }), '  '),
    `# 2. k8s/base/functions/${name}.yaml, and "  - functions/${name}.yaml" under resources: in k8s/base/kustomization.yaml`,
    `# Mirrors stack.yml functions.${name} (tests/unit/k8s.test.ts keeps them equal).`,
    stringify(functionResource(name, fn), { lineWidth: 0 }),
    `# 3. k8s/base/kraken-secrets.yaml (an empty holder; the key arrives by upload or kubectl, k8s/README.md)`,
    '---',
    stringify(krakenSecretResource(slug), { lineWidth: 0 }),
    `# 4. k8s/base/rbac.yaml: add "${KRAKEN_SECRET_PREFIX}${slug}" to the Role's resourceNames, so the api can store an uploaded key`,
    `# 5. apply (kubectl apply -k k8s/overlays/production), wait for ${name} to be ready, then create the account`,
    `#    (POST /function/api/accounts or aether accounts create --slug ${slug} …): its first order job then finds its function.`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  return 0;
}
