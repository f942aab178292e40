/**
 * Test-only fault injection (`DMTP_TEST_CRASH_AT`): the process dies at once at a named point, as
 * a kill -9 or a power cut would, so tests can show every multi-step process resumes correctly.
 * Unset in production; each point is a single comparison.
 */
export const CRASH_POINTS = [
  'manifest-stored',
  'anchor-sent',
  'keys-sent',
  'handoffs-prepare',
  'handoffs-written',
  'migration-swapped',
] as const

export type CrashPoint = (typeof CRASH_POINTS)[number]

export type Faults = { crashAt: CrashPoint | undefined }

export function crashIfArmed(faults: Faults, point: CrashPoint): void {
  if (faults.crashAt === point) process.kill(process.pid, 'SIGKILL')
}
