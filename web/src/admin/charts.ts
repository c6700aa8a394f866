// Bar charts as SVG drawn by Preact: one bar per day (columns) or per movie (rows), the
// value net revenue in minor units. The SVG is drawn at the width it is shown at (measured),
// so its text stays readable on a phone and on a desk.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../ui';

export type Bar = { key: string; label: string; value: number; title: string };

function useWidth(fallback: number) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = () => setWidth(Math.max(240, Math.floor(element.clientWidth)));
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return { ref, width };
}

/** How many pixels a unit is, and where zero is counted from the largest value's end
 * (`fromMax`: columns, drawn from the top) or from the smallest's (rows, from the left), for
 * values that may be negative. */
function scale(values: number[], pixels: number, fromMax: boolean) {
  const max = Math.max(0, ...values);
  const min = Math.min(0, ...values);
  const span = max - min || 1;
  return { zero: ((fromMax ? max : -min) / span) * pixels, per: pixels / span };
}

/** Columns over days; `short` labels a column under it (every nth, to fit). */
export function ColumnChart({ bars, label, format, testid }: { bars: Bar[]; label: string; format: (v: number) => string; testid: string }) {
  const { ref, width } = useWidth(600);
  const height = 200;
  const top = 18;
  const bottom = 22;
  const left = 20;
  const plot = height - top - bottom;
  const { zero, per } = scale(
    bars.map((b) => b.value),
    plot,
    true,
  );
  const slot = (width - left * 2) / Math.max(1, bars.length);
  const every = Math.max(1, Math.ceil(44 / slot));
  const max = Math.max(0, ...bars.map((b) => b.value));
  return html`<div ref=${ref} class="chart-box" data-testid=${testid}>
    <svg class="chart" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${label}>
      <title>${label}</title>
      <text x="4" y="12">${format(max)}</text>
      <line class="axis" x1=${left} x2=${width - left} y1=${top + zero} y2=${top + zero} />
      ${bars.map((b, i) => {
        const h = Math.abs(b.value) * per;
        const x = left + i * slot + slot * 0.15;
        const y = b.value >= 0 ? top + zero - h : top + zero;
        return html`<g key=${b.key}>
          <rect class=${b.value < 0 ? 'negative' : ''} x=${x} y=${y} width=${Math.max(1, slot * 0.7)} height=${Math.max(b.value ? 1 : 0, h)}>
            <title>${b.title}</title>
          </rect>
          ${i % every === 0 && html`<text x=${left + i * slot + slot / 2} y=${height - 6} text-anchor="middle">${b.label}</text>`}
        </g>`;
      })}
    </svg>
  </div>`;
}

/** Rows, one per movie, the label above each bar and the value at its end. */
export function RowChart({ bars, label, format, testid }: { bars: Bar[]; label: string; format: (v: number) => string; testid: string }) {
  const { ref, width } = useWidth(600);
  const rowHeight = 34;
  const height = Math.max(rowHeight, bars.length * rowHeight) + 4;
  const valueRoom = 110;
  const plotWidth = Math.max(60, width - valueRoom - 8);
  const { zero, per } = scale(
    bars.map((b) => b.value),
    plotWidth,
    false,
  );
  return html`<div ref=${ref} class="chart-box" data-testid=${testid}>
    <svg class="chart" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label=${label}>
      <title>${label}</title>
      ${bars.map((b, i) => {
        const y = i * rowHeight;
        const w = Math.abs(b.value) * per;
        const x = b.value >= 0 ? zero : zero - w;
        return html`<g key=${b.key}>
          <text class="label" x="4" y=${y + 12}>${b.label}</text>
          <rect class=${b.value < 0 ? 'negative' : ''} x=${x + 4} y=${y + 16} width=${Math.max(b.value ? 1 : 0, w)} height="12">
            <title>${b.title}</title>
          </rect>
          <text x=${Math.max(x + w, zero) + 10} y=${y + 27}>${format(b.value)}</text>
        </g>`;
      })}
    </svg>
  </div>`;
}
