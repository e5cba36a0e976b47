import '../zod-config.ts';
import { useState, type FormEvent } from 'react';
import { krakenCredentialsSchema } from '../../../lib/accounts/key-format.ts';
import { api, unwrap } from '../api/client.ts';
import { explainKeyRefusal } from '../lib/key-refusal.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';
import { TextField } from './TextField.tsx';

export interface KeyUploadFormProps {
  account: string;
  /** Account name for the form's label. */
  accountName: string;
  disabled?: boolean;
  onUploaded?: () => void;
}

/**
 * Upload a Kraken key pair: checked with the server's own key schema here, then validated against
 * Kraken by the server (a key that can withdraw is refused). The secret is never shown again.
 */
export function KeyUploadForm({ account, accountName, disabled = false, onUploaded }: KeyUploadFormProps) {
  const [apiKey, setApiKey] = useState('');
  const [apiSecret, setApiSecret] = useState('');
  const [problems, setProblems] = useState<{ apiKey?: string; apiSecret?: string }>({});
  const upload = useAction(async () => {
    try {
      await unwrap(api.POST('/accounts/{account}/keys', { params: { path: { account } }, body: { apiKey, apiSecret } }));
    } catch (err) {
      const e = err as { code?: string; message: string };
      if (e.code === 'STEP_UP_REQUIRED') throw err; // useAction asks for the TOTP code and repeats the upload
      throw new Error(explainKeyRefusal(e.code ?? '', e.message), { cause: err });
    }
    setApiKey('');
    setApiSecret('');
    onUploaded?.();
  }, 'Key accepted by Kraken and stored. Only its fingerprint and last four characters are kept visible.');

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const parsed = krakenCredentialsSchema.safeParse({ apiKey: apiKey.trim(), apiSecret: apiSecret.trim() });
    if (!parsed.success) {
      const out: { apiKey?: string; apiSecret?: string } = {};
      for (const i of parsed.error.issues) out[i.path[0] as 'apiKey' | 'apiSecret'] ??= `${i.path[0] === 'apiKey' ? 'API key' : 'Private key'} ${i.message}`;
      setProblems(out);
      return;
    }
    setProblems({});
    void upload.run();
  };

  return (
    <form onSubmit={submit} aria-label={`Upload Kraken key for ${accountName}`} noValidate>
      <TextField label="API key" name="apiKey" autoComplete="off" spellCheck={false} disabled={disabled} value={apiKey} error={problems.apiKey} onChange={(e) => setApiKey(e.target.value)} />
      <TextField label="Private key" name="apiSecret" type="password" autoComplete="off" disabled={disabled} value={apiSecret} error={problems.apiSecret} hint="Kraken shows it once, base64. It is sent to the server and never shown here again." onChange={(e) => setApiSecret(e.target.value)} />
      <ActionStatus action={upload} />
      <Button type="submit" busy={upload.busy} disabled={disabled}>Upload and validate key</Button>
    </form>
  );
}
