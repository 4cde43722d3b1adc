// Request bodies checked against their schema. The first problem becomes a 400 naming the field
// (`param`, a dotted snake_case path) with zod's message, which describes what was expected and
// never repeats the value it was given.
import type { z } from 'zod';
import { RestRequestError } from './rest-error';

export function parseBody<Schema extends z.ZodType>(schema: Schema, value: unknown, prefix?: string): z.infer<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    const param = [...path, issue.keys[0]].join('.');
    throw new RestRequestError(400, `Unknown field ${param}.`, param);
  }
  const param = path.length > 0 ? path.join('.') : null;
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    throw new RestRequestError(400, `${param ?? 'The body'} is required.`, param);
  }
  throw new RestRequestError(400, param ? `${param}: ${issue.message}` : `The body is invalid: ${issue.message}`, param);
}
