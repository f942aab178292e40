/**
 * Anchoring state of a conversation's messages, checked by this browser against the chain
 * (`client.verify({ room })`): every message the server serves is compared with the manifests
 * anchored on chain. The server's own account of one message (`GET /v1/anchors/:cid`, with the
 * block number) is fetched when the reader opens its details.
 */

import { type AnchorInfo, anchorResponseSchema } from '@dmtp/protocol'
import { useDMTPClient } from '@dmtp/react'
import { NotAnchoredError, type VerifyDetail } from '@dmtp/sdk'
import { useCallback, useEffect, useRef, useState } from 'react'

export type Anchoring =
  | { state: 'idle' }
  | { state: 'checking' }
  | { state: 'off' }
  | { state: 'error'; error: unknown }
  | { state: 'checked'; at: string; covered: ReadonlySet<string>; details: Map<string, VerifyDetail>; ok: boolean }

export type MessageAnchor = { status: 'anchored' | 'pending' | 'failed' | 'unknown' | 'off'; reason?: string | undefined }

/** Automatic checks stop at this size; larger conversations are checked on request. */
const AUTO_LIMIT = 2_000

/**
 * @param messages - the loaded messages: a check covers the CIDs loaded when it starts (a message
 *   that arrives or is replaced later, e.g. made end-to-end, is "not checked yet").
 */
export function useAnchoring(room: string | undefined, messages: readonly { cid: string; seq: number }[]) {
  const newestSeq = messages.at(-1)?.seq ?? 0
  const loaded = messages.length
  const loadedRef = useRef(messages)
  loadedRef.current = messages
  const client = useDMTPClient()
  const [anchoring, setAnchoring] = useState<Anchoring>({ state: 'idle' })
  const running = useRef(false)

  const check = useCallback(async () => {
    if (!room || running.current) return
    running.current = true
    const covered = new Set(loadedRef.current.map((message) => message.cid))
    setAnchoring({ state: 'checking' })
    try {
      const report = await client.verify({ room })
      setAnchoring({
        state: 'checked',
        at: new Date().toISOString(),
        covered,
        details: new Map(report.details.map((detail) => [detail.cid, detail])),
        ok: report.ok,
      })
    } catch (error) {
      setAnchoring(error instanceof NotAnchoredError ? { state: 'off' } : { state: 'error', error })
    } finally {
      running.current = false
    }
  }, [client, room])

  // A server without a chain has nothing to check against: say so at once.
  useEffect(() => {
    let live = true
    fetch(`${client.server}/v1/info`)
      .then((response) => response.json())
      .then((info: { chain?: unknown }) => {
        if (live && info.chain === null) setAnchoring({ state: 'off' })
      })
      .catch(() => {})
    return () => {
      live = false
    }
  }, [client])

  const latest = useRef({ check, newestSeq })
  latest.current = { check, newestSeq }
  const hasMessages = loaded > 0
  useEffect(() => {
    if (!room || !hasMessages) return
    // After the first paint: the reader sees messages first, their anchoring a moment later.
    const timer = setTimeout(() => {
      if (latest.current.newestSeq <= AUTO_LIMIT) void latest.current.check()
    }, 300)
    return () => clearTimeout(timer)
  }, [room, hasMessages])

  return { anchoring, check }
}

export function anchorOf(anchoring: Anchoring, message: { cid: string }): MessageAnchor {
  if (anchoring.state === 'off') return { status: 'off' }
  if (anchoring.state !== 'checked') return { status: 'unknown' }
  const detail = anchoring.details.get(message.cid)
  if (detail)
    return detail.status === 'pending'
      ? { status: 'pending', reason: detail.reason }
      : { status: 'failed', reason: detail.reason }
  if (!anchoring.covered.has(message.cid)) return { status: 'unknown' }
  return { status: 'anchored' }
}

/** The server's record of where one message stands (public endpoint). */
export async function fetchAnchor(server: string, cid: string): Promise<AnchorInfo> {
  const response = await fetch(`${server}/v1/anchors/${cid}`)
  if (!response.ok) throw new Error(`The server has no anchoring record for this message (HTTP ${response.status}).`)
  return anchorResponseSchema.parse(await response.json())
}
