/**
 * Split views of a room (docs/private-groups.md §9, issue 17 item 7). Every message, action and
 * key delivery names the membership-log head its author saw. A head this client's log does not
 * hold may only mean the client is behind, so the log is read again first; when the head is still
 * unknown, or the server now serves another entry at an index this client verified (or fewer
 * entries than it verified), the server is showing members different logs: the room is marked
 * forked, with the evidence, and every fork listener (`onFork`, the stream's `fork` event) is told.
 *
 * A fork and the newest log head verified per room are kept in the client's storage, so a server
 * that serves a rewritten log to the next run (a restarted CLI, a reloaded tab) is caught too.
 * @internal
 */

import type { LogDivergence, RoomLog } from './_room-log.js'
import type { DmtpClientBase } from './client.js'

/** The signed record that named a log head: a message or an action on one (by id and position), or a key delivery (by epoch). */
export type ForkRecord = { type: 'message' | 'action'; id: string; seq: number } | { type: 'key_delivery'; epoch: number }

/** A log head: the CID of an entry, and its index when known. */
export type ForkHead = { cid: string; index: number | null }

/**
 * Evidence that the server shows members different membership logs.
 * - `unknown_head`: a member's signed record names a head (`theirs`) this client's log does not
 *   hold, even read again from the server;
 * - `rewritten_entry`: the server now serves another entry (`theirs`) at an index where this client
 *   verified `ours`;
 * - `rolled_back`: the server now serves a log ending at `theirs` (null: empty), before `ours`,
 *   which this client verified.
 */
export type RoomFork = {
  room: string
  reason: 'unknown_head' | 'rewritten_entry' | 'rolled_back'
  theirs: ForkHead | null
  /** This client's head (`unknown_head`), or the entry it verified that the server no longer serves. */
  ours: ForkHead | null
  /** Who named `theirs`, and in which record; null when the server's own log showed the change. */
  namedBy: { address: string; record: ForkRecord } | null
  /** When this client found it (its clock). */
  detectedAt: string
}

type Checkpoint = { index: number; cid: string }

const forkKey = (client: DmtpClientBase, room: string) => `dmtp:room-fork:${client.server}:${room}`
const headKey = (client: DmtpClientBase, room: string) => `dmtp:log-head:${client.server}:${room}`
const checkpoints = new WeakMap<RoomLog, Checkpoint | null>()

/** The room's fork found by this client (in this run or, with a lasting storage, an earlier one); null when none. */
export async function forkOf(client: DmtpClientBase, room: string): Promise<RoomFork | null> {
  const known = client.state.forks.get(room)
  if (known !== undefined) return known
  const stored = client.storage.volatile ? null : parseJson<RoomFork>(await client.storage.get(forkKey(client, room)))
  client.state.forks.set(room, stored)
  return stored
}

/**
 * Whether `head`, named by a member's signed record, is in this client's log: when it is not, the
 * log is read again (new entries, then the whole log) and, if it still is not, the room is marked
 * forked. One full re-read per room: once forked, only new entries are fetched.
 */
export async function checkNamedHead(
  client: DmtpClientBase,
  log: RoomLog,
  named: { head: ForkHead; address: string; record: ForkRecord },
): Promise<boolean> {
  if (log.seqOf(named.head.cid) !== undefined) return true
  await log.sync()
  if (log.seqOf(named.head.cid) !== undefined) return true
  if (await forkOf(client, log.room)) return false
  const namedBy = { address: named.address, record: named.record }
  const divergence = await log.reread()
  if (divergence) await reportDivergence(client, log.room, divergence, namedBy)
  else if (log.seqOf(named.head.cid) === undefined) {
    const head = log.head
    await reportFork(client, {
      room: log.room,
      reason: 'unknown_head',
      theirs: named.head,
      ours: head ? { cid: head.cid, index: head.index } : null,
      namedBy,
    })
  }
  return log.seqOf(named.head.cid) !== undefined
}

/**
 * After a sync: reports a divergence the log found (an entry linked to another than the one
 * verified before it), and holds the log to the newest head this client verified in an earlier
 * run (from a lasting storage), then remembers its head.
 */
export async function checkpointLog(client: DmtpClientBase, log: RoomLog): Promise<void> {
  if (log.diverged) return reportDivergence(client, log.room, log.diverged, null)
  if (client.storage.volatile) return
  let checkpoint = checkpoints.get(log)
  if (checkpoint === undefined) {
    checkpoint = parseJson<Checkpoint>(await client.storage.get(headKey(client, log.room)))
    checkpoints.set(log, checkpoint)
  }
  const head = log.head
  if (checkpoint) {
    const served = log.cidAtIndex(checkpoint.index)
    if (served !== undefined && served !== checkpoint.cid) {
      const divergence = { reason: 'rewritten_entry', index: checkpoint.index, verified: checkpoint.cid, served } as const
      return reportDivergence(client, log.room, divergence, null)
    }
    if (served === undefined) {
      const divergence = {
        reason: 'rolled_back',
        index: checkpoint.index,
        verified: checkpoint.cid,
        served: head ? { index: head.index, cid: head.cid } : null,
      } as const
      return reportDivergence(client, log.room, divergence, null)
    }
  }
  if (!head || head.index <= (checkpoint?.index ?? 0)) return
  const next = { index: head.index, cid: head.cid }
  checkpoints.set(log, next)
  await client.storage.set(headKey(client, log.room), JSON.stringify(next))
}

function reportDivergence(
  client: DmtpClientBase,
  room: string,
  divergence: LogDivergence,
  namedBy: RoomFork['namedBy'],
): Promise<void> {
  const ours = { cid: divergence.verified, index: divergence.index }
  const theirs =
    divergence.reason === 'rewritten_entry'
      ? { cid: divergence.served, index: divergence.index }
      : divergence.served && { cid: divergence.served.cid, index: divergence.served.index }
  return reportFork(client, { room, reason: divergence.reason, theirs, ours, namedBy })
}

/** Marks the room forked (the first evidence found stays) and tells every fork listener. */
async function reportFork(client: DmtpClientBase, found: Omit<RoomFork, 'detectedAt'>): Promise<void> {
  if (await forkOf(client, found.room)) return
  const fork: RoomFork = { ...found, detectedAt: new Date().toISOString() }
  client.state.forks.set(fork.room, fork)
  if (!client.storage.volatile) await client.storage.set(forkKey(client, fork.room), JSON.stringify(fork))
  for (const listener of [...client.state.forkListeners]) {
    try {
      listener(fork)
    } catch (error) {
      // A broken listener must not hide the fork from the others; the error still surfaces.
      queueMicrotask(() => {
        throw error
      })
    }
  }
}

function parseJson<T>(text: string | null): T | null {
  if (text === null) return null
  try {
    const value: unknown = JSON.parse(text)
    return value && typeof value === 'object' ? (value as T) : null
  } catch {
    // A damaged entry is no memory; the next check writes it again.
    return null
  }
}
