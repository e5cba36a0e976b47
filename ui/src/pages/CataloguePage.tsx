import { useState } from 'react';
import { Alert } from '../components/Alert.tsx';
import { Button } from '../components/Button.tsx';
import { Card } from '../components/Card.tsx';
import { DataTable } from '../components/DataTable.tsx';
import { DrawdownMeter } from '../components/DrawdownMeter.tsx';
import { HoldingsList } from '../components/HoldingsList.tsx';
import { ModeBadge } from '../components/ModeBadge.tsx';
import { Percent } from '../components/Percent.tsx';
import { QrCode } from '../components/QrCode.tsx';
import { SelectField } from '../components/SelectField.tsx';
import { TextField } from '../components/TextField.tsx';
import { Time } from '../components/Time.tsx';
import { TradeWhy } from '../components/TradeWhy.tsx';
import { TradingStateBadge } from '../components/TradingStateBadge.tsx';
import { TradingStateCell } from '../components/TradingStateCell.tsx';
import { formatUsd } from '../lib/format.ts';

const TOKENS = ['--color-bg', '--color-surface', '--color-text', '--color-text-muted', '--color-primary', '--color-positive', '--color-negative', '--color-sim-bg', '--color-live-bg', '--color-state-active', '--color-state-reducing', '--color-state-halted', '--color-chart-line', '--color-chart-line-2'];

/**
 * The component catalogue (A-6): every building block with sample props, in the current theme —
 * what the visual editor (ui/BUILDER.md) composes pages from.
 */
export function CataloguePage() {
  const [text, setText] = useState('');
  const now = new Date().toISOString();
  return (
    <>
      <h1>Component catalogue</h1>
      <p>The UI's building blocks with sample data. Colours, spacing and type come from the design tokens in <code>ui/src/styles/tokens.css</code>; the theme toggle in the header switches light and dark.</p>
      <Card title="Design tokens">
        <ul className="row plain-list">
          {TOKENS.map((t) => (
            <li key={t} className="token-swatch">
              <span className={`swatch swatch${t.replace('--color', '')}`} aria-hidden="true" /> <code>{t}</code>
            </li>
          ))}
        </ul>
      </Card>
      <Card title="Badges">
        <div className="row">
          <ModeBadge mode="simulation" />
          <ModeBadge mode="live" />
          <TradingStateBadge state="ACTIVE" />
          <TradingStateBadge state="REDUCING" />
          <TradingStateBadge state="HALTED" />
        </div>
        <TradingStateCell state={{ state: 'HALTED', reason: 'daily drawdown 5.2 % ≥ 5 %', since: now }} />
      </Card>
      <Card title="Numbers and times">
        <p>{formatUsd(12345.678)} · <Percent value={0.0123} signed /> · <Percent value={-0.0042} signed /> · <Time iso={now} /></p>
        <DrawdownMeter daily={0.021} softLimit={0.03} hardLimit={0.05} />
        <HoldingsList holdings={[{ asset: 'USD', amount: 8123.45, valueUsd: 8123.45 }, { asset: 'BTC', amount: 0.0231, valueUsd: 2010.1 }]} />
      </Card>
      <Card title="Buttons and alerts">
        <div className="row">
          <Button>Primary</Button>
          <Button variant="secondary">Secondary</Button>
          <Button variant="danger">Danger</Button>
          <Button busy>Busy</Button>
          <Button disabled>Disabled</Button>
        </div>
        <Alert kind="info">An information message.</Alert>
        <Alert kind="warning">A warning.</Alert>
        <Alert kind="error">An error the server sent.</Alert>
      </Card>
      <Card title="Form fields">
        <TextField label="A text field" hint="With a hint" value={text} onChange={(e) => setText(e.target.value)} />
        <TextField label="A field with an error" value="0.9" error="riskPerTrade must be ≤ 0.05" readOnly />
        <SelectField label="A select" options={[{ value: 'a', label: 'Option A' }, { value: 'b', label: 'Option B' }]} />
      </Card>
      <Card title="Table and trade explanation">
        <DataTable
          caption="A sample table"
          rows={[{ pair: 'BTC/USD', value: 1234.5 }, { pair: 'ETH/USD', value: 567.89 }]}
          rowKey={(r) => r.pair}
          columns={[{ header: 'Pair', cell: (r) => r.pair }, { header: 'Value', numeric: true, cell: (r) => formatUsd(r.value) }]}
        />
        <TradeWhy trade={{ cause: 'entry', intent: 'entry', reason: 'probUp 0.62 ≥ entry 0.50; regime bull; risk: approved at 0.8 % of equity', modelVersion: 'trend-v3' }} />
      </Card>
      <Card title="QR code">
        <QrCode value="otpauth://totp/Aether:demo@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Aether" label="Sample QR code" />
      </Card>
    </>
  );
}
