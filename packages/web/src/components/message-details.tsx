/** What the chain and the server say about one message: encryption, anchoring, CID, position. */
import type { AnchorInfo } from '@dmtp/protocol'
import type { DecryptedMessage } from '@dmtp/sdk'
import { useEffect, useState } from 'react'
import { formatDateTime } from '../lib/format.js'
import { fetchAnchor, type MessageAnchor } from '../lib/use-anchoring.js'

type Props = { id: string; message: DecryptedMessage; anchor: MessageAnchor; server: string }

export function MessageDetails({ id, message, anchor, server }: Props) {
  const [record, setRecord] = useState<AnchorInfo | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    fetchAnchor(server, message.cid)
      .then((value) => live && setRecord(value))
      .catch((e: Error) => live && setError(e.message))
    return () => {
      live = false
    }
  }, [server, message.cid])
  const block = record?.manifest?.blockNumber
  return (
    <dl id={id} className="details">
      <dt>Encryption</dt>
      <dd>
        {message.receiver === null
          ? message.e2ee
            ? "End-to-end: encrypted under the group's key, which only its members hold. Signed by its sender."
            : 'None: sent in plaintext, the server can read it. The message is signed by its sender.'
          : message.e2ee
            ? 'End-to-end: only you and your peer have the keys.'
            : 'Relayed through the server’s key (pattern β).'}
      </dd>
      <dt>Checked by this browser</dt>
      <dd>
        {anchor.status === 'anchored' && 'Matches the history anchored on chain.'}
        {anchor.status === 'pending' && `Not in an anchored manifest yet${anchor.reason ? ` (${anchor.reason})` : ''}.`}
        {anchor.status === 'failed' && `Failed verification: ${anchor.reason ?? 'unknown reason'}.`}
        {anchor.status === 'unknown' && 'Not checked yet: use “Check anchoring” above.'}
        {anchor.status === 'off' && 'This server does not anchor on a chain.'}
      </dd>
      <dt>Server’s record</dt>
      <dd>
        {error ??
          (!record ? (
            'Loading…'
          ) : record.status === 'anchored' ? (
            <>
              Anchored at block {block ?? '?'}
              {record.manifest?.anchoredAt ? `, ${formatDateTime(record.manifest.anchoredAt)}` : ''}
              {record.manifest?.txHash && (
                <>
                  , transaction <code>{record.manifest.txHash}</code>
                </>
              )}
              .
            </>
          ) : record.status === 'stored' ? (
            `In manifest #${record.manifest?.seq}, not on chain yet.`
          ) : (
            'Pending: not in a manifest yet.'
          ))}
      </dd>
      <dt>Message CID</dt>
      <dd>
        <code>{message.cid}</code>
      </dd>
      <dt>Position</dt>
      <dd>
        #{message.seq}, received by the server {formatDateTime(message.receivedAt)}
      </dd>
    </dl>
  )
}
