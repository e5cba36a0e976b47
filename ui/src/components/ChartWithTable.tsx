import type { ReactNode } from 'react';

export interface ChartWithTableProps {
  title: string;
  chart: ReactNode;
  table: ReactNode;
}

/** A chart and its table alternative: the table is one click away for everyone, and always there for screen readers. */
export function ChartWithTable({ title, chart, table }: ChartWithTableProps) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      {chart}
      <details>
        <summary>{title}: show the data as a table</summary>
        {table}
      </details>
    </section>
  );
}
