/**
 * Sync cost as history grows (issue 3): what one sync of new messages costs in time, manifest
 * bytes and gas when 1k … 1M messages are already anchored, next to the seeds' flat manifest that
 * re-lists every CID at every sync.
 *
 * A real server runs in this process on embedded defaults (SQLite, disk block store, anvil); only
 * its context is used (anchoring needs no listener) and its timer is never started, so it syncs
 * only when told to. The history goes straight into the database (`_history.ts`).
 *
 * Before each measured sync, the service itself anchors the backlog with `syncNow()` (manifests
 * of at most `maxCidsPerManifest` CIDs, hash-linked, each anchored with `storeCID`), with one
 * shortcut: block writes are switched off meanwhile. Writing a million envelope blocks to disk
 * takes minutes and says nothing about the next sync, which reads only the database. So the
 * history's envelopes and manifests are not in the block store; everything else is as a server
 * that synced all along would have it.
 *
 * Measured: `syncNow()` end to end on the new messages, with nothing else running: claiming the
 * new CIDs, building the manifest, writing the new blocks and the manifest to disk, and `storeCID`
 * on anvil until its receipt. The WAL is checkpointed first, as the server's checkpointer would
 * have done while the history was quiet.
 */
import type { AppContext } from '@dmtp/server'
import Database from 'better-sqlite3'
import { createPublicClient, http } from 'viem'
import { History } from '../_history.js'
import { createInProcessServer } from '../_in-process-server.js'
import { round } from '../_stats.js'

const ROOMS = 300

export type SyncStep = {
  /** Messages already anchored before this sync. */
  history: number
  /** New messages this sync lists. */
  added: number
  /** Wall time of `syncNow()`. */
  ms: number
  /** Of which: claiming the CIDs and building the manifest (twice: to claim, then to write). */
  claimMs: number
  /** …writing the new envelope blocks and the manifest to the block store. */
  blocksMs: number
  /** …`storeCID` until its receipt, with the checks before and after. */
  anchorMs: number
  /** The manifest block. */
  bytes: number
  /** Gas used by this sync's `storeCID`. */
  gas: number
  /** The seeds' flat manifest for the same sync: every CID stored so far, `{ROOM_ID: [CID, …]}`. */
  flatBytes: number
  /** Building that flat manifest from the CIDs table alone. */
  flatMs: number
}

export async function syncCost({ histories, added, largeAdded }: { histories: number[]; added: number; largeAdded: number }) {
  const started = performance.now()
  const { server, dispose } = await createInProcessServer('dmtp-sync-')
  let opened: History | undefined
  try {
    const { ctx } = server
    const history = History.open(ctx, ROOMS)
    opened = history
    const blocks = instrumentBlockStore(ctx)
    const gasUsed = gasReader(ctx)
    const steps: SyncStep[] = []
    const seeding: { history: number; insertSeconds: number; anchorSeconds: number }[] = []
    let anchored = 0
    const measure = async (count: number) => {
      history.append(count)
      checkpoint(ctx.config.db)
      blocks.ms = 0
      const t0 = performance.now()
      const result = await ctx.anchoring.syncNow()
      const ms = performance.now() - t0
      if (result?.count !== count || !result.anchor) throw new Error(`the sync listed ${result?.count} of ${count} new CIDs`)
      const flatStarted = performance.now()
      const flatBytes = await flatManifestBytes(ctx)
      steps.push({
        history: anchored,
        added: count,
        ms: round(ms),
        claimMs: round(result.buildMs - blocks.ms),
        blocksMs: round(blocks.ms),
        anchorMs: round(result.anchor.ms),
        bytes: result.bytes,
        gas: await gasUsed(result.anchor.txHash),
        flatBytes,
        flatMs: round(performance.now() - flatStarted),
      })
      anchored += count
    }
    for (const size of histories) {
      const t0 = performance.now()
      history.append(size - anchored)
      const t1 = performance.now()
      blocks.writing = false
      let backlog = await ctx.anchoring.syncNow()
      while (backlog) backlog = await ctx.anchoring.syncNow()
      blocks.writing = true
      seeding.push({ history: size, insertSeconds: seconds(t1 - t0), anchorSeconds: seconds(performance.now() - t1) })
      anchored = size
      await measure(added)
    }
    await measure(largeAdded)
    const gas = new Set(steps.map((step) => step.gas))
    return { steps, gasConstant: gas.size === 1, seeding, seconds: seconds(performance.now() - started) }
  } finally {
    opened?.close()
    await dispose()
  }
}

const seconds = (ms: number) => round(ms / 1000, 1)

/**
 * The seeds' sync file over the whole history, `{ROOM_ID: [CID, …]}` from the CIDs table, in bytes.
 * Built as the string the seeds would upload (tens of MB at a million messages).
 */
async function flatManifestBytes(ctx: AppContext): Promise<number> {
  const rows = await ctx.database.db
    .selectFrom('cids')
    .select(['room_id', 'cid'])
    .where('kind', '=', 'message')
    .orderBy('seq')
    .execute()
  const rooms: Record<string, string[]> = {}
  for (const { room_id, cid } of rows) {
    const list = rooms[room_id as string] ?? []
    rooms[room_id as string] = list
    list.push(cid)
  }
  return Buffer.byteLength(JSON.stringify(rooms))
}

/**
 * Times the block store's writes, and switches them off while the history is anchored. The
 * anchoring service holds this same instance, so its writes go through here.
 */
function instrumentBlockStore(ctx: AppContext) {
  const store = ctx.blockStore
  const put = store.put.bind(store)
  const state = { writing: true, ms: 0 }
  store.put = async (blocks) => {
    if (!state.writing) return
    const t0 = performance.now()
    try {
      await put(blocks)
    } finally {
      state.ms += performance.now() - t0
    }
  }
  return state
}

/** Gas used by a transaction, from its receipt on the server's chain. */
function gasReader(ctx: AppContext) {
  if (!ctx.chain) throw new Error('the sync benchmark needs a chain')
  const client = createPublicClient({ transport: http(ctx.chain.info.rpcUrl) })
  return async (hash: `0x${string}`) => Number((await client.getTransactionReceipt({ hash })).gasUsed)
}

/** Folds the WAL into the database file, with a connection of its own as the checkpointer does. */
function checkpoint(db: AppContext['config']['db']): void {
  if (db.provider !== 'sqlite') return
  const sqlite = new Database(db.path)
  try {
    sqlite.pragma('wal_checkpoint(TRUNCATE)')
  } finally {
    sqlite.close()
  }
}

/** The steps as a table: one row per measured sync. */
export function syncTable(steps: SyncStep[]): string {
  const header = ['history', 'new', 'sync ms', 'claim', 'blocks', 'anchor', 'manifest B', 'gas', 'flat B (seeds)', 'flat ms']
  const rows = steps.map((step) => [
    step.history.toLocaleString('en-US'),
    `+${step.added.toLocaleString('en-US')}`,
    step.ms.toFixed(1),
    step.claimMs.toFixed(1),
    step.blocksMs.toFixed(1),
    step.anchorMs.toFixed(1),
    step.bytes.toLocaleString('en-US'),
    step.gas.toLocaleString('en-US'),
    step.flatBytes.toLocaleString('en-US'),
    step.flatMs.toFixed(1),
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] as string).length)))
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padStart(widths[i] as number)).join('  ')).join('\n')
}
