import { useEffect, useState } from 'react';
import { Button } from './Button.tsx';

export type Theme = 'light' | 'dark';

const initial = (): Theme => {
  const saved = localStorage.getItem('aether.theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
};

/** Switches between the light and dark themes (the tokens under [data-theme]); remembered in this browser. */
export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('aether.theme', theme);
  }, [theme]);
  const next: Theme = theme === 'dark' ? 'light' : 'dark';
  return (
    <Button variant="secondary" onClick={() => setTheme(next)} aria-label={`Switch to ${next} theme`}>
      {theme === 'dark' ? 'Light theme' : 'Dark theme'}
    </Button>
  );
}
