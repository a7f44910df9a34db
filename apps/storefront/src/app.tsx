import { Route, Switch } from 'wouter';
import { EventList } from './pages/event-list.tsx';
import { EventPage } from './pages/event-page.tsx';
import { NotFound } from './pages/not-found.tsx';
import { OrganizerPage } from './pages/organizer.tsx';

/** The routes: `/` events, `/events/:slug` an event, `/organizer` the dashboard. */
export function App() {
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Switch>
        <Route path="/">
          <EventList />
        </Route>
        <Route path="/events/:slug">{(params) => <EventPage key={params.slug} slug={decodeURIComponent(params.slug)} />}</Route>
        <Route path="/organizer">
          <OrganizerPage />
        </Route>
        <Route>
          <NotFound />
        </Route>
      </Switch>
    </>
  );
}
