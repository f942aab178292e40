/**
 * First-time setup (generate keys, encrypt them to the wallet, sign, register) or, for a wallet
 * that already has keys on this server, unlocking them. Each step is shown as it happens.
 */
import { type UseConnectDMTPReturnType, useDMTPClient } from '@dmtp/react'
import type { SetupStep } from '@dmtp/sdk'
import { useEffect, useRef, useState } from 'react'
import { friendlyError } from '../lib/errors.js'
import { shortAddress } from '../lib/format.js'
import type { WalletChoice } from '../lib/wallet-choice.js'

const NEW_STEPS: [SetupStep, string][] = [
  ['checking', 'Checking this wallet on the server'],
  ['generating', 'Generating your DMTP keys'],
  ['encrypting', 'Encrypting them to your wallet'],
  ['signing', 'Signing them with your wallet'],
  ['uploading', 'Registering them with the server'],
  ['migrating', 'Making messages sent before setup end-to-end'],
]
const UNLOCK_STEPS: [SetupStep, string][] = [
  ['checking', 'Checking this wallet on the server'],
  ['unlocking', 'Unlocking your keys with your wallet'],
  ['migrating', 'Making messages sent before setup end-to-end'],
]

type Props = { choice: WalletChoice; connection: UseConnectDMTPReturnType; onDisconnect: () => void }

export function SetupScreen({ choice, connection, onDisconnect }: Props) {
  const client = useDMTPClient()
  const { connectDMTP, isConnecting, step, migration, error } = connection
  const [account, setAccount] = useState<{ address: string; registered: boolean } | null>(null)
  const [lookupError, setLookupError] = useState<unknown>(null)
  const autoStarted = useRef(false)

  useEffect(() => {
    let live = true
    ;(async () => {
      const wallet = await client.getWallet()
      const bundle = await client.whois(wallet.address)
      if (live) setAccount({ address: wallet.address, registered: bundle.registered })
    })().catch((e) => live && setLookupError(e))
    return () => {
      live = false
    }
  }, [client])

  const start = () => {
    // The error is shown from `connection.error`.
    connectDMTP().catch(() => {})
  }
  // The local wallet needs no approval, so a returning user is unlocked without a click.
  useEffect(() => {
    if (autoStarted.current || choice.kind !== 'local' || !account?.registered) return
    autoStarted.current = true
    start()
  })

  const returning = account?.registered ?? false
  const steps = returning ? UNLOCK_STEPS : NEW_STEPS
  const current = steps.findIndex(([s]) => s === step)
  const failure = error ?? lookupError
  const problem = failure ? friendlyError(failure) : null
  return (
    <main className="centered">
      <section className="card" aria-labelledby="setup-title" aria-busy={isConnecting}>
        <h1 id="setup-title">{returning ? 'Unlock DMTP' : 'Set up DMTP'}</h1>
        <p className="lead">
          {choice.kind === 'local' ? (
            <span className="badge warn">Local test wallet, key stored in this browser</span>
          ) : (
            <span className="badge">Browser wallet</span>
          )}{' '}
          {account ? (
            <span title={account.address} data-testid="wallet-address">
              {shortAddress(account.address)}
            </span>
          ) : (
            'Reading your wallet…'
          )}
        </p>
        <p>
          {returning
            ? 'This wallet already has DMTP keys. Your wallet unlocks them on this device; nothing new is created.'
            : 'DMTP makes a key pair for your messages, encrypts it so only your wallet can open it, and registers the public half with the server. Your wallet will ask you to approve.'}
        </p>
        {(isConnecting || step) && (
          <ol className="steps" aria-label="Progress">
            {steps.map(([id, label], index) => {
              const state =
                step === 'done' || index < current ? 'done' : index === current ? (isConnecting ? 'active' : 'stopped') : 'todo'
              if (id === 'migrating' && state === 'todo') return null
              return (
                <li key={id} className={state} aria-current={state === 'active' ? 'step' : undefined}>
                  <span aria-hidden="true">
                    {state === 'done' ? '✓' : state === 'active' ? '…' : state === 'stopped' ? '✕' : '·'}
                  </span>{' '}
                  {label}
                  {id === 'migrating' && migration ? ` (${migration.done} of ${migration.total})` : ''}
                  <span className="sr-only">
                    {state === 'done'
                      ? ' (done)'
                      : state === 'active'
                        ? ' (in progress)'
                        : state === 'stopped'
                          ? ' (stopped)'
                          : ''}
                  </span>
                </li>
              )
            })}
          </ol>
        )}
        {problem && (
          <div role="alert" className="error">
            <p>{problem.title}</p>
            {problem.detail && <p className="hint">{problem.detail}</p>}
          </div>
        )}
        <div className="row">
          <button type="button" className="primary" onClick={start} disabled={isConnecting || !account}>
            {isConnecting ? 'Working…' : returning ? 'Unlock with wallet' : 'Set up with wallet'}
          </button>
          <button type="button" onClick={onDisconnect} disabled={isConnecting}>
            Use another wallet
          </button>
        </div>
      </section>
    </main>
  )
}
