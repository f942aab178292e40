import type { RuleFailure } from '@dmtp/protocol'
import { HttpError } from '../../errors.js'

/** A rule's refusal (`planRoomEvent`, `planRoomAction`) as the API error it is. */
export function ruleError(failure: RuleFailure): HttpError {
  return new HttpError({ code: failure.code, message: failure.message })
}
