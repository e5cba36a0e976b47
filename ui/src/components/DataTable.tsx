import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** Right-aligned tabular numbers. */
  numeric?: boolean;
}

export interface DataTableProps<T> {
  caption: string;
  columns: ReadonlyArray<Column<T>>;
  rows: readonly T[];
  rowKey: (row: T, index: number) => string;
  /** Rows under the body, e.g. totals. */
  footer?: ReactNode;
  /** Hide the caption visually (still read by screen readers). */
  hideCaption?: boolean;
  empty?: string;
}

/** A captioned table with column headers; scrolls sideways on narrow screens. */
export function DataTable<T>({ caption, columns, rows, rowKey, footer, hideCaption = false, empty }: DataTableProps<T>) {
  if (rows.length === 0 && empty) return <p className="muted">{empty}</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className={hideCaption ? 'sr-only' : undefined}>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col" className={c.numeric ? 'num' : undefined}>{c.header}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={rowKey(r, i)}>
              {columns.map((c) => (
                <td key={c.header} className={c.numeric ? 'num' : undefined}>{c.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
        {footer && <tfoot>{footer}</tfoot>}
      </table>
    </div>
  );
}
