import type { Schemas } from '../api/client.ts';

export interface AccountPickerProps {
  legend: string;
  accounts: ReadonlyArray<Schemas['Account']>;
  /** Selected account ids. */
  value: readonly string[];
  onChange: (ids: string[]) => void;
  disabled?: boolean;
}

/** Checkboxes for the accounts a viewer may see. */
export function AccountPicker({ legend, accounts, value, onChange, disabled = false }: AccountPickerProps) {
  return (
    <fieldset disabled={disabled}>
      <legend>{legend}</legend>
      {accounts.map((a) => (
        <label key={a.id} className="row">
          <input type="checkbox" checked={value.includes(a.id)} onChange={(e) => onChange(e.target.checked ? [...value, a.id] : value.filter((id) => id !== a.id))} />
          {a.name}
        </label>
      ))}
    </fieldset>
  );
}
