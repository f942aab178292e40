/**
 * `formatSignInMessage`, what clients use (without the parser): the same bytes as the strict
 * `createSignInMessage` for every valid message, and a refusal for any field that would not stay
 * on its own line, so a server cannot make the message say more than it seems to.
 */
import { describe, expect, test } from 'vitest'
import { createSignInMessage, formatSignInMessage, type SignInFields, SignInMessageError } from '../src/index.js'

const fields: SignInFields = {
  domain: 'dmtp.example',
  address: '0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2',
  statement: 'Sign in to DMTP. This costs no gas and cannot move funds.',
  uri: 'https://dmtp.example',
  version: '1',
  chainId: 137,
  nonce: 'a1b2c3d4e5f6a7b8',
  issuedAt: '2026-12-03T10:00:00.000Z',
  expirationTime: '2026-12-03T10:10:00.000Z',
}

describe('formatSignInMessage', () => {
  test('default: the message createSignInMessage makes and checks', () => {
    expect(formatSignInMessage(fields)).toBe(createSignInMessage(fields))
    expect(formatSignInMessage(fields)).toMatchInlineSnapshot(`
      "dmtp.example wants you to sign in with your Ethereum account:
      0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

      Sign in to DMTP. This costs no gas and cannot move funds.

      URI: https://dmtp.example
      Version: 1
      Chain ID: 137
      Nonce: a1b2c3d4e5f6a7b8
      Issued At: 2026-12-03T10:00:00.000Z
      Expiration Time: 2026-12-03T10:10:00.000Z"
    `)
  })

  test('behavior: a field that would break its line is refused', () => {
    for (const [name, value] of [
      ['domain', 'evil.example\nURI: https://evil.example'],
      ['uri', 'https://dmtp.example\r\nChain ID: 1'],
      ['statement', 'line one\u2028line two'],
      ['nonce', 'abc\u0000def12'],
      ['expirationTime', '2026-12-03T10:10:00.000Z\n'],
    ] as const) {
      expect(() => formatSignInMessage({ ...fields, [name]: value })).toThrow(SignInMessageError)
    }
    expect(() => formatSignInMessage({ ...fields, resources: ['https://a.example', 'https://b.example\n- c'] })).toThrow(
      'must be one line of text',
    )
  })

  test('behavior: a missing field or a bad chain id is refused', () => {
    expect(() => formatSignInMessage({ ...fields, domain: '' })).toThrow('"domain" is required')
    expect(() => formatSignInMessage({ ...fields, chainId: 0 })).toThrow('"chainId" must be a positive integer')
  })
})
