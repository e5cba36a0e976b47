export interface AccountPageProps {
  slug: string;
}

export function AccountPage({ slug }: AccountPageProps) {
  return <h1>Account {slug}</h1>;
}
