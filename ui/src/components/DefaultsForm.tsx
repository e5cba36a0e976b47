import { api, unwrap } from '../api/client.ts';
import { SETTINGS_SCHEMAS } from '../lib/settings-fields.ts';
import { useAction } from '../lib/use-action.ts';
import { SettingsForm } from './SettingsForm.tsx';

export interface DefaultsFormProps {
  /** Account slugs the defaults go to. */
  accounts: readonly string[];
}

/** The onboarding's risk and hedge defaults: the same forms as the Configuration page, applied to every account. */
export function DefaultsForm({ accounts }: DefaultsFormProps) {
  const patchAll = (kind: 'risk' | 'hedge') => async (patch: Record<string, unknown>) => {
    for (const account of accounts) await unwrap(api.PATCH('/accounts/{account}/settings/{kind}', { params: { path: { account, kind } }, body: patch }));
  };
  const risk = useAction(patchAll('risk'), 'Risk defaults saved for every account.');
  const hedge = useAction(patchAll('hedge'), 'Hedge defaults saved for every account.');
  return (
    <>
      <SettingsForm kind="risk" title="Risk" current={SETTINGS_SCHEMAS.risk.parse({})} disabled={false} save={risk} />
      <SettingsForm kind="hedge" title="Hedge" current={SETTINGS_SCHEMAS.hedge.parse({})} disabled={false} save={hedge} />
    </>
  );
}
