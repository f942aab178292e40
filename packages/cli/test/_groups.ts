/**
 * What the `dmtp group` tests share: run a --json command that must succeed or fail, and make a
 * public room.
 */
import { randomBytes } from 'node:crypto'
import { toBase64Url } from '@dmtp/protocol'
import { expect } from 'vitest'
import { json, type User } from './_util.js'

/** Each step runs the built dmtp (a process start, about a second, more on a busy host). */
export const TIMEOUT = 240_000

/** A well-formed room id that no room has. */
export const UNKNOWN_ROOM = toBase64Url(randomBytes(16))

/** Runs a --json command that must succeed, and parses what it printed. */
export async function ok<T = any>(user: User, args: string[]): Promise<T> {
  const result = await user.run([...args, '--json'])
  expect(result, `dmtp ${args.join(' ')}`).toMatchObject({ code: 0, stderr: '' })
  return json<T>(result.stdout)
}

/** Runs a --json command that must fail with exit 1, and parses its error. */
export async function fails(user: User, args: string[]): Promise<{ code: string; message: string }> {
  const result = await user.run([...args, '--json'])
  expect(result, `dmtp ${args.join(' ')}`).toMatchObject({ code: 1, stdout: '' })
  return json(result.stderr).error
}

/** A public room made by `owner` and joined by `members`. */
export async function publicRoom(owner: User, members: User[], name = 'DMTP builders'): Promise<string> {
  const { room } = await ok(owner, ['group', 'create', '--name', name, '--type', 'public'])
  for (const member of members) expect(await ok(member, ['group', 'join', '--room', room])).toEqual({ room, status: 'member' })
  return room
}
