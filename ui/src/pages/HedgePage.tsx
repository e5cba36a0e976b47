import { api, unwrap } from '../api/client.ts';
import { AccountHeader } from '../components/AccountHeader.tsx';
import { Alert } from '../components/Alert.tsx';
import { AuditTimeline } from '../components/AuditTimeline.tsx';
import { Card } from '../components/Card.tsx';
import { DataState } from '../components/DataState.tsx';
import { HedgeControl } from '../components/HedgeControl.tsx';
import { HedgeHistory } from '../components/HedgeHistory.tsx';
import { HedgePerformance } from '../components/HedgePerformance.tsx';
import { Time } from '../components/Time.tsx';
import { formatPct } from '../lib/format.ts';
import { canEdit, useSession } from '../lib/session.ts';
import { usePoll } from '../lib/use-poll.ts';

export interface HedgePageProps {
  slug: string;
}

/** Hedge controls and history (UI-5, H-3, H-4). */
export function HedgePage({ slug }: HedgePageProps) {
  const session = useSession();
  const report = usePoll(() => unwrap(api.GET('/accounts/{account}/reports/hedge', { params: { path: { account: slug } } })), [slug], 10_000);
  const name = session.accounts.find((a) => a.slug === slug)?.name ?? slug;
  const editable = canEdit(session);
  return (
    <>
      <AccountHeader slug={slug} name={name} page="Hedge" />
      {!editable && <Alert kind="info">You have read-only access: the hedge is managed by an admin.</Alert>}
      <DataState {...report} what="the hedge" onRetry={report.reload}>
        {(r) => (
          <>
            <div className="grid">
              <Card title="Now">
                {r.current ? (
                  <dl className="metrics">
                    <div><dt>Mode</dt><dd>{r.current.mode === 'manual' ? 'Manual' : 'Automatic'}</dd></div>
                    <div><dt>Target USD share</dt><dd>{formatPct(r.current.target)}</dd></div>
                    <div><dt>Actual USD share</dt><dd>{formatPct(r.current.actual)}</dd></div>
                    {r.current.mode === 'manual' && <div><dt>Manual until</dt><dd>{r.current.manualExpiresAt ? <Time iso={r.current.manualExpiresAt} /> : 'changed'}</dd></div>}
                    <div><dt>Why</dt><dd>{r.current.reason}</dd></div>
                  </dl>
                ) : (
                  <p className="muted">No hedge decision yet: the first cycle makes one.</p>
                )}
              </Card>
              <Card title="Change">
                <HedgeControl key={`${r.current?.mode}-${r.current?.manualRatio}`} account={slug} mode={r.current?.mode ?? 'auto'} manualRatio={r.current?.manualRatio ?? null} disabled={!editable} onChanged={report.reload} />
              </Card>
            </div>
            {r.history.length > 0 ? <HedgeHistory history={r.history} /> : <Card title="Hedge target and actual"><p className="muted">No hedge history yet.</p></Card>}
            <Card title="Hedge performance">
              {r.performance ? <HedgePerformance performance={r.performance} /> : <p className="muted">Needs at least two equity snapshots.</p>}
            </Card>
          </>
        )}
      </DataState>
      <Card title="Hedge changes">
        <AuditTimeline account={slug} action="hedge.override" caption="Hedge mode changes" describe={(d) => (d.mode === 'manual' ? `manual ${formatPct(Number(d.ratio))}${d.expiresAt ? ` until ${String(d.expiresAt)}` : ''}` : 'automatic')} />
      </Card>
    </>
  );
}
