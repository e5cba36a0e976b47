import { useLocation } from '../lib/router.ts';
import { Link } from './Link.tsx';
import { ModeBadge } from './ModeBadge.tsx';
import { TradingStateBadge, type TradingStateName } from './TradingStateBadge.tsx';

export interface AccountHeaderProps {
  slug: string;
  name: string;
  /** What this page of the account is, e.g. "Configuration". */
  page: string;
  mode?: 'simulation' | 'live';
  state?: TradingStateName;
}

const TABS = [
  { to: '', label: 'Overview' },
  { to: '/settings', label: 'Configuration' },
  { to: '/keys', label: 'Keys and live trading' },
  { to: '/hedge', label: 'Hedge' },
];

/** The account's title (its one h1), mode and state badges, and the links to its pages. */
export function AccountHeader({ slug, name, page, mode, state }: AccountHeaderProps) {
  const { path } = useLocation();
  return (
    <>
      <div className="row">
        <h1>{name}: {page}</h1>
        {mode && <ModeBadge mode={mode} />}
        {state && <TradingStateBadge state={state} />}
      </div>
      <nav aria-label={`${name} pages`}>
        <ul className="row plain-list">
          {TABS.map((t) => {
            const to = `/accounts/${slug}${t.to}`;
            return (
              <li key={t.label}>
                <Link to={to} aria-current={path === to ? 'page' : undefined}>{t.label}</Link>
              </li>
            );
          })}
        </ul>
      </nav>
    </>
  );
}
