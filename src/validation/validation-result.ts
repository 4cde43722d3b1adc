// What a validation reports: every step tried, in order, each with its outcome and duration.
// A failed check is data for the caller, not an error; details never carry a secret.
import type { AuthType } from '../catalog/model-provider-catalog';

export interface ValidationCheck {
  name: string;
  ok: boolean;
  detail: string | null;
  durationMs: number;
}

export interface ValidationResult {
  ok: boolean;
  authType: AuthType;
  checks: ValidationCheck[];
  message: string | null;
}

/** What one step found: ok with a detail, or a failure with the reason shown to the caller. */
export interface StepOutcome<Value = undefined> {
  ok: boolean;
  detail: string;
  value?: Value;
}

/** Runs a step, timing it; a step never throws (a thrown error is reported as its failure). */
export async function runStep<Value>(
  checks: ValidationCheck[],
  name: string,
  step: () => Promise<StepOutcome<Value>>,
  describeFailure: (error: unknown) => string,
): Promise<StepOutcome<Value>> {
  const started = performance.now();
  let outcome: StepOutcome<Value>;
  try {
    outcome = await step();
  } catch (error) {
    outcome = { ok: false, detail: describeFailure(error) };
  }
  checks.push({ name, ok: outcome.ok, detail: outcome.detail, durationMs: Math.round(performance.now() - started) });
  return outcome;
}

export function resultOf(authType: AuthType, checks: ValidationCheck[]): ValidationResult {
  const failed = checks.find((check) => !check.ok);
  return { ok: failed === undefined && checks.length > 0, authType, checks, message: failed ? failed.detail : null };
}
