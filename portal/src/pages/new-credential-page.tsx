// Create a credential: the model provider picks the auth types, the auth type picks the fields
// (both from the catalog). Secret fields are emptied after every request, whatever its outcome.
import { type FormEvent, useState } from 'react';
import { useClient } from 'urql';
import { AuthFields, authInputOf, useCatalog, withoutSecrets } from '../catalog';
import { send } from '../client';
import { Field, ProblemNotice } from '../components';
import type { AuthType, ModelProvider } from '../gql/graphql';
import { CreateCredentialMutation } from '../graphql/operations';
import { navigate } from '../navigation';
import { NO_PROBLEMS, type Problems, problemsOf } from '../problems';
import { SettingsFields, settingsOf } from './settings-fields';

export function NewCredentialPage() {
  const client = useClient();
  const catalog = useCatalog();
  const [modelProvider, setModelProvider] = useState<ModelProvider | ''>('');
  const entry = catalog.find((candidate) => candidate.modelProvider === modelProvider);
  const [authTypeName, setAuthTypeName] = useState<AuthType | ''>('');
  const authType = entry?.authTypes.find((candidate) => candidate.authType === authTypeName) ?? entry?.authTypes[0];
  const [name, setName] = useState('');
  const [baseUrl, setBaseUrl] = useState('');
  const [authValues, setAuthValues] = useState<Record<string, string>>({});
  const [settings, setSettings] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!entry || !authType) {
      setProblems({ ...NO_PROBLEMS, fields: { modelProvider: 'Choose a model provider.' } });
      return;
    }
    setBusy(true);
    const result = await send(client, CreateCredentialMutation, {
      input: {
        name,
        modelProvider: entry.modelProvider,
        auth: authInputOf(authType, authValues),
        ...(baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
        settings: settingsOf(settings),
      },
    });
    setAuthValues((values) => withoutSecrets(authType, values));
    setBusy(false);
    if (result.data) {
      navigate(`/credentials/${result.data.createCredential.id}`);
      return;
    }
    setProblems(problemsOf(result.error));
  };

  return (
    <main className="page narrow" aria-labelledby="new-credential-title">
      <h1 id="new-credential-title">New credential</h1>
      <form onSubmit={(event) => void submit(event)} noValidate aria-busy={busy}>
        <ProblemNotice problems={problems} />
        <Field id="credential-name" label="Name" value={name} onChange={setName} error={problems.fields.name} required />
        <div className={problems.fields.modelProvider ? 'field field-invalid' : 'field'}>
          <label htmlFor="credential-model-provider">Model provider</label>
          <select
            id="credential-model-provider"
            value={modelProvider}
            required
            aria-invalid={problems.fields.modelProvider ? true : undefined}
            aria-describedby={problems.fields.modelProvider ? 'credential-model-provider-error' : undefined}
            onChange={(event) => {
              setModelProvider(event.target.value as ModelProvider | '');
              setAuthTypeName('');
              setAuthValues({});
              setSettings({});
            }}
          >
            <option value="">Choose…</option>
            {catalog.map((candidate) => (
              <option key={candidate.modelProvider} value={candidate.modelProvider}>
                {candidate.displayName}
              </option>
            ))}
          </select>
          {problems.fields.modelProvider ? (
            <p className="error" id="credential-model-provider-error" role="alert">
              {problems.fields.modelProvider}
            </p>
          ) : null}
        </div>
        {entry && authType ? (
          <>
            <div className="field">
              <label htmlFor="credential-auth-type">Auth type</label>
              <select
                id="credential-auth-type"
                value={authType.authType}
                onChange={(event) => {
                  setAuthTypeName(event.target.value as AuthType);
                  setAuthValues({});
                }}
              >
                {entry.authTypes.map((candidate, index) => (
                  <option key={candidate.authType} value={candidate.authType}>
                    {candidate.authType}
                    {index === 0 ? ' (default)' : ''}
                  </option>
                ))}
              </select>
            </div>
            <fieldset>
              <legend>Secret</legend>
              <AuthFields
                authType={authType}
                values={authValues}
                onChange={(field, value) => setAuthValues((values) => ({ ...values, [field]: value }))}
                errors={problems.fields}
                idPrefix="credential"
              />
            </fieldset>
            <Field
              id="credential-baseUrl"
              label="Base URL"
              value={baseUrl}
              onChange={setBaseUrl}
              error={problems.fields.baseUrl}
              required={entry.baseUrlRequired}
              placeholder={entry.defaultBaseUrl ?? undefined}
              description={
                entry.baseUrlRequired ? 'Required for this model provider.' : `Leave empty for ${entry.defaultBaseUrl ?? 'the default'}.`
              }
            />
            <SettingsFields
              entry={entry}
              values={settings}
              onChange={(key, value) => setSettings((values) => ({ ...values, [key]: value }))}
              errors={problems.fields}
              idPrefix="credential"
            />
          </>
        ) : null}
        <button type="submit" disabled={busy}>
          Create credential
        </button>
      </form>
    </main>
  );
}
