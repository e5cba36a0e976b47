import type { ReactNode } from 'react';
import { navigate, useLocation } from '../lib/router.ts';
import { Button } from './Button.tsx';
import { ThemeToggle } from './ThemeToggle.tsx';

export interface NavItem {
  to: string;
  label: string;
}

export interface AppLayoutProps {
  nav: readonly NavItem[];
  /** Who is signed in, e.g. "ada@example.com (admin)"; omitted before login. */
  userLabel?: string;
  onLogout?: () => void;
  /** `aether demo`: recorded candles replayed, not the market — said on every page. */
  replay?: boolean;
  children: ReactNode;
}

/** The page frame: skip link, header with the navigation, the theme toggle and logout, and the main landmark. */
export function AppLayout({ nav, userLabel, onLogout, replay = false, children }: AppLayoutProps) {
  const { path } = useLocation();
  const current = nav.reduce<NavItem | undefined>((best, n) => ((path === n.to || path.startsWith(n.to === '/' ? '/\0' : `${n.to}/`)) && n.to.length > (best?.to.length ?? -1) ? n : best), undefined);
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="app-header">
        <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>Aether</a>
        {nav.length > 0 && (
          <nav className="app-nav" aria-label="Main">
            <ul>
              {nav.map((n) => (
                <li key={n.to}>
                  <a href={n.to} aria-current={current === n ? 'page' : undefined} onClick={(e) => { e.preventDefault(); navigate(n.to); }}>{n.label}</a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        {replay && <span className="badge badge-replay" title="aether demo: recorded candles replayed through the Kraken emulator">REPLAY — recorded market, not live</span>}
        <span className="spacer" />
        {userLabel && <span className="muted">{userLabel}</span>}
        <ThemeToggle />
        {onLogout && <Button variant="secondary" onClick={onLogout}>Log out</Button>}
      </header>
      <main id="main" className="app-main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
