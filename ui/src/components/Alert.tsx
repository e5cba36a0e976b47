import type { ReactNode } from 'react';

export interface AlertProps {
  kind: 'error' | 'warning' | 'info';
  children: ReactNode;
}

/** A message box; errors and warnings are announced (role=alert), info politely (role=status). */
export function Alert({ kind, children }: AlertProps) {
  return (
    <div className={`alert alert-${kind}`} role={kind === 'info' ? 'status' : 'alert'}>
      {children}
    </div>
  );
}
