// Validate a stored credential the way the gateway would use it: an AWS role through STS, a Vertex
// AI identity through a token and a countTokens call. Each check is listed with its outcome.
import { type FormEvent, useState } from 'react';
import { useClient } from 'urql';
import { send } from '../client';
import { Field, ProblemNotice } from '../components';
import type { CredentialQuery, ValidateAwsRoleMutation } from '../gql/graphql';
import { ValidateAwsRoleMutation as ValidateAwsRole, ValidateGoogleVertexMutation as ValidateGoogleVertex } from '../graphql/operations';
import { NO_PROBLEMS, type Problems, problemsOf } from '../problems';

type Result = ValidateAwsRoleMutation['validateAwsRole'];
type Credential = NonNullable<CredentialQuery['credential']>;

export function ValidationPanel({ credential }: { credential: Credential }) {
  const client = useClient();
  const aws = credential.authType === 'AWS_ROLE';
  const vertex = credential.modelProvider === 'VERTEX';
  const [region, setRegion] = useState(typeof credential.settings.region === 'string' ? credential.settings.region : '');
  const [projectId, setProjectId] = useState('');
  const [location, setLocation] = useState(typeof credential.settings.location === 'string' ? credential.settings.location : '');
  const [result, setResult] = useState<Result>();
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [running, setRunning] = useState(false);
  if (!aws && !vertex) return null;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setRunning(true);
    setResult(undefined);
    const answer = aws
      ? await send(client, ValidateAwsRole, { credentialId: credential.id, region: region.trim() || null }).then(({ data, error }) => ({
          result: data?.validateAwsRole,
          error,
        }))
      : await send(client, ValidateGoogleVertex, {
          credentialId: credential.id,
          projectId: projectId.trim() || null,
          location: location.trim() || null,
        }).then(({ data, error }) => ({ result: data?.validateGoogleVertex, error }));
    setRunning(false);
    setResult(answer.result);
    setProblems(problemsOf(answer.error));
  };

  return (
    <section className="panel" aria-labelledby="validate-title">
      <h2 id="validate-title">Validate</h2>
      <form onSubmit={(event) => void submit(event)} noValidate aria-busy={running}>
        <ProblemNotice problems={problems} />
        {aws ? (
          <Field
            id="validate-region"
            label="AWS region"
            value={region}
            onChange={setRegion}
            error={problems.fields.region}
            placeholder="us-east-1"
          />
        ) : (
          <>
            <Field
              id="validate-projectId"
              label="Project id"
              value={projectId}
              onChange={setProjectId}
              error={problems.fields.projectId}
              description="Empty: the credential's project_id setting, or the service account's own project."
            />
            <Field
              id="validate-location"
              label="Location"
              value={location}
              onChange={setLocation}
              error={problems.fields.location}
              placeholder="us-central1"
            />
          </>
        )}
        <button type="submit" disabled={running}>
          {aws ? 'Validate the AWS role' : 'Validate with Vertex AI'}
        </button>
      </form>
      {result ? (
        <div className={result.ok ? 'notice notice-ok' : 'notice notice-error'} role="status" aria-label="Validation result">
          <p>
            <strong>{result.ok ? 'Valid' : 'Not valid'}</strong>
            {result.message ? `: ${result.message}` : ''}
          </p>
          <ol className="checks">
            {result.checks.map((check) => (
              <li key={check.name} data-check={check.name} data-ok={String(check.ok)}>
                <span aria-hidden="true">{check.ok ? '✓' : '✗'}</span> {check.name}: {check.ok ? 'passed' : 'failed'} ({check.durationMs}{' '}
                ms)
                {check.detail ? ` — ${check.detail}` : ''}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}
