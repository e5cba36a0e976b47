import { useSyncExternalStore } from 'react';

const subscribe = (cb: () => void): (() => void) => {
  const o = new MutationObserver(cb);
  o.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return () => o.disconnect();
};

/** The theme in force (ThemeToggle sets it on <html>); charts redraw in its colours. */
export const useTheme = (): string => useSyncExternalStore(subscribe, () => document.documentElement.dataset.theme ?? 'light');

/** A design token's current value, e.g. token('--color-text'). */
export const token = (name: string): string => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
