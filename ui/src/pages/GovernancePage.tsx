export function GovernancePage() {
  return <h1>Governance</h1>;
}
