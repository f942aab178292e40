/**
 * A private group's end-to-end encryption, for its members: the key epoch this browser holds, a
 * new key on demand, and turning E2EE on or off for those whose role allows it (`e2ee_on`,
 * `e2ee_off`). Deliveries this browser refused are listed: a key it was not given is a message it
 * cannot read.
 */
import type { UseRoomEncryptionReturnType, UseRoomReturnType } from '@dmtp/react'
import { friendlyError } from '../lib/errors.js'
import { useAction } from '../lib/use-action.js'

type Props = { info: UseRoomReturnType; encryption: UseRoomEncryptionReturnType }

export function EncryptionSettings({ info, encryption }: Props) {
  const { busy, error, run } = useAction()
  const state = encryption.encryption
  if (!state) return null
  return (
    <section aria-label="End-to-end encryption">
      <h3>End-to-end encryption</h3>
      <p className="hint" data-testid="key-state">
        {state.e2ee
          ? `On, key epoch ${state.epoch}${encryption.epochs.length > 0 ? `; this browser holds the keys of ${encryption.epochs.length} epoch${encryption.epochs.length === 1 ? '' : 's'}` : ''}.`
          : 'Off: the server can read new messages.'}
      </p>
      {encryption.problems.length > 0 && (
        <p className="warning-text">Keys refused by this browser: {encryption.problems.join('; ')}</p>
      )}
      <p>
        {state.e2ee && (
          <button type="button" className="small" disabled={busy} onClick={() => run(() => encryption.rotateKey())}>
            Make a new key
          </button>
        )}{' '}
        {state.e2ee
          ? info.can('e2ee_off') && (
              <button
                type="button"
                className="small danger"
                disabled={busy}
                onClick={() => run(() => encryption.setEncryption(false))}
              >
                Turn encryption off
              </button>
            )
          : info.can('e2ee_on') && (
              <button type="button" className="small" disabled={busy} onClick={() => run(() => encryption.setEncryption(true))}>
                Turn encryption on
              </button>
            )}
      </p>
      {error ? <p className="error-text">{friendlyError(error).title}</p> : null}
    </section>
  )
}
