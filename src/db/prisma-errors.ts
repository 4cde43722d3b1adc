// Prisma's error codes, named once. Repositories ask which constraint a failed statement hit and
// turn that into the AppError their use case means (a duplicate name, a missing credential).
import { Prisma } from '../generated/prisma/client';

/** P2002 unique, P2003 foreign key, P2025 the record to update or delete does not exist. */
const CODES = {
  P2002: 'unique',
  P2003: 'foreign-key',
  P2025: 'record-not-found',
} as const;

export type ViolatedConstraint = (typeof CODES)[keyof typeof CODES];

/** The constraint a Prisma error reports, or undefined for any other error. */
export function violatedConstraint(error: unknown): ViolatedConstraint | undefined {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return undefined;
  return Object.hasOwn(CODES, error.code) ? CODES[error.code as keyof typeof CODES] : undefined;
}
