// The providers (gateway routes): list, create from a compatible credential or OAuth passthrough
// where the model provider allows it, repoint to another credential, delete.
import { type FormEvent, useState } from 'react';
import { useClient, useQuery } from 'urql';
import { displayNameOf, useCatalog, useModelProvider } from '../catalog';
import { send } from '../client';
import { Field, Link, Pager, ProblemNotice } from '../components';
import type { ModelProvider, ProvidersQuery as ProvidersResult } from '../gql/graphql';
import {
  CompatibleCredentialsQuery,
  CreateProviderMutation,
  DeleteProviderMutation,
  ProvidersQuery,
  UpdateProviderMutation,
} from '../graphql/operations';
import { NO_PROBLEMS, type Problems, problemsOf } from '../problems';

type Provider = ProvidersResult['providers']['edges'][number]['node'];
const PASSTHROUGH = 'oauth-passthrough';

export function ProvidersPage() {
  const catalog = useCatalog();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [{ data, error }, reload] = useQuery({ query: ProvidersQuery, variables: { first: 20, after: cursors[cursors.length - 1] } });
  const refresh = () => reload({ requestPolicy: 'network-only' });
  const connection = data?.providers;

  return (
    <main className="page" aria-labelledby="providers-title">
      <h1 id="providers-title">Providers</h1>
      <p className="hint">
        A provider is a gateway route; it calls its model provider with one credential (or the caller's own OAuth token).
      </p>
      <ProblemNotice problems={problemsOf(error)} />
      {connection && connection.edges.length === 0 ? <p>No providers yet.</p> : null}
      {connection && connection.edges.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">Providers</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Model provider</th>
              <th scope="col">Auth type</th>
              <th scope="col">Credential</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {connection.edges.map(({ node }) => (
              <ProviderRow key={node.id} provider={node} displayName={displayNameOf(catalog, node.modelProvider)} onChanged={refresh} />
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager label="Pages of providers" cursors={cursors} setCursors={setCursors} pageInfo={connection?.pageInfo} />
      <NewProviderForm onCreated={refresh} />
    </main>
  );
}

/** Credentials a provider of `modelProvider` may use, plus OAuth passthrough where the catalog allows it. */
function CredentialPicker({
  id,
  modelProvider,
  value,
  onChange,
  error,
}: {
  id: string;
  modelProvider: ModelProvider;
  value: string;
  onChange: (value: string) => void;
  error?: string;
}) {
  const entry = useModelProvider(modelProvider);
  const [{ data }] = useQuery({ query: CompatibleCredentialsQuery, variables: { modelProvider } });
  const credentials = data?.credentials.edges.map((edge) => edge.node) ?? [];
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>Credential</label>
      <select
        id={id}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        <option value="">Choose…</option>
        {entry?.oauthPassthrough ? <option value={PASSTHROUGH}>OAuth passthrough (the caller's own token)</option> : null}
        {credentials.map((credential) => (
          <option key={credential.id} value={credential.id}>
            {credential.name} ({credential.authType})
          </option>
        ))}
      </select>
      {data && credentials.length === 0 && !entry?.oauthPassthrough ? (
        <p className="hint">
          No credential of this model provider yet: <Link to="/credentials/new">create one</Link>.
        </p>
      ) : null}
      {error ? (
        <p className="error" id={`${id}-error`} role="alert">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function ProviderRow({ provider, displayName, onChanged }: { provider: Provider; displayName: string; onChanged: () => void }) {
  const client = useClient();
  const [repointing, setRepointing] = useState(false);
  const [target, setTarget] = useState('');
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);

  const repoint = async (event: FormEvent) => {
    event.preventDefault();
    const input = target === PASSTHROUGH ? { oauthPassthrough: true } : { credentialId: target };
    const result = await send(client, UpdateProviderMutation, { id: provider.id, input });
    setProblems(problemsOf(result.error));
    if (result.data) {
      setRepointing(false);
      onChanged();
    }
  };
  const remove = async () => {
    const result = await send(client, DeleteProviderMutation, { id: provider.id });
    setProblems(problemsOf(result.error));
    if (result.data) onChanged();
  };

  return (
    <tr id={provider.id} data-provider={provider.name}>
      <th scope="row" data-label="Name">
        {provider.name}
      </th>
      <td data-label="Model provider">{displayName}</td>
      <td data-label="Auth type">{provider.authType}</td>
      <td data-label="Credential">
        {provider.credential ? <Link to={`/credentials/${provider.credential.id}`}>{provider.credential.name}</Link> : 'OAuth passthrough'}
      </td>
      <td data-label="Actions">
        <ProblemNotice problems={{ ...problems, general: [...problems.general, ...Object.values(problems.fields)] }} />
        {repointing ? (
          <form onSubmit={(event) => void repoint(event)} className="inline-form">
            <CredentialPicker id={`repoint-${provider.id}`} modelProvider={provider.modelProvider} value={target} onChange={setTarget} />
            <button type="submit" disabled={!target}>
              Repoint
            </button>
            <button type="button" onClick={() => setRepointing(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <div className="actions">
            <button type="button" onClick={() => setRepointing(true)} aria-label={`Repoint ${provider.name}`}>
              Repoint
            </button>
            <button type="button" className="danger" onClick={() => void remove()} aria-label={`Delete ${provider.name}`}>
              Delete
            </button>
          </div>
        )}
      </td>
    </tr>
  );
}

function NewProviderForm({ onCreated }: { onCreated: () => void }) {
  const client = useClient();
  const catalog = useCatalog();
  const [name, setName] = useState('');
  const [modelProvider, setModelProvider] = useState<ModelProvider | ''>('');
  const [credential, setCredential] = useState('');
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [created, setCreated] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setCreated(undefined);
    if (!modelProvider) {
      setProblems({ ...NO_PROBLEMS, fields: { modelProvider: 'Choose a model provider.' } });
      return;
    }
    const result = await send(client, CreateProviderMutation, {
      input: {
        name,
        modelProvider,
        ...(credential === PASSTHROUGH ? { oauthPassthrough: true } : credential ? { credentialId: credential } : {}),
      },
    });
    setProblems(problemsOf(result.error));
    if (result.data) {
      setCreated(result.data.createProvider.name);
      setName('');
      setCredential('');
      onCreated();
    }
  };

  return (
    <section className="panel" aria-labelledby="new-provider-title">
      <h2 id="new-provider-title">New provider</h2>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <ProblemNotice problems={problems} />
        <Field id="provider-name" label="Name" value={name} onChange={setName} error={problems.fields.name} required />
        <div className={problems.fields.modelProvider ? 'field field-invalid' : 'field'}>
          <label htmlFor="provider-model-provider">Model provider</label>
          <select
            id="provider-model-provider"
            value={modelProvider}
            aria-invalid={problems.fields.modelProvider ? true : undefined}
            aria-describedby={problems.fields.modelProvider ? 'provider-model-provider-error' : undefined}
            onChange={(event) => {
              setModelProvider(event.target.value as ModelProvider | '');
              setCredential('');
            }}
          >
            <option value="">Choose…</option>
            {catalog.map((entry) => (
              <option key={entry.modelProvider} value={entry.modelProvider}>
                {entry.displayName}
              </option>
            ))}
          </select>
          {problems.fields.modelProvider ? (
            <p className="error" id="provider-model-provider-error" role="alert">
              {problems.fields.modelProvider}
            </p>
          ) : null}
        </div>
        {modelProvider ? (
          <CredentialPicker
            id="provider-credential"
            modelProvider={modelProvider}
            value={credential}
            onChange={setCredential}
            error={problems.fields.credentialId ?? problems.fields.oauthPassthrough}
          />
        ) : null}
        <button type="submit">Create provider</button>
        {created ? (
          <p className="success" role="status">
            Created {created}.
          </p>
        ) : null}
      </form>
    </section>
  );
}
