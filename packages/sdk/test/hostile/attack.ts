/**
 * The hostile-server suite (issue 16, docs/hostile-server.md): every attack a hostile operator can
 * try is one `attack()` — a vitest test named `attack: <name> [<where it is caught>]` that tries it
 * against a real server and asserts what the user sees. The reporter beside this file counts them
 * and prints `hostile_caught_ratio`; `table.test.ts` keeps the table in docs/ and these names the
 * same list.
 */
import { test } from 'vitest'

/** Where the client catches an attack: as it happens, or when the user runs `verify`. */
export type Caught = 'at once' | 'on verify'

export const ATTACK_PREFIX = 'attack: '

/**
 * @example
 * attack('a forged "outgoing" message', 'at once', async () => {
 *   // write the forgery into the database, read history, expect it flagged
 * })
 */
export function attack(name: string, caught: Caught, fn: () => Promise<void>, timeout?: number): void {
  test(`${ATTACK_PREFIX}${name} [${caught}]`, fn, timeout)
}
