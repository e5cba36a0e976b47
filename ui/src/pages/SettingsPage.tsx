export interface SettingsPageProps {
  slug: string;
}

export function SettingsPage({ slug }: SettingsPageProps) {
  return <h1>Settings {slug}</h1>;
}
