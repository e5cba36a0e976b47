import type { ReactNode } from 'react';

export interface CardProps {
  /** The card's heading (an h2), also its accessible name. */
  title?: string;
  children: ReactNode;
}

/** A titled panel: a `section` region named by its heading. */
export function Card({ title, children }: CardProps) {
  const id = title ? `card-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}` : undefined;
  return (
    <section className="card" aria-labelledby={id}>
      {title && <h2 id={id}>{title}</h2>}
      {children}
    </section>
  );
}
