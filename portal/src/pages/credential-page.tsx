// One credential: what it is, edit its name, base URL and settings, rotate its secret, validate
// it against AWS or Vertex AI, delete it (or learn which providers keep it in use).
import { type FormEvent, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { AuthFields, authInputOf, displayNameOf, useCatalog, useModelProvider, withoutSecrets } from '../catalog';
import { send } from '../client';
import { Field, formatTime, Link, ProblemNotice } from '../components';
import type { AuthType, CredentialQuery as CredentialResult } from '../gql/graphql';
import { CredentialQuery, DeleteCredentialMutation, UpdateCredentialMutation } from '../graphql/operations';
import { navigate } from '../navigation';
import { NO_PROBLEMS, type Problems, problemsOf } from '../problems';
import { SettingsFields, settingsOf } from './settings-fields';
import { ValidationPanel } from './validation-panel';

type Credential = NonNullable<CredentialResult['credential']>;

export function CredentialPage({ id }: { id: string }) {
  const catalog = useCatalog();
  const [{ data, error }, reload] = useQuery({ query: CredentialQuery, variables: { id } });
  const credential = data?.credential;
  const refresh = () => reload({ requestPolicy: 'network-only' });

  if (error) {
    return (
      <main className="page">
        <ProblemNotice problems={problemsOf(error)} />
      </main>
    );
  }
  if (!data) return <main className="page">Loading…</main>;
  if (!credential) {
    return (
      <main className="page">
        <h1>Not found</h1>
        <p>
          No such credential in your organization. <Link to="/credentials">Back to the list</Link>
        </p>
      </main>
    );
  }
  return (
    <main className="page" aria-labelledby="credential-title">
      <p>
        <Link to="/credentials">← Credentials</Link>
      </p>
      <h1 id="credential-title">{credential.name}</h1>
      <dl className="facts">
        <dt>Model provider</dt>
        <dd>{displayNameOf(catalog, credential.modelProvider)}</dd>
        <dt>Auth type</dt>
        <dd>{credential.authType}</dd>
        <dt>Key</dt>
        <dd>{credential.keyLast4 ? `…${credential.keyLast4}` : '—'}</dd>
        <dt>Secret version</dt>
        <dd data-field="secretVersion">{credential.secretVersion}</dd>
        <dt>Rotated at</dt>
        <dd>{formatTime(credential.secretRotatedAt)}</dd>
        <dt>Last used</dt>
        <dd>{formatTime(credential.lastUsedAt)}</dd>
        <dt>Base URL</dt>
        <dd>{credential.baseUrl}</dd>
        <dt>Providers using it</dt>
        <dd>{credential.providers.map((provider) => provider.name).join(', ') || 'none'}</dd>
      </dl>
      <div className="panels">
        <EditPanel key={`edit-${credential.secretVersion}-${credential.name}`} credential={credential} onSaved={refresh} />
        <RotatePanel credential={credential} onRotated={refresh} />
        <ValidationPanel credential={credential} />
        <DeletePanel credential={credential} />
      </div>
    </main>
  );
}

function stringSettings(settings: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(settings).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]),
  );
}

/**
 * The whole settings object to store (the update replaces it): each key the form shows as typed, an
 * emptied one left out so that it is removed; stored keys the form does not show are kept as they are.
 */
function editedSettings(
  stored: Record<string, unknown>,
  shown: readonly { key: string }[],
  typed: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const shownKeys = new Set(shown.map((setting) => setting.key));
  const unshown = Object.entries(stored).filter(([key]) => !shownKeys.has(key));
  const fromForm = Object.entries(settingsOf(typed)).filter(([key]) => shownKeys.has(key));
  return Object.fromEntries([...unshown, ...fromForm]);
}

function EditPanel({ credential, onSaved }: { credential: Credential; onSaved: () => void }) {
  const client = useClient();
  const entry = useModelProvider(credential.modelProvider);
  const [name, setName] = useState(credential.name);
  const [baseUrl, setBaseUrl] = useState(credential.baseUrl);
  const [settings, setSettings] = useState(() => stringSettings(credential.settings));
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [saved, setSaved] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    const result = await send(client, UpdateCredentialMutation, {
      id: credential.id,
      input: {
        name,
        baseUrl: baseUrl.trim() === '' ? null : baseUrl.trim(),
        ...(entry ? { settings: editedSettings(credential.settings, entry.settingsKeys, settings) } : {}),
      },
    });
    setProblems(problemsOf(result.error));
    if (result.data) {
      setSaved(true);
      onSaved();
    }
  };

  return (
    <section className="panel" aria-labelledby="edit-title">
      <h2 id="edit-title">Edit</h2>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ProblemNotice problems={problems} />
        <Field id="edit-name" label="Name" value={name} onChange={setName} error={problems.fields.name} required />
        <Field
          id="edit-baseUrl"
          label="Base URL"
          value={baseUrl}
          onChange={setBaseUrl}
          error={problems.fields.baseUrl}
          description="Empty resets it to the model provider's default."
        />
        {entry ? (
          <SettingsFields
            entry={entry}
            values={settings}
            onChange={(key, value) => setSettings((values) => ({ ...values, [key]: value }))}
            errors={problems.fields}
            idPrefix="edit"
          />
        ) : null}
        <button type="submit">Save changes</button>
        {saved ? (
          <p className="success" role="status">
            Saved.
          </p>
        ) : null}
      </form>
    </section>
  );
}

function RotatePanel({ credential, onRotated }: { credential: Credential; onRotated: () => void }) {
  const client = useClient();
  const entry = useModelProvider(credential.modelProvider);
  const [authTypeName, setAuthTypeName] = useState<AuthType>(credential.authType);
  const authType = entry?.authTypes.find((candidate) => candidate.authType === authTypeName) ?? entry?.authTypes[0];
  const [values, setValues] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [rotatedTo, setRotatedTo] = useState<number>();

  if (!entry || !authType) return null;
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setRotatedTo(undefined);
    const result = await send(client, UpdateCredentialMutation, {
      id: credential.id,
      input: { auth: authInputOf(authType, values), expectedSecretVersion: credential.secretVersion },
    });
    setValues((current) => withoutSecrets(authType, current));
    setProblems(problemsOf(result.error));
    if (result.data) {
      setRotatedTo(result.data.updateCredential.secretVersion);
      onRotated();
    }
  };

  return (
    <section className="panel" aria-labelledby="rotate-title">
      <h2 id="rotate-title">Rotate the secret</h2>
      <p className="hint">The new secret replaces the stored one; it is never shown again.</p>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ProblemNotice problems={problems} />
        {entry.authTypes.length > 1 ? (
          <div className="field">
            <label htmlFor="rotate-auth-type">Auth type</label>
            <select
              id="rotate-auth-type"
              value={authType.authType}
              onChange={(event) => {
                setAuthTypeName(event.target.value as AuthType);
                setValues({});
              }}
            >
              {entry.authTypes.map((candidate) => (
                <option key={candidate.authType} value={candidate.authType}>
                  {candidate.authType}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <AuthFields
          authType={authType}
          values={values}
          onChange={(field, value) => setValues((current) => ({ ...current, [field]: value }))}
          errors={problems.fields}
          idPrefix="rotate"
        />
        <button type="submit">Rotate</button>
        {rotatedTo !== undefined ? (
          <p className="success" role="status">
            Rotated: secret version {rotatedTo}.
          </p>
        ) : null}
      </form>
    </section>
  );
}

function DeletePanel({ credential }: { credential: Credential }) {
  const client = useClient();
  const [confirming, setConfirming] = useState(false);
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);

  const remove = async () => {
    const result = await send(client, DeleteCredentialMutation, { id: credential.id });
    if (result.data) {
      navigate('/credentials');
      return;
    }
    setConfirming(false);
    setProblems(problemsOf(result.error));
  };

  return (
    <section className="panel" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete</h2>
      <ProblemNotice problems={problems} />
      {confirming ? (
        <div role="group" aria-label="Confirm deletion">
          <p>Delete {credential.name}? Its secret is destroyed; this cannot be undone.</p>
          <button type="button" className="danger" onClick={() => void remove()}>
            Yes, delete {credential.name}
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete credential
        </button>
      )}
    </section>
  );
}
