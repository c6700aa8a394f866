// The seat picker: the hall drawn from the seat map (rows, numbers, the layout's columns so
// aisles and gaps show), categories and seat kinds marked, each seat a button whose label a
// screen reader reads in full. The arrow keys move between seats (one tab stop for the whole
// hall), Space or Enter picks.
import { useRef, useState } from 'preact/hooks';
import type { Money } from '../api';
import { html } from '../ui';
import { t } from '../i18n';
import { money } from '../format';

export type Seat = {
  seat_id: string;
  row: string;
  number: number;
  category: string;
  status: 'available' | 'held' | 'sold';
  price: Money;
  column?: number;
  kind?: 'wheelchair' | 'companion';
};

type Props = {
  seats: Seat[];
  selected: string[];
  mine: string[];
  categoryName: (category: string) => string;
  onToggle: (seat: Seat) => void;
  /** What the hall is called to a screen reader. */
  label: string;
};

/** Row labels in the order the map lists them, and each seat's place in the drawing. */
function arrange(seats: Seat[]) {
  const rows: string[] = [];
  const rowIndex = new Map<string, number>();
  let columns = 0;
  for (const s of seats) {
    if (!rowIndex.has(s.row)) {
      rowIndex.set(s.row, rows.length);
      rows.push(s.row);
    }
    columns = Math.max(columns, s.column ?? s.number);
  }
  return { rows, rowIndex, columns };
}

export function SeatGrid({ seats, selected, mine, categoryName, onToggle, label }: Props) {
  const { rows, rowIndex, columns } = arrange(seats);
  const [active, setActive] = useState<string | null>(null);
  const grid = useRef<HTMLDivElement>(null);
  const focusable = active && seats.some((s) => s.seat_id === active) ? active : (seats.find((s) => s.status === 'available') ?? seats[0])?.seat_id;

  const move = (from: Seat, dRow: number, dCol: number) => {
    const r = rowIndex.get(from.row)! ;
    const c = from.column ?? from.number;
    let best: Seat | null = null;
    let bestScore = Infinity;
    for (const s of seats) {
      const sr = rowIndex.get(s.row)!;
      const sc = s.column ?? s.number;
      if (dCol !== 0 && (sr !== r || Math.sign(sc - c) !== dCol)) continue;
      if (dRow !== 0 && Math.sign(sr - r) !== dRow) continue;
      const score = dCol !== 0 ? Math.abs(sc - c) : Math.abs(sr - r) * 1000 + Math.abs(sc - c);
      if (score < bestScore) {
        best = s;
        bestScore = score;
      }
    }
    if (best) {
      setActive(best.seat_id);
      grid.current?.querySelector<HTMLButtonElement>(`[data-seat="${CSS.escape(best.seat_id)}"]`)?.focus();
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const id = (e.target as HTMLElement).dataset?.seat;
    const seat = id ? seats.find((s) => s.seat_id === id) : undefined;
    if (!seat) return;
    const steps: Record<string, [number, number]> = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const step = steps[e.key];
    if (step) {
      e.preventDefault();
      move(seat, step[0], step[1]);
    }
  };

  return html`
    <div class="hall">
      <div class="screen" aria-hidden="true">${t('show.screen')}</div>
      <div
        class="seats"
        ref=${grid}
        role="group"
        aria-label=${label}
        onKeyDown=${onKey}
        style=${{ gridTemplateColumns: `1.6em repeat(${columns}, var(--seat)) 1.6em` }}
      >
        ${rows.map(
          (row, i) => html`
            <span class="rowlabel" aria-hidden="true" style=${{ gridRow: i + 1, gridColumn: 1 }}>${row}</span>
            <span class="rowlabel" aria-hidden="true" style=${{ gridRow: i + 1, gridColumn: columns + 2 }}>${row}</span>`,
        )}
        ${seats.map((s) => {
          const isMine = mine.includes(s.seat_id);
          const isSelected = selected.includes(s.seat_id);
          const state = isMine ? 'mine' : isSelected ? 'selected' : s.status;
          const label = t('show.seat_label', {
            row: s.row,
            number: s.number,
            category: categoryName(s.category) + (s.kind ? `, ${t(`show.legend.${s.kind}`)}` : ''),
            price: money(s.price),
            status: t(`show.seat_status.${state}`),
          });
          return html`<button
            type="button"
            class=${`seat ${s.category} ${state}`}
            data-seat=${s.seat_id}
            data-status=${state}
            aria-label=${label}
            title=${label}
            aria-pressed=${isSelected}
            aria-disabled=${s.status !== 'available' && !isSelected}
            tabindex=${s.seat_id === focusable ? 0 : -1}
            onFocus=${() => setActive(s.seat_id)}
            onClick=${() => onToggle(s)}
            style=${{ gridRow: rowIndex.get(s.row)! + 1, gridColumn: (s.column ?? s.number) + 1 }}
          >${s.kind === 'wheelchair' ? '♿' : s.kind === 'companion' ? '+' : s.number}</button>`;
        })}
      </div>
    </div>
  `;
}

export function Legend({ categories, categoryName }: { categories: Array<{ category: string; price: Money }>; categoryName: (c: string) => string }) {
  const swatch = (cls: string, text: string) => html`<span><span class=${`seat ${cls}`} aria-hidden="true"></span>${text}</span>`;
  return html`<div class="legend" data-testid="legend">
    ${categories.map((c) => swatch(`${c.category} available`, `${categoryName(c.category)} ${money(c.price)}`))}
    ${swatch('regular selected', t('show.legend.selected'))}
    ${swatch('regular mine', t('show.legend.mine'))}
    ${swatch('regular sold', t('show.legend.taken'))}
    <span>♿ ${t('show.legend.wheelchair')}</span>
    <span>+ ${t('show.legend.companion')}</span>
  </div>`;
}
