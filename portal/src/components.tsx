// Small building blocks: a labelled field with its error, a link that routes in the page, notices,
// the pager of a list.
import type { ReactNode } from 'react';
import { navigate } from './navigation';
import type { Problems } from './problems';

export function Link({ to, children }: { to: string; children: ReactNode }) {
  return (
    <a
      href={`/portal${to}`}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

interface FieldProps {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error?: string;
  description?: string | null;
  required?: boolean;
  secret?: boolean;
  multiline?: boolean;
  placeholder?: string;
}

/** An input with its label, description and error; a secret one is write-only (never pre-filled, no autocomplete). */
export function Field({ id, label, value, onChange, error, description, required, secret, multiline, placeholder }: FieldProps) {
  const describedBy = [description ? `${id}-description` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: id,
    value,
    required,
    placeholder,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': describedBy,
    autoComplete: secret ? 'off' : undefined,
    spellCheck: secret ? false : undefined,
    'data-secret': secret ? 'true' : undefined,
  };
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {multiline ? (
        <textarea
          {...common}
          rows={secret ? 6 : 3}
          className={secret ? 'secret' : undefined}
          onChange={(event) => onChange(event.target.value)}
        />
      ) : (
        <input {...common} type={secret ? 'password' : 'text'} onChange={(event) => onChange(event.target.value)} />
      )}
      {description ? (
        <p className="hint" id={`${id}-description`}>
          {description}
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

/** Errors that belong to no field, and the providers that keep a credential in use. */
export function ProblemNotice({ problems }: { problems: Problems }) {
  const unplaced = problems.general;
  if (unplaced.length === 0 && problems.providersInUse.length === 0) return null;
  return (
    <div className="notice notice-error" role="alert">
      {unplaced.map((message) => (
        <p key={message}>{message}</p>
      ))}
      {problems.providersInUse.length > 0 ? (
        <>
          <p>
            This credential backs {problems.providersInUse.length === 1 ? 'a provider' : `${problems.providersInUse.length} providers`}, so
            it cannot be deleted. Repoint each provider to another credential, or delete it, on the Providers page, then delete this
            credential:
          </p>
          <ul className="providers-in-use">
            {problems.providersInUse.map((provider) => (
              <li key={provider.id}>
                <Link to={`/providers#${provider.id}`}>{provider.name}</Link>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

export function formatTime(value: string | null | undefined): string {
  if (!value) return 'never';
  return new Date(value)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/**
 * Previous and next page of a Relay list: `cursors` holds the `after` of every page seen so far
 * (null for the first), so going back needs no backwards paging from the server.
 */
export function Pager({
  label,
  cursors,
  setCursors,
  pageInfo,
}: {
  label: string;
  cursors: (string | null)[];
  setCursors: (cursors: (string | null)[]) => void;
  pageInfo: { hasNextPage: boolean; endCursor?: string | null } | undefined;
}) {
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
        Previous page
      </button>
      <button type="button" disabled={!pageInfo?.hasNextPage} onClick={() => setCursors([...cursors, pageInfo?.endCursor ?? null])}>
        Next page
      </button>
    </nav>
  );
}
