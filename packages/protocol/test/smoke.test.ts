import {
  createKeyBundle,
  createWebCryptoBackend,
  deriveConversationKey,
  envelopeSchema,
  generateDmtpKeys,
  keyBundleSchema,
  nobleBackend,
  openEnvelope,
  sealEnvelope,
  toBlock,
  unwrapDmtpKeys,
  verifyEnvelopeSignature,
  verifyKeyBundle,
  wrapDmtpKeys,
} from '@dmtp/protocol'
import { nodeCryptoBackend } from '@dmtp/protocol/node'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'

describe('smoke', () => {
  for (const backend of [nodeCryptoBackend, createWebCryptoBackend(), nobleBackend]) {
    test(backend.name, async () => {
      const account = privateKeyToAccount(generatePrivateKey())
      const wallet = { address: account.address, signMessage: (message: string) => account.signMessage({ message }) }
      const keys = await generateDmtpKeys(backend)
      const encrypted = await wrapDmtpKeys(backend, { keys, wallet })
      const bundle = await createKeyBundle(backend, {
        keys,
        encrypted,
        address: account.address,
        domain: 'localhost:1',
        chainId: 1,
        signMessage: wallet.signMessage,
      })
      keyBundleSchema.parse(bundle)
      await verifyKeyBundle(backend, bundle)
      const back = await unwrapDmtpKeys(backend, { encrypted, wallet })
      expect(back.x25519.publicKey).toEqual(keys.x25519.publicKey)
      const peer = await generateDmtpKeys(backend)
      const key = await deriveConversationKey(backend, {
        secretKey: keys.x25519.secretKey,
        publicKey: keys.x25519.publicKey,
        address: account.address,
        peerPublicKey: peer.x25519.publicKey,
        peerAddress: '0x0000000000000000000000000000000000000001',
      })
      const key2 = await deriveConversationKey(backend, {
        secretKey: peer.x25519.secretKey,
        publicKey: peer.x25519.publicKey,
        address: '0x0000000000000000000000000000000000000001',
        peerPublicKey: keys.x25519.publicKey,
        peerAddress: account.address,
      })
      expect(key).toEqual(key2)
      const { cid } = toBlock(bundle)
      const envelope = await sealEnvelope(backend, {
        header: {
          v: 1,
          suite: 'dmtp-p2p-v1',
          id: 'AAAAAAAAAAAAAAAAAAAAAA',
          room: 'AAAAAAAAAAAAAAAAAAAAAA',
          sender: account.address,
          receiver: '0x0000000000000000000000000000000000000001',
          timestamp: new Date().toISOString(),
          senderKey: cid,
          receiverKey: cid,
        },
        content: { type: 'text', text: 'gm' },
        key,
        signingKey: keys.ed25519.secretKey,
      })
      envelopeSchema.parse(envelope)
      expect(await verifyEnvelopeSignature(backend, envelope, keys.ed25519.publicKey)).toBe(true)
      expect(await openEnvelope(backend, { envelope, key: key2 })).toEqual({ type: 'text', text: 'gm' })
    })
  }
})
