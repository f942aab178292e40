/**
 * A progress line on stderr for long runs (`verify`, `recover`, `migrate`): redrawn in place on a terminal,
 * one line per phase and at most every 2 s otherwise, silent with `--json` unless stderr is a
 * terminal. Never on stdout, which carries results.
 */
const LABELS = { manifests: 'manifests', rooms: 'conversations', messages: 'messages', migrating: 'migrating' } as const

/** What the SDK's long actions report (`ProgressReporter` and the migration's progress, named). */
export type Progress = { phase: keyof typeof LABELS; done: number; total: number }

export function progressBar({ enabled }: { enabled: boolean }): { report: (progress: Progress) => void; done(): void } {
  const tty = process.stderr.isTTY === true
  let lastPrint = 0
  let lastPhase = ''
  let drawn = false
  const report = ({ phase, done, total }: Progress) => {
    if (!enabled) return
    const now = Date.now()
    const finished = done >= total
    if (!tty && phase === lastPhase && !finished && now - lastPrint < 2_000) return
    lastPrint = now
    lastPhase = phase
    const width = 24
    const filled = total > 0 ? Math.round((done / total) * width) : width
    const line = `${LABELS[phase].padEnd(13)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`
    if (tty) {
      process.stderr.write(`\r${line}`)
      drawn = true
    } else process.stderr.write(`${line}\n`)
  }
  return {
    report,
    done() {
      if (drawn) process.stderr.write('\n')
      drawn = false
    },
  }
}
