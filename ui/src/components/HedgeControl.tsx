import { useState } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useAction } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Button } from './Button.tsx';
import { TextField } from './TextField.tsx';

export interface HedgeControlProps {
  account: string;
  mode: 'auto' | 'manual';
  manualRatio: number | null;
  disabled: boolean;
  onChanged: () => void;
}

/** Auto or manual hedge (UI-5): a manual USD share with an optional expiry, after which auto resumes. */
export function HedgeControl({ account, mode, manualRatio, disabled, onChanged }: HedgeControlProps) {
  const [choice, setChoice] = useState<'auto' | 'manual'>(mode);
  const [ratio, setRatio] = useState(manualRatio === null ? '' : String(Math.round(manualRatio * 1000) / 10));
  const [expires, setExpires] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const save = useAction(async () => {
    const body =
      choice === 'auto'
        ? { mode: 'auto' as const }
        : { mode: 'manual' as const, ratio: Number(ratio) / 100, expiresAt: expires ? new Date(expires).toISOString() : null };
    await unwrap(api.PUT('/accounts/{account}/hedge', { params: { path: { account } }, body }));
    onChanged();
  }, 'Hedge mode saved.');

  const submit = (): void => {
    const r = Number(ratio);
    if (choice === 'manual' && (ratio.trim() === '' || !(r >= 0 && r <= 100))) return setProblem('The USD share must be between 0 and 100 %');
    if (choice === 'manual' && expires && new Date(expires).getTime() <= Date.now()) return setProblem('The expiry must be in the future');
    setProblem(null);
    void save.run();
  };

  return (
    <form onSubmit={(e) => { e.preventDefault(); submit(); }} aria-label="Hedge mode">
      <fieldset disabled={disabled}>
        <legend>Hedge mode</legend>
        <div className="row" role="radiogroup" aria-label="Hedge mode">
          <label><input type="radio" name="hedge-mode" value="auto" checked={choice === 'auto'} onChange={() => setChoice('auto')} /> Automatic (volatility and drawdown)</label>
          <label><input type="radio" name="hedge-mode" value="manual" checked={choice === 'manual'} onChange={() => setChoice('manual')} /> Manual</label>
        </div>
        {choice === 'manual' && (
          <>
            <TextField label="USD share of equity (%)" inputMode="decimal" value={ratio} error={problem} onChange={(e) => setRatio(e.target.value)} />
            <TextField label="Manual until (your time; empty: until changed)" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
          </>
        )}
        <ActionStatus action={save} />
        <Button type="submit" busy={save.busy}>Save hedge mode</Button>
      </fieldset>
    </form>
  );
}
