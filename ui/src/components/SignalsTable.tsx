import { api, unwrap } from '../api/client.ts';
import { formatPct } from '../lib/format.ts';
import { usePoll } from '../lib/use-poll.ts';
import { DataState } from './DataState.tsx';
import { DataTable } from './DataTable.tsx';
import { Time } from './Time.tsx';

export interface SignalsTableProps {
  pairs: readonly string[];
}

/** The current regime and signal of each pair the account trades, with the model that made it. */
export function SignalsTable({ pairs }: SignalsTableProps) {
  const list = pairs.join(',');
  const signals = usePoll(() => (list ? unwrap(api.GET('/markets/signals', { params: { query: { pairs: list } } })) : Promise.resolve({ signals: [] })), [list], 10_000);
  return (
    <DataState {...signals} what="signals" isEmpty={(d) => d.signals.length === 0} empty={<p className="muted">No signals yet: the first cycle scores every pair.</p>} onRetry={signals.reload}>
      {(d) => (
        <DataTable
          caption="Regime and signal per pair"
          rows={d.signals}
          rowKey={(s) => s.pair}
          columns={[
            { header: 'Pair', cell: (s) => s.pair },
            { header: 'Regime', cell: (s) => `${s.regime} (${formatPct(s.regimeProbs[s.regime] ?? null)})` },
            { header: 'Probability up', numeric: true, cell: (s) => formatPct(s.probUp) },
            { header: 'Expected return', numeric: true, cell: (s) => formatPct(s.expectedReturn, true) },
            { header: 'Model', cell: (s) => <span className="mono">{s.modelVersion}</span> },
            { header: 'Bar', cell: (s) => <Time iso={s.time} /> },
          ]}
        />
      )}
    </DataState>
  );
}
