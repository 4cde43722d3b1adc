// Role checks: admin reads and writes, viewer only reads, anything else neither.
import { canRead, canWrite, requireReader, requireRuntime, requireWriter, type Principal } from '../../../src/auth/principal';
import { ForbiddenError } from '../../../src/errors/app-error';
import { thrownBy } from '../../support/failures';

function principal(roles: string[]): Principal {
  return { userId: 'alice', orgId: '6f1c2b9e-3a4d-4e5f-8a7b-1c2d3e4f5a6b', roles };
}

function forbiddenCode(check: () => void): string {
  const error = thrownBy(check);
  expect(error).toBeInstanceOf(ForbiddenError);
  return (error as ForbiddenError).code;
}

describe('principal roles', () => {
  test('admin may read and write', () => {
    expect(canRead(principal(['admin']))).toBe(true);
    expect(canWrite(principal(['admin']))).toBe(true);
  });

  test('viewer may read but not write', () => {
    expect(canRead(principal(['viewer']))).toBe(true);
    expect(canWrite(principal(['viewer']))).toBe(false);
  });

  test('unknown roles grant nothing', () => {
    expect(canRead(principal(['auditor', 'Admin']))).toBe(false);
    expect(canWrite(principal(['auditor', 'Admin']))).toBe(false);
  });

  test('requireWriter for a viewer throws FORBIDDEN', () => {
    expect(forbiddenCode(() => requireWriter(principal(['viewer'])))).toBe('FORBIDDEN');
  });

  test('requireWriter for an admin passes', () => {
    expect(() => requireWriter(principal(['viewer', 'admin']))).not.toThrow();
  });

  test('requireReader for a viewer passes', () => {
    expect(() => requireReader(principal(['viewer']))).not.toThrow();
  });

  test('requireReader without admin or viewer throws FORBIDDEN', () => {
    expect(forbiddenCode(() => requireReader(principal(['auditor'])))).toBe('FORBIDDEN');
  });

  test('requireWriter with no roles throws FORBIDDEN', () => {
    expect(forbiddenCode(() => requireWriter(principal([])))).toBe('FORBIDDEN');
  });
});

describe('the runtime role', () => {
  test('passes requireRuntime, and admin or viewer do not', () => {
    expect(() => requireRuntime(principal(['runtime']))).not.toThrow();
    expect(forbiddenCode(() => requireRuntime(principal(['admin'])))).toBe('FORBIDDEN');
    expect(forbiddenCode(() => requireRuntime(principal(['viewer'])))).toBe('FORBIDDEN');
  });

  test('is refused by the admin surfaces even beside admin', () => {
    expect(forbiddenCode(() => requireReader(principal(['runtime'])))).toBe('FORBIDDEN');
    expect(forbiddenCode(() => requireReader(principal(['admin', 'runtime'])))).toBe('FORBIDDEN');
    expect(forbiddenCode(() => requireWriter(principal(['admin', 'runtime'])))).toBe('FORBIDDEN');
  });
});
