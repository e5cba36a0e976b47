import type { ButtonHTMLAttributes } from 'react';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: 'primary' | 'secondary' | 'danger';
  /** Shown instead of the label (and the button disabled) while an action runs. */
  busy?: boolean;
}

/** A button; `type` defaults to "button" so only explicit submit buttons submit forms. */
export function Button({ variant = 'primary', busy = false, type = 'button', className, children, disabled, ...rest }: ButtonProps) {
  const cls = ['btn', variant === 'primary' ? '' : `btn-${variant}`, className ?? ''].filter(Boolean).join(' ');
  return (
    <button type={type} className={cls} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {busy ? 'Working…' : children}
    </button>
  );
}
