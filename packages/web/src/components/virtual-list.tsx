/**
 * A windowed list for chat histories: only the rows in (and near) the viewport are in the DOM, so
 * a 10,000-message conversation scrolls like a 50-message one. Rows have any height: each is
 * measured once rendered (ResizeObserver) and estimated until then. It sticks to the bottom while
 * the reader is there, and keeps the row under the reader still when older rows are added above.
 */
import {
  type ReactNode,
  type RefObject,
  useCallback,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react'

const ESTIMATE_PX = 68
const OVERSCAN_PX = 600
const NEAR_TOP_PX = 400
const AT_BOTTOM_PX = 24

/** Moves the list to a row (a reply's original, a pinned message) and focuses it. */
export type VirtualListController = { scrollTo: (key: string) => void }

type Props<T> = {
  items: readonly T[]
  getKey: (item: T) => string
  render: (item: T) => ReactNode
  /** Called when the reader nears the top; the list keeps its position when items are prepended. */
  onNearTop?: (() => void) | undefined
  header?: ReactNode
  label: string
  controller?: RefObject<VirtualListController | null> | undefined
}

export function VirtualList<T>({ items, getKey, render, onNearTop, header, label, controller }: Props<T>) {
  const scroller = useRef<HTMLElement>(null)
  const heights = useRef(new Map<string, number>())
  const [measured, setMeasured] = useState(0)
  const [viewport, setViewport] = useState({ top: 0, height: 800 })
  const stick = useRef(true)
  const anchor = useRef<{ key: string; offset: number } | undefined>(undefined)
  const headerHeight = useRef(0)

  const keys = useMemo(() => items.map(getKey), [items, getKey])
  // biome-ignore lint/correctness/useExhaustiveDependencies: `measured` changes when a row's height does
  const offsets = useMemo(() => {
    const result = new Float64Array(keys.length + 1)
    for (let i = 0; i < keys.length; i++)
      result[i + 1] = (result[i] as number) + (heights.current.get(keys[i] as string) ?? ESTIMATE_PX)
    return result
  }, [keys, measured])
  const indexOf = useMemo(() => new Map(keys.map((key, index) => [key, index])), [keys])
  const total = offsets[keys.length] as number

  const first = Math.max(0, search(offsets, viewport.top - headerHeight.current - OVERSCAN_PX) - 1)
  const last = Math.min(keys.length, search(offsets, viewport.top - headerHeight.current + viewport.height + OVERSCAN_PX) + 1)

  const pending = useRef(false)
  const observer = useMemo(
    () =>
      typeof ResizeObserver === 'undefined'
        ? undefined
        : new ResizeObserver((entries) => {
            let changed = false
            for (const entry of entries) {
              const key = (entry.target as HTMLElement).dataset.key
              if (!key) continue
              const height = Math.round(entry.borderBoxSize[0]?.blockSize ?? (entry.target as HTMLElement).offsetHeight)
              if (height > 0 && heights.current.get(key) !== height) {
                heights.current.set(key, height)
                changed = true
              }
            }
            if (changed && !pending.current) {
              pending.current = true
              requestAnimationFrame(() => {
                pending.current = false
                setMeasured((n) => n + 1)
              })
            }
          }),
    [],
  )
  const rowRef = useCallback(
    (element: HTMLLIElement | null) => {
      if (!element || !observer) return
      observer.observe(element)
      return () => observer.unobserve(element)
    },
    [observer],
  )

  // Keep the reader's place: at the bottom, or on the row they were looking at.
  useLayoutEffect(() => {
    const element = scroller.current
    if (!element) return
    if (stick.current) element.scrollTop = element.scrollHeight
    else if (anchor.current) {
      const index = indexOf.get(anchor.current.key)
      if (index !== undefined) {
        const top = (offsets[index] as number) + headerHeight.current - anchor.current.offset
        if (Math.abs(element.scrollTop - top) > 1) element.scrollTop = top
      }
    }
    setViewport((v) =>
      v.top === element.scrollTop && v.height === element.clientHeight
        ? v
        : { top: element.scrollTop, height: element.clientHeight },
    )
  }, [offsets, indexOf])

  useImperativeHandle(
    controller,
    () => ({
      scrollTo(key) {
        const element = scroller.current
        const index = indexOf.get(key)
        if (!element || index === undefined) return
        const top = Math.max(0, (offsets[index] as number) + headerHeight.current - element.clientHeight / 3)
        stick.current = false
        anchor.current = { key, offset: (offsets[index] as number) + headerHeight.current - top }
        element.scrollTop = top
        setViewport({ top, height: element.clientHeight })
        // Once rendered, the row takes the focus, so a screen reader reads it.
        requestAnimationFrame(() =>
          element.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"] [tabindex="-1"]`)?.focus(),
        )
      },
    }),
    [indexOf, offsets],
  )

  const onScroll = () => {
    const element = scroller.current
    if (!element) return
    stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < AT_BOTTOM_PX
    const top = element.scrollTop - headerHeight.current
    const index = Math.min(keys.length - 1, Math.max(0, search(offsets, top) - 1))
    const key = keys[index]
    anchor.current =
      key === undefined ? undefined : { key, offset: (offsets[index] as number) + headerHeight.current - element.scrollTop }
    setViewport({ top: element.scrollTop, height: element.clientHeight })
    if (element.scrollTop < NEAR_TOP_PX) onNearTop?.()
  }

  const rows: ReactNode[] = []
  for (let i = first; i < last; i++) {
    const item = items[i] as T
    const key = keys[i] as string
    rows.push(
      <li
        key={key}
        ref={rowRef}
        data-key={key}
        className="vrow"
        aria-setsize={items.length}
        aria-posinset={i + 1}
        style={{ transform: `translateY(${offsets[i]}px)` }}
      >
        {render(item)}
      </li>,
    )
  }
  return (
    // A focusable scroll region: arrows, Page Up/Down, Home and End scroll the history.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard
    <section ref={scroller} className="vlist" onScroll={onScroll} tabIndex={0} aria-label={label}>
      <div
        ref={(element) => {
          headerHeight.current = element?.offsetHeight ?? 0
        }}
      >
        {header}
      </div>
      <ul className="vbody" style={{ height: total }}>
        {rows}
      </ul>
    </section>
  )
}

/** The index of the first offset greater than `value` (offsets ascend). */
function search(offsets: Float64Array, value: number): number {
  let low = 0
  let high = offsets.length - 1
  while (low < high) {
    const mid = (low + high) >> 1
    if ((offsets[mid] as number) <= value) low = mid + 1
    else high = mid
  }
  return low
}
