export interface HedgePageProps {
  slug: string;
}

export function HedgePage({ slug }: HedgePageProps) {
  return <h1>Hedge {slug}</h1>;
}
