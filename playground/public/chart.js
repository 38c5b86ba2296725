// The latency plot: one point per delivered event (arrival − publish time), SDK and native side
// by side over a sliding window, redrawn at most every RENDER tick by the caller.
import uPlot from 'uplot'

const HEIGHT = 240

/** @param {number} ms */
function formatMs(ms) {
  if (ms >= 1000) return `${Math.round(ms / 1000)} s`
  return `${Math.round(ms)} ms`
}

/**
 * @param {HTMLElement} element
 * @param {{ windowSeconds: number }} options
 */
export function createLatencyChart(element, { windowSeconds }) {
  /** @type {number[]} */
  const xs = []
  /** @type {(number | null | undefined)[][]} */
  const ys = [[], []]
  /** Last arrival per series, to break the line across silences. */
  const lastAt = [0, 0]
  /** @type {{ t: number, label: string, kind: 'network' | 'transport' }[]} */
  const markers = []
  let xMax = Date.now() / 1000
  // The window grows from the page's start to `windowSeconds`, then slides: a fresh page shows
  // its first seconds in detail instead of a mostly empty three minutes.
  const startX = xMax
  const xMin = () => Math.min(xMax - 30, Math.max(xMax - windowSeconds, startX))
  let gapSeconds = 4
  /** @type {uPlot | undefined} */
  let plot

  const build = () => {
    plot?.destroy()
    const css = getComputedStyle(document.documentElement)
    const color = (/** @type {string} */ name) => css.getPropertyValue(name).trim()
    const muted = color('--muted')
    const sdkColor = color('--sdk')
    const grid = color('--grid')
    const axis = {
      stroke: muted,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      font: '11px system-ui, sans-serif',
    }
    plot = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        scales: {
          x: { time: true, range: () => [xMin(), xMax] },
          y: {
            distr: 3,
            log: 10,
            // A fixed floor and whole decades keep the axis from jumping as samples come and go.
            range: (_u, _min, max) => [1, 10 ** Math.max(3, Math.ceil(Math.log10(Math.max(max ?? 1, 1))))],
          },
        },
        axes: [
          {
            ...axis,
            space: 80,
            values: (_u, values) =>
              values.map((value) => new Date(value * 1000).toLocaleTimeString([], { hour12: false })),
          },
          {
            ...axis,
            size: 56,
            // Decades only: the minor lines of a log axis crowd a small plot.
            splits: (u) => {
              const max = u.scales.y.max ?? 1000
              const splits = []
              for (let value = 1; value <= max * 1.001; value *= 10) splits.push(value)
              return splits
            },
            values: (_u, values) => values.map((value) => (value == null ? '' : formatMs(value))),
          },
        ],
        series: [
          {},
          { label: 'SDK', stroke: sdkColor, width: 1.5, points: { show: false } },
          { label: 'native', stroke: color('--native'), width: 1.5, points: { show: false } },
        ],
        hooks: {
          draw: [
            (u) => {
              const ctx = u.ctx
              ctx.save()
              ctx.strokeStyle = muted
              ctx.fillStyle = muted
              ctx.setLineDash([4, 4])
              ctx.lineWidth = 1
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`
              ctx.textBaseline = 'top'
              ctx.textAlign = 'left'
              const rowHeight = 14 * devicePixelRatio
              /** Right end of the last label in each row, so labels of close markers stack. */
              const rowEnds = [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity]
              for (const marker of markers) {
                if (marker.t < xMin()) continue
                const x = Math.round(u.valToPos(marker.t, 'x', true))
                // Transport changes in the SDK's colour, network switches in grey.
                ctx.strokeStyle = ctx.fillStyle = marker.kind === 'transport' ? sdkColor : muted
                ctx.beginPath()
                ctx.moveTo(x, u.bbox.top)
                ctx.lineTo(x, u.bbox.top + u.bbox.height)
                ctx.stroke()
                const width = ctx.measureText(marker.label).width
                // Labels sit right of their line; near the plot's right edge they end at the edge.
                const left = Math.min(x + 4 * devicePixelRatio, u.bbox.left + u.bbox.width - width)
                let row = rowEnds.findIndex((end) => end < left)
                if (row === -1) row = rowEnds.indexOf(Math.min(...rowEnds))
                rowEnds[row] = left + width + 6 * devicePixelRatio
                ctx.fillText(marker.label, left, u.bbox.top + 2 * devicePixelRatio + row * rowHeight)
              }
              ctx.restore()
            },
          ],
        },
      },
      [xs, ...ys],
      element,
    )
  }

  build()
  new ResizeObserver(() => plot?.setSize({ width: Math.max(200, element.clientWidth), height: HEIGHT })).observe(element)
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', build)

  return {
    /**
     * @param {0 | 1} series - 0 SDK, 1 native
     * @param {number} arrivalMs
     * @param {number} latencyMs
     */
    add(series, arrivalMs, latencyMs) {
      // Keep x ascending even if the wall clock steps back.
      const x = Math.max(arrivalMs / 1000, xs[xs.length - 1] ?? 0)
      const other = series === 0 ? 1 : 0
      // `undefined` (the other series' rows) is spanned; a run of `null` breaks the line. uPlot
      // clips a gap between the rows around the run, so after a silence every row since this
      // series' last sample becomes `null`, and the whole silent stretch stays empty.
      if (lastAt[series] !== 0 && x - lastAt[series] > gapSeconds) {
        let marked = false
        for (let i = xs.length - 1; i >= 0 && /** @type {number} */ (xs[i]) > lastAt[series]; i--) {
          if (ys[series][i] === undefined) {
            ys[series][i] = null
            marked = true
          }
        }
        if (!marked) {
          xs.push(Math.max(x - 0.001, xs[xs.length - 1] ?? 0))
          ys[series].push(null)
          ys[other].push(undefined)
        }
      }
      lastAt[series] = x
      xs.push(x)
      ys[series].push(Math.max(1, latencyMs))
      ys[other].push(undefined)
    },
    /**
     * @param {string} label
     * @param {'network' | 'transport'} kind
     */
    mark(label, kind) {
      markers.push({ t: Date.now() / 1000, label, kind })
      if (markers.length > 20) markers.shift()
    },
    /** @param {number} rate - events per second; silences longer than a few intervals break lines */
    setRate(rate) {
      gapSeconds = Math.max(4, 2.5 / rate)
    },
    redraw() {
      xMax = Date.now() / 1000
      let drop = 0
      while (drop < xs.length && /** @type {number} */ (xs[drop]) < xMax - windowSeconds - 5) drop++
      if (drop > 0) {
        xs.splice(0, drop)
        ys[0].splice(0, drop)
        ys[1].splice(0, drop)
      }
      plot?.setData([xs, ...ys])
    },
  }
}
