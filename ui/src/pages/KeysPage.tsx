export interface KeysPageProps {
  slug: string;
}

export function KeysPage({ slug }: KeysPageProps) {
  return <h1>Keys {slug}</h1>;
}
