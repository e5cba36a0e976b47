import { useEffect, useState, type FormEvent } from 'react';
import { FIELDS, fromInput, toInput, validateSettings, type EditableKind } from '../lib/settings-fields.ts';
import type { Action } from '../lib/use-action.ts';
import { ActionStatus } from './ActionStatus.tsx';
import { Alert } from './Alert.tsx';
import { Button } from './Button.tsx';
import { SelectField } from './SelectField.tsx';
import { TextField } from './TextField.tsx';

export interface SettingsFormProps {
  kind: EditableKind;
  title: string;
  current: Record<string, unknown>;
  /** Viewers: every control disabled. */
  disabled: boolean;
  /** Sends the changed fields (PATCH); its error is the server's message. */
  save: Action<[Record<string, unknown>]>;
}

/** One kind of settings as a form: checked with the server's schema before sending, the server's refusal shown as it says it. */
export function SettingsForm({ kind, title, current, disabled, save }: SettingsFormProps) {
  const specs = FIELDS[kind];
  const initial = () => Object.fromEntries(specs.map((s) => [s.key, toInput(s, current[s.key])]));
  const [text, setText] = useState<Record<string, string>>(initial);
  const [problems, setProblems] = useState<{ fields: Record<string, string>; other: string[] }>({ fields: {}, other: [] });
  const currentJson = JSON.stringify(current);
  useEffect(() => setText(initial()), [currentJson]);

  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const patch: Record<string, unknown> = {};
    for (const s of specs) {
      const value = fromInput(s, text[s.key] ?? '');
      if (JSON.stringify(value) !== JSON.stringify(current[s.key])) patch[s.key] = value;
    }
    const found = validateSettings(kind, current, patch);
    setProblems(found);
    if (Object.keys(found.fields).length || found.other.length || Object.keys(patch).length === 0) return;
    void save.run(patch);
  };

  return (
    <form onSubmit={submit} aria-label={title} noValidate>
      <fieldset disabled={disabled}>
        <legend>{title}</legend>
        {specs.map((s) =>
          s.type === 'bool' || s.type === 'select' ? (
            <SelectField
              key={s.key}
              label={s.label}
              value={text[s.key] ?? ''}
              options={(s.type === 'bool' ? ['true', 'false'] : (s.options ?? [])).map((o) => ({ value: o, label: o === 'true' ? 'Yes' : o === 'false' ? 'No' : o }))}
              onChange={(e) => setText({ ...text, [s.key]: e.target.value })}
            />
          ) : (
            <TextField
              key={s.key}
              label={s.type === 'pct' ? `${s.label} (%)` : s.label}
              name={`${kind}.${s.key}`}
              inputMode={s.type === 'list' ? 'text' : 'decimal'}
              hint={s.hint}
              error={problems.fields[s.key]}
              value={text[s.key] ?? ''}
              onChange={(e) => setText({ ...text, [s.key]: e.target.value })}
            />
          ),
        )}
        {problems.other.length > 0 && <Alert kind="error">{problems.other.join('; ')}</Alert>}
        <ActionStatus action={save} />
        <Button type="submit" busy={save.busy}>Save {title.toLowerCase()}</Button>
      </fieldset>
    </form>
  );
}
