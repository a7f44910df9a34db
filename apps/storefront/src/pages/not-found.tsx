import { Link } from 'wouter';
import { SiteHeader } from '../components/site-header.tsx';

export function NotFound() {
  return (
    <>
      <SiteHeader live={false} />
      <main className="page" id="main">
        <h1>Page not found</h1>
        <p>
          <Link href="/">See all events</Link>
        </p>
      </main>
    </>
  );
}
