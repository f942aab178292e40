/**
 * The message box: Enter sends, Shift+Enter adds a line, Escape leaves a reply or an edit.
 * Replying quotes the message above the box; editing puts the message's text in it. In a group,
 * typing `@` offers the room's members to mention.
 */
import { type FormEvent, type KeyboardEvent, lazy, Suspense, useEffect, useRef, useState } from 'react'

const MentionSuggestions = lazy(() => import('./mention-suggestions.js').then((m) => ({ default: m.MentionSuggestions })))

export type ComposerContext = { kind: 'reply' | 'edit'; id: string; label: string; text: string }

type Props = {
  onSend: (text: string) => Promise<unknown>
  disabled?: boolean | undefined
  warning?: string | undefined
  /** A reply or an edit in progress. */
  context?: ComposerContext | null | undefined
  onCancelContext?: (() => void) | undefined
  /** The group whose members `@` offers (none in 1:1 rooms). */
  mentionRoom?: string | undefined
  me: string
}

/** The `@0x…` being typed just before the caret, if any. */
const TYPING_MENTION = /(^|\s)@(0x[0-9a-fA-F]{0,39})?$/

export function Composer({ onSend, disabled, warning, context, onCancelContext, mentionRoom, me }: Props) {
  const [text, setText] = useState('')
  const [sending, setSending] = useState(false)
  const [caret, setCaret] = useState(0)
  const input = useRef<HTMLTextAreaElement>(null)

  // Editing starts from the message's text; a reply keeps what was typed.
  useEffect(() => {
    if (context?.kind === 'edit') setText(context.text)
    if (context) input.current?.focus()
  }, [context])

  const submit = async (event?: FormEvent) => {
    event?.preventDefault()
    const value = text.trim()
    if (!value || sending) return
    setSending(true)
    try {
      await onSend(value)
      setText('')
    } catch {
      // The room view shows the error; the text stays for another try.
    } finally {
      setSending(false)
      input.current?.focus()
    }
  }
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) void submit(event)
    else if (event.key === 'Escape' && context) {
      event.preventDefault()
      if (context.kind === 'edit') setText('')
      onCancelContext?.()
    }
  }
  const typing = mentionRoom ? TYPING_MENTION.exec(text.slice(0, caret)) : null
  const pick = (address: string) => {
    const before = text.slice(0, caret).replace(TYPING_MENTION, (_, space: string) => `${space}@${address} `)
    const next = before + text.slice(caret)
    setText(next)
    setCaret(before.length)
    input.current?.focus()
    requestAnimationFrame(() => input.current?.setSelectionRange(before.length, before.length))
  }
  const describedBy = [warning ? 'composer-warning' : '', context ? 'composer-context' : '', mentionRoom ? 'composer-hint' : '']
    .filter(Boolean)
    .join(' ')
  return (
    <form className="composer" onSubmit={submit}>
      {warning && (
        <p className="warning-text" id="composer-warning">
          {warning}
        </p>
      )}
      {context && (
        <div className="composer-context" id="composer-context">
          <span>
            <strong>{context.kind === 'reply' ? `Replying to ${context.label}` : 'Editing your message'}</strong>
            {context.kind === 'reply' && <span className="quote-text">: {context.text}</span>}
          </span>
          <button
            type="button"
            className="small"
            onClick={() => {
              if (context.kind === 'edit') setText('')
              onCancelContext?.()
            }}
          >
            Cancel
          </button>
        </div>
      )}
      {typing && mentionRoom && (
        <Suspense fallback={null}>
          <MentionSuggestions room={mentionRoom} prefix={typing[2] ?? ''} me={me} onPick={pick} />
        </Suspense>
      )}
      <div className="row">
        <label htmlFor="message-input" className="sr-only">
          Message
        </label>
        {mentionRoom && (
          <span id="composer-hint" className="sr-only">
            Type @ to mention a member.
          </span>
        )}
        <textarea
          id="message-input"
          ref={input}
          rows={1}
          value={text}
          placeholder="Write a message"
          onChange={(event) => {
            setText(event.target.value)
            setCaret(event.target.selectionStart)
          }}
          onSelect={(event) => setCaret(event.currentTarget.selectionStart)}
          onKeyDown={onKeyDown}
          disabled={disabled}
          aria-describedby={describedBy || undefined}
        />
        <button type="submit" className="primary" disabled={disabled || sending || !text.trim()}>
          {sending ? 'Sending…' : context?.kind === 'edit' ? 'Save' : 'Send'}
        </button>
      </div>
    </form>
  )
}
