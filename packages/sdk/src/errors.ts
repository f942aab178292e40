/**
 * SDK errors. Server failures arrive as `ApiError` with the server's stable `code`; the classes
 * here are what the SDK itself detects, named so an app can tell a person what to do.
 */
import { BaseError } from '@dmtp/protocol'

export { ApiError, type ApiErrorType, BaseError, type ErrorCode } from '@dmtp/protocol'

export type RecipientNotRegisteredErrorType = RecipientNotRegisteredError & { name: 'RecipientNotRegisteredError' }

export class RecipientNotRegisteredError extends BaseError {
  override name = 'RecipientNotRegisteredError'
  readonly address: string
  constructor({ address }: { address: string }) {
    super(`${address} has not set up DMTP yet, so an end-to-end encrypted message cannot reach it.`, {
      metaMessages: [
        'Ask them to open DMTP once with their wallet, or send through the server (not end-to-end encrypted until they set up).',
      ],
    })
    this.address = address
  }
}

export type KeysNotSetUpErrorType = KeysNotSetUpError & { name: 'KeysNotSetUpError' }

export class KeysNotSetUpError extends BaseError {
  override name = 'KeysNotSetUpError'
  constructor({ address }: { address: string }) {
    super(`${address} has no DMTP keys on this server yet; set them up first.`)
  }
}

export type KeyBundleRejectedErrorType = KeyBundleRejectedError & { name: 'KeyBundleRejectedError' }

/** A key bundle from the server failed the client's own checks: never encrypt to it. */
export class KeyBundleRejectedError extends BaseError {
  override name = 'KeyBundleRejectedError'
  constructor({ address, reason, cause }: { address: string; reason: string; cause?: unknown }) {
    super(`The key bundle served for ${address} failed verification: ${reason}.`, {
      cause,
      metaMessages: ['The server may be faulty or malicious; nothing was encrypted to these keys.'],
    })
  }
}

export type WalletRequiredErrorType = WalletRequiredError & { name: 'WalletRequiredError' }

/** The client was created without a wallet, and the action needs one (to sign or decrypt). */
export class WalletRequiredError extends BaseError {
  override name = 'WalletRequiredError'
  constructor() {
    super('This action needs a wallet; create the client with one.')
  }
}

/**
 * Why an acknowledgement was refused: it carries no receipt, its receipt is for another message,
 * the receipt does not verify, or the key that signed it is not the server's verified key.
 */
export type ReceiptRejectedCode = 'receipt_missing' | 'receipt_mismatch' | 'receipt_invalid' | 'receipt_key_rejected'

export type ReceiptRejectedErrorType = ReceiptRejectedError & { name: 'ReceiptRejectedError' }

/** The server's ack of a send has no receipt the client can hold it to: the send is not reported as stored. */
export class ReceiptRejectedError extends BaseError {
  override name = 'ReceiptRejectedError'
  readonly code: ReceiptRejectedCode
  constructor({ code, reason, cause }: { code: ReceiptRejectedCode; reason: string; cause?: unknown }) {
    super(`The server's acknowledgement was refused: ${reason}.`, {
      cause,
      metaMessages: [
        'The server may be faulty or malicious: the message may not be stored, and is not shown as sent.',
        'Sending again with the same clientMessageId is safe (it never stores a second copy).',
      ],
    })
    this.code = code
  }
}

export type ServerKeyRejectedErrorType = ServerKeyRejectedError & { name: 'ServerKeyRejectedError' }

/** The server's key failed the client's checks: nothing is relayed through it. */
export class ServerKeyRejectedError extends BaseError {
  override name = 'ServerKeyRejectedError'
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super(`The server's key was refused: ${reason}.`, {
      cause,
      metaMessages: ['Messages to wallets that have not set up DMTP go through this key; none was sent.'],
    })
  }
}

export type KeyWithheldErrorType = KeyWithheldError & { name: 'KeyWithheldError' }

/**
 * The server says a wallet has no keys, but the registry on chain (or this client, earlier) has a
 * key bundle for it: code `key_withheld`. Relaying through the server (pattern β) would hand it a
 * message it should never read, so nothing was sent.
 */
export class KeyWithheldError extends BaseError {
  override name = 'KeyWithheldError'
  readonly code = 'key_withheld'
  readonly address: string
  /** The key bundle the server hid. */
  readonly cid: string
  /** Whether that bundle was fetched and verified (signed by the wallet, for this server). */
  readonly verified: boolean
  constructor({
    address,
    cid,
    source,
    verified,
    cause,
  }: { address: string; cid: string; source: 'chain' | 'memory'; verified: boolean; cause?: unknown }) {
    const where = source === 'chain' ? 'the registry on chain holds' : 'this client has verified'
    super(
      `The server says ${address} has no DMTP keys, but ${where} their key bundle ${cid}${verified ? '' : ' (it could not be fetched or verified)'}: the server is hiding their keys. Nothing was sent.`,
      {
        cause,
        metaMessages: [
          'Sending through the server (pattern β) would let it read the message instead of encrypting it end to end.',
        ],
      },
    )
    this.address = address
    this.cid = cid
    this.verified = verified
  }
}

type ChainNamed = { chainId: number; registry: string }

const describeChain = (chain: ChainNamed | null | undefined) =>
  chain ? `chain ${chain.chainId}, registry ${chain.registry}` : chain === null ? 'no chain' : 'an unreadable pin'

export type ChainChangedErrorType = ChainChangedError & { name: 'ChainChangedError' }

/**
 * The server's `/v1/info` names another chain (or none) than the one this client pinned on first
 * use or was configured with: code `chain_changed`. Refused before anything was signed, encrypted
 * or believed; re-pin deliberately with `repinChain(client)` once the change is confirmed.
 */
export class ChainChangedError extends BaseError {
  override name = 'ChainChangedError'
  readonly code = 'chain_changed'
  /** What this client trusts; undefined when the stored pin cannot be read. */
  readonly pinned: ChainNamed | undefined
  /** What the server names now: null when it names no chain. */
  readonly named: ChainNamed | null | undefined
  constructor({
    server,
    pinned,
    named,
    source,
  }: { server: string; pinned: ChainNamed | undefined; named: ChainNamed | null | undefined; source: 'configured' | 'pinned' }) {
    super(
      pinned
        ? `The server at ${server} names ${describeChain(named)}, but this client ${source === 'configured' ? 'is configured with' : 'pinned'} ${describeChain(pinned)}; refused, nothing was signed or sent.`
        : `The chain pinned for ${server} cannot be read; refused, nothing was signed or sent.`,
      {
        metaMessages: [
          'A server that points its clients at another chain can show them keys and anchors of its own.',
          'If the operator moved the registry on purpose (confirm it with them), re-pin deliberately.',
        ],
      },
    )
    this.pinned = pinned
    this.named = named
  }
}

export type ChainMismatchErrorType = ChainMismatchError & { name: 'ChainMismatchError' }

/** The RPC given to read the registry serves another chain id than the pinned one: code `chain_mismatch`. */
export class ChainMismatchError extends BaseError {
  override name = 'ChainMismatchError'
  readonly code = 'chain_mismatch'
  readonly expected: number
  readonly actual: number
  constructor({ rpcUrl, expected, actual }: { rpcUrl: string; expected: number; actual: number }) {
    super(`The RPC at ${rpcUrl} serves chain ${actual}, not the pinned chain ${expected}; nothing was read from it.`, {
      metaMessages: ['Point it at a node of the chain this server anchors on.'],
    })
    this.expected = expected
    this.actual = actual
  }
}
