// Durations written in the environment (JWT_MAX_TTL): `24h`, `90m`, `3600s`, `2d`, or a plain number
// of seconds.

const SECONDS_PER_UNIT: Record<string, number> = { s: 1, m: 60, h: 60 * 60, d: 24 * 60 * 60 };

/** Whole seconds, or undefined when the text is not a positive duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = /^(\d+)\s*([smhd]?)$/i.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * SECONDS_PER_UNIT[(match[2] || 's').toLowerCase()];
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : undefined;
}
