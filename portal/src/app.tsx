// The page: sign-in until a token is in the session, then the catalog and the routes.
import { useMemo, useState } from 'react';
import { Provider as UrqlProvider, useQuery } from 'urql';
import { CatalogContext } from './catalog';
import { createVaultClient } from './client';
import { Link, ProblemNotice } from './components';
import { ModelProvidersQuery } from './graphql/operations';
import { useRoute } from './navigation';
import { CredentialPage } from './pages/credential-page';
import { CredentialsPage } from './pages/credentials-page';
import { NewCredentialPage } from './pages/new-credential-page';
import { ProvidersPage } from './pages/providers-page';
import { SignInPage } from './pages/sign-in-page';
import { problemsOf } from './problems';
import { clearToken, storedToken, storeToken } from './session';

export function App() {
  const [token, setToken] = useState(storedToken);
  // A new client per session: nothing the previous one fetched outlives a sign-out.
  const client = useMemo(() => createVaultClient(), [token]);
  return (
    <UrqlProvider value={client}>
      <a className="skip-link" href="#content">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Credential vault</span>
        {token ? (
          <nav aria-label="Main">
            <Link to="/credentials">Credentials</Link>
            <Link to="/providers">Providers</Link>
            <button
              type="button"
              onClick={() => {
                clearToken();
                setToken(null);
              }}
            >
              Sign out
            </button>
          </nav>
        ) : null}
      </header>
      <div id="content">
        {token ? (
          <SignedIn />
        ) : (
          <SignInPage
            onSignIn={(value) => {
              storeToken(value);
              setToken(value);
            }}
          />
        )}
      </div>
    </UrqlProvider>
  );
}

function SignedIn() {
  const route = useRoute();
  const [{ data, error }] = useQuery({ query: ModelProvidersQuery });
  if (error) {
    return (
      <main className="page">
        <ProblemNotice problems={problemsOf(error)} />
      </main>
    );
  }
  if (!data) return <main className="page">Loading…</main>;
  return <CatalogContext.Provider value={data.modelProviders}>{pageFor(route)}</CatalogContext.Provider>;
}

function pageFor(route: string) {
  if (route === '/providers') return <ProvidersPage />;
  if (route === '/credentials/new') return <NewCredentialPage />;
  const credential = /^\/credentials\/([^/]+)$/.exec(route);
  if (credential) return <CredentialPage key={credential[1]} id={credential[1]} />;
  return <CredentialsPage />;
}
