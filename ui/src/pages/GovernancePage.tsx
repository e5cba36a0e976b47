import { AuditTrail } from '../components/AuditTrail.tsx';
import { Card } from '../components/Card.tsx';
import { ChainStatus } from '../components/ChainStatus.tsx';
import { SystemLog } from '../components/SystemLog.tsx';
import { canEdit, useSession } from '../lib/session.ts';

/** Governance (UI-6, G-3): the audit trail, its chain verification (admins: the server verifies for them only), and the system log. */
export function GovernancePage() {
  const session = useSession();
  return (
    <>
      <h1>Governance</h1>
      {canEdit(session) && (
        <Card title="Audit chain">
          <ChainStatus />
        </Card>
      )}
      <Card title="Audit trail">
        <AuditTrail accounts={session.accounts} />
      </Card>
      <Card title="System log">
        <SystemLog />
      </Card>
    </>
  );
}
