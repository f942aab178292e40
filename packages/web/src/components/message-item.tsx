/**
 * One message: its text (or why it cannot be shown), whether it is end-to-end encrypted, and its
 * anchoring state. The details button opens what the chain and the server say about it.
 */

import type { AnchorInfo } from '@dmtp/protocol'
import type { DecryptedMessage, MessageStatus } from '@dmtp/sdk'
import { useEffect, useState } from 'react'
import { formatDateTime, formatTime, shortAddress } from '../lib/format.js'
import { fetchAnchor, type MessageAnchor } from '../lib/use-anchoring.js'

const UNREADABLE: Record<Exclude<MessageStatus, 'ok'>, string> = {
  awaiting_migration:
    'Sent to you before you set up DMTP. It is being made end-to-end encrypted and will be readable in a moment.',
  not_for_me: 'This message is not addressed to you.',
  altered: 'This message failed verification: its content does not match its identifier. It is not shown.',
  unknown_key: 'This message names a key that could not be verified. It is not shown.',
  undecryptable: 'This message could not be decrypted with your keys.',
  invalid_author: "This message failed the sender's signature check. It is not shown.",
}

const ANCHOR_LABEL: Record<MessageAnchor['status'], string> = {
  anchored: 'Anchored',
  pending: 'Anchoring pending',
  failed: 'Failed verification',
  unknown: 'Anchoring not checked yet',
  off: 'Not anchored (no chain)',
}

type Props = {
  message: DecryptedMessage
  mine: boolean
  peer: string
  anchor: MessageAnchor
  server: string
  open: boolean
  onToggle: () => void
}

export function MessageItem({ message, mine, peer, anchor, server, open, onToggle }: Props) {
  const detailsId = `details-${message.id}`
  const notE2ee = mine
    ? `${shortAddress(peer)} had not set up DMTP when you sent this, so it is encrypted to the DMTP server's key and the server can read it. It becomes end-to-end encrypted when they set up.`
    : 'Sent to you before you set up DMTP, encrypted to the server’s key; the server could read it until it was made end-to-end encrypted.'
  return (
    <article
      className={`message ${mine ? 'mine' : 'theirs'}${message.e2ee ? '' : ' relayed'}`}
      aria-label={`${mine ? 'You' : shortAddress(message.sender)}, ${formatTime(message.timestamp)}`}
      data-status={message.status}
      data-e2ee={message.e2ee}
    >
      <p className={message.text === null ? 'text unreadable' : 'text'}>
        {message.text ?? UNREADABLE[message.status as Exclude<MessageStatus, 'ok'>]}
      </p>
      {!message.e2ee && (
        <p className="notice" role="note">
          <strong>Not yet end-to-end encrypted.</strong> {notE2ee}
        </p>
      )}
      <footer className="meta">
        <time dateTime={message.timestamp} title={formatDateTime(message.timestamp)}>
          {formatTime(message.timestamp)}
        </time>
        <span className={message.e2ee ? 'badge ok' : 'badge warn'}>
          {message.e2ee ? 'End-to-end encrypted' : 'Not yet end-to-end encrypted'}
        </span>
        <button
          type="button"
          className={`link anchor-${anchor.status}`}
          aria-expanded={open}
          aria-controls={detailsId}
          onClick={onToggle}
        >
          {ANCHOR_LABEL[anchor.status]}
        </button>
      </footer>
      {open && <MessageDetails id={detailsId} message={message} anchor={anchor} server={server} />}
    </article>
  )
}

function MessageDetails({
  id,
  message,
  anchor,
  server,
}: {
  id: string
  message: DecryptedMessage
  anchor: MessageAnchor
  server: string
}) {
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
        {message.e2ee ? 'End-to-end: only you and your peer have the keys.' : 'Relayed through the server’s key (pattern β).'}
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
