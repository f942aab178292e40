/**
 * Named points of multi-step work (anchoring, pattern β) where a test can kill the server, as a
 * kill -9 or a power cut would, to show every step resumes correctly. Production passes no
 * checkpoint: each point is a call to a function that does nothing. Tests that need a crash pass
 * `crashAt(point)` through `AppContextOverrides.checkpoint`.
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

export type Checkpoint = (point: CrashPoint) => void

export const noCheckpoint: Checkpoint = () => {}

/** A checkpoint that kills this process at `point` (tests only). */
export function crashAt(point: CrashPoint): Checkpoint {
  return (reached) => {
    if (reached === point) process.kill(process.pid, 'SIGKILL')
  }
}
