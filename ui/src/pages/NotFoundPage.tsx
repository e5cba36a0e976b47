import { Link } from '../components/Link.tsx';

/** An unknown path inside the app. */
export function NotFoundPage() {
  return (
    <>
      <h1>Page not found</h1>
      <p>There is no page at this address. <Link to="/">Go to the dashboard</Link>.</p>
    </>
  );
}
