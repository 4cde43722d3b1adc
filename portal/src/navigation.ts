// Client-side routes under /portal/ (the service answers index.html for each of them).
import { useEffect, useState } from 'react';

const BASE = '/portal';

export function navigate(path: string): void {
  window.history.pushState(null, '', BASE + path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** The route below /portal, e.g. `/credentials/new`. */
export function useRoute(): string {
  const read = () => window.location.pathname.replace(/^\/portal/, '') || '/';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const update = () => setRoute(read());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}
