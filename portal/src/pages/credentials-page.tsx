// The credentials of the organization: filter by model provider, page forward, open one.
import { useState } from 'react';
import { useQuery } from 'urql';
import { displayNameOf, useCatalog } from '../catalog';
import { formatTime, Link, Pager, ProblemNotice } from '../components';
import type { ModelProvider } from '../gql/graphql';
import { CredentialsQuery } from '../graphql/operations';
import { problemsOf } from '../problems';

const PAGE_SIZE = 20;

export function CredentialsPage() {
  const catalog = useCatalog();
  const [modelProvider, setModelProvider] = useState<ModelProvider | ''>('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1];
  const [{ data, fetching, error }] = useQuery({
    query: CredentialsQuery,
    variables: { first: PAGE_SIZE, after, modelProvider: modelProvider || null },
  });
  const connection = data?.credentials;

  return (
    <main className="page" aria-labelledby="credentials-title">
      <div className="page-heading">
        <h1 id="credentials-title">Credentials</h1>
        <Link to="/credentials/new">New credential</Link>
      </div>
      <div className="toolbar">
        <label htmlFor="filter-model-provider">Model provider</label>
        <select
          id="filter-model-provider"
          value={modelProvider}
          onChange={(event) => {
            setModelProvider(event.target.value as ModelProvider | '');
            setCursors([null]);
          }}
        >
          <option value="">All</option>
          {catalog.map((entry) => (
            <option key={entry.modelProvider} value={entry.modelProvider}>
              {entry.displayName}
            </option>
          ))}
        </select>
        {connection ? <span aria-live="polite">{connection.totalCount} in all</span> : null}
      </div>
      <ProblemNotice problems={problemsOf(error)} />
      {fetching && !connection ? <p>Loading…</p> : null}
      {connection && connection.edges.length === 0 ? <p>No credentials yet.</p> : null}
      {connection && connection.edges.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">Credentials</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Model provider</th>
              <th scope="col">Auth type</th>
              <th scope="col">Key</th>
              <th scope="col">Providers using it</th>
              <th scope="col">Secret version</th>
              <th scope="col">Rotated at</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {connection.edges.map(({ node }) => (
              <tr key={node.id} data-credential={node.name}>
                <th scope="row" data-label="Name">
                  <Link to={`/credentials/${node.id}`}>{node.name}</Link>
                </th>
                <td data-label="Model provider">{displayNameOf(catalog, node.modelProvider)}</td>
                <td data-label="Auth type">{node.authType}</td>
                <td data-label="Key">{node.keyLast4 ? `…${node.keyLast4}` : '—'}</td>
                <td data-label="Providers using it">{node.providers.map((provider) => provider.name).join(', ') || 'none'}</td>
                <td data-label="Secret version" data-field="secretVersion">
                  {node.secretVersion}
                </td>
                <td data-label="Rotated at">{formatTime(node.secretRotatedAt)}</td>
                <td data-label="Last used">{formatTime(node.lastUsedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager label="Pages of credentials" cursors={cursors} setCursors={setCursors} pageInfo={connection?.pageInfo} />
    </main>
  );
}
