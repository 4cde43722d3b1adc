// Sign-in: paste a bearer token. Outside production (the service answers introspection without a
// token there) the page shows how to mint one.
import { type FormEvent, useState } from 'react';
import { useQuery } from 'urql';
import { Field } from '../components';
import { PortalEnvironmentQuery } from '../graphql/operations';

const TOKEN_COMMAND = 'npm run -s token -- --org <organization uuid> --role admin';

export function SignInPage({ onSignIn }: { onSignIn: (token: string) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [{ data: development }] = useQuery({ query: PortalEnvironmentQuery });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = token.trim().replace(/^Bearer\s+/i, '');
    if (trimmed.split('.').length !== 3) {
      setError('A token is three dot-separated parts (a JWT).');
      return;
    }
    setToken('');
    onSignIn(trimmed);
  };

  return (
    <main className="page narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <p>Paste a bearer token of your organization. It is kept in this tab only, until you sign out.</p>
      <form onSubmit={submit} noValidate>
        <Field id="token" label="Bearer token" value={token} onChange={setToken} error={error} secret required />
        <button type="submit">Sign in</button>
      </form>
      {development ? (
        <section className="notice" aria-labelledby="dev-token-title">
          <h2 id="dev-token-title">Development</h2>
          <p>This service runs outside production. Mint an admin token in the project folder:</p>
          <pre>
            <code>{TOKEN_COMMAND}</code>
          </pre>
        </section>
      ) : null}
    </main>
  );
}
