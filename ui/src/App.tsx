import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, onSessionExpired, unwrap, type Schemas } from './api/client.ts';
import { Alert } from './components/Alert.tsx';
import { AppLayout, type NavItem } from './components/AppLayout.tsx';
import { match, navigate, useLocation } from './lib/router.ts';
import { SessionContext, type Session } from './lib/session.ts';
import { prefetchSummary } from './lib/summary-prefetch.ts';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';

// Every page but the dashboard and the login loads on first use: the first visit parses only what it shows.
const AccountPage = lazy(() => import('./pages/AccountPage.tsx').then((m) => ({ default: m.AccountPage })));
const CataloguePage = lazy(() => import('./pages/CataloguePage.tsx').then((m) => ({ default: m.CataloguePage })));
const GovernancePage = lazy(() => import('./pages/GovernancePage.tsx').then((m) => ({ default: m.GovernancePage })));
const HedgePage = lazy(() => import('./pages/HedgePage.tsx').then((m) => ({ default: m.HedgePage })));
const InvitePage = lazy(() => import('./pages/InvitePage.tsx').then((m) => ({ default: m.InvitePage })));
const KeysPage = lazy(() => import('./pages/KeysPage.tsx').then((m) => ({ default: m.KeysPage })));
const ObligationPage = lazy(() => import('./pages/ObligationPage.tsx').then((m) => ({ default: m.ObligationPage })));
const OnboardingPage = lazy(() => import('./pages/OnboardingPage.tsx').then((m) => ({ default: m.OnboardingPage })));
const SettingsPage = lazy(() => import('./pages/SettingsPage.tsx').then((m) => ({ default: m.SettingsPage })));
const UsersPage = lazy(() => import('./pages/UsersPage.tsx').then((m) => ({ default: m.UsersPage })));

type Me = { user: Schemas['User']; obligations: Array<'PASSWORD_CHANGE_REQUIRED' | 'TOTP_ENROLMENT_REQUIRED'>; accounts: Array<Schemas['Account']> };
type Boot = { status: { needsAdmin: boolean; accounts: number }; me: Me | null; replay: boolean };

async function boot(): Promise<Boot> {
  if (window.location.pathname === '/') prefetchSummary();
  const [status, me, health] = await Promise.all([
    unwrap(api.GET('/onboarding')),
    api.GET('/me').then((r) => (r.response.status === 401 ? null : unwrap(Promise.resolve(r)))),
    unwrap(api.GET('/healthz')),
  ]);
  return { status, me, replay: health.replay };
}

const pages: Array<[string, (p: Record<string, string>) => ReactNode]> = [
  ['/', () => <DashboardPage />],
  ['/accounts/:slug', (p) => <AccountPage slug={p.slug!} />],
  ['/accounts/:slug/settings', (p) => <SettingsPage slug={p.slug!} />],
  ['/accounts/:slug/keys', (p) => <KeysPage slug={p.slug!} />],
  ['/accounts/:slug/hedge', (p) => <HedgePage slug={p.slug!} />],
  ['/governance', () => <GovernancePage />],
  ['/users', () => <UsersPage />],
  ['/ui/catalogue', () => <CataloguePage />],
];

/** The app: boots from GET /onboarding and GET /me, then the wizard, the login or the signed-in pages. */
export function App() {
  const [state, setState] = useState<{ boot?: Boot; error?: unknown; expired?: boolean }>({});
  const { path, query } = useLocation();

  const reload = useCallback(async () => {
    try {
      const b = await boot();
      setState((s) => ({ boot: b, expired: s.expired }));
    } catch (error) {
      setState({ error });
    }
  }, []);
  useEffect(() => void reload(), [reload]);
  // Any 401 mid-session: back to the login, saying why.
  useEffect(() => onSessionExpired(() => setState((s) => (s.boot?.me ? { boot: { ...s.boot, me: null }, expired: true } : s))), []);

  const session = useMemo<Session | null>(() => {
    const me = state.boot?.me;
    if (!me) return null;
    return {
      user: me.user,
      accounts: me.accounts,
      refresh: reload,
      logout: async () => {
        await api.POST('/auth/logout');
        setState((s) => ({ boot: s.boot && { ...s.boot, me: null } }));
        navigate('/', true);
      },
    };
  }, [state.boot?.me, reload]);

  if (state.error) return <AppLayout nav={[]}><h1>Aether</h1><Alert kind="error">Aether could not be reached: {String((state.error as Error).message)}</Alert></AppLayout>;
  const b = state.boot;
  if (!b) return <AppLayout nav={[]}><h1>Aether</h1><p role="status">Loading…</p></AppLayout>;

  const me = b.me;
  const setupIncomplete = b.status.needsAdmin || (b.status.accounts === 0 && (!me || me.user.role === 'admin'));
  if (setupIncomplete || (path === '/onboarding' && me?.user.role === 'admin')) {
    return <AppLayout nav={[]} replay={b.replay} onLogout={session?.logout}><OnboardingPage status={b.status} me={me} onChanged={reload} /></AppLayout>;
  }
  if (!me && path === '/invite') return <AppLayout nav={[]}><InvitePage token={query.get('token') ?? ''} /></AppLayout>;
  if (!me || !session) {
    return (
      <AppLayout nav={[]} replay={b.replay}>
        {state.expired && <Alert kind="warning">Your session has ended. Please log in again.</Alert>}
        <LoginPage onLoggedIn={reload} />
      </AppLayout>
    );
  }
  if (me.obligations.length > 0) {
    return <AppLayout nav={[]} replay={b.replay} onLogout={session.logout}><ObligationPage obligation={me.obligations[0]!} user={me.user} onDone={reload} /></AppLayout>;
  }

  const nav: NavItem[] = [
    { to: '/', label: 'Dashboard' },
    ...me.accounts.map((a) => ({ to: `/accounts/${a.slug}`, label: a.name })),
    { to: '/governance', label: 'Governance' },
    ...(me.user.role === 'admin' ? [{ to: '/users', label: 'Users' }] : []),
    { to: '/ui/catalogue', label: 'Components' },
  ];
  let page: ReactNode = <NotFoundPage />;
  for (const [pattern, render] of pages) {
    const params = match(pattern, path);
    if (params) {
      page = render(params);
      break;
    }
  }
  return (
    <SessionContext.Provider value={session}>
      <AppLayout nav={nav} replay={b.replay} userLabel={`${me.user.email} (${me.user.role})`} onLogout={session.logout}>
        <Suspense fallback={<p role="status">Loading…</p>}>{page}</Suspense>
      </AppLayout>
    </SessionContext.Provider>
  );
}

