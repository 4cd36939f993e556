// The filter bar: one control per dashboard filter. Values follow the query API's shapes
// (docs/api.md); null means "All" (no restriction).

import { h, icon, icons } from './dom';
import type { DateRange, Filter, FilterValue, NumericRange } from './types';

export type FilterValues = Record<string, FilterValue>;

/** Normalises a value for a filter's type; anything that does not fit becomes null. */
export function normalize(f: Filter, v: unknown): FilterValue {
  if (v === null || v === undefined) return null;
  switch (f.type) {
    case 'single_select':
      if (Array.isArray(v)) v = v[0];
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? (String(v) === '' ? null : String(v)) : null;
    case 'multi_select': {
      const list = (Array.isArray(v) ? v : [v]).filter((x) => x !== null && x !== undefined && x !== '').map(String);
      return list.length ? [...new Set(list)] : null;
    }
    case 'date_range': {
      if (typeof v !== 'object' || Array.isArray(v)) return null;
      const r = v as DateRange;
      if (typeof r.preset === 'string' && PRESETS.some(([k]) => k === r.preset)) return r.preset === 'all_time' ? null : { preset: r.preset };
      const out: DateRange = {};
      if (typeof r.from === 'string' && r.from) out.from = r.from;
      if (typeof r.to === 'string' && r.to) out.to = r.to;
      return out.from || out.to ? out : null;
    }
    case 'numeric_range': {
      if (typeof v !== 'object' || Array.isArray(v)) return null;
      const r = v as Record<string, unknown>;
      const out: NumericRange = {};
      const num = (x: unknown) => (x === '' || x === null || x === undefined ? undefined : Number(x));
      const min = num(r.min);
      const max = num(r.max);
      if (min !== undefined && Number.isFinite(min)) out.min = min;
      if (max !== undefined && Number.isFinite(max)) out.max = max;
      return out.min !== undefined || out.max !== undefined ? out : null;
    }
  }
  return null;
}

/** Relative date ranges; the server resolves them in the dashboard's time zone. */
export const PRESETS: [string, string][] = [
  ['today', 'Today'],
  ['last_7_days', 'Last 7 days'],
  ['last_30_days', 'Last 30 days'],
  ['last_90_days', 'Last 90 days'],
  ['this_month', 'This month'],
  ['this_quarter', 'This quarter'],
  ['this_year', 'This year'],
  ['last_month', 'Last month'],
  ['last_quarter', 'Last quarter'],
  ['last_year', 'Last year'],
  ['all_time', 'All time'],
];

/**
 * What a date range's preset menu shows for a value: its preset; "Custom" (empty key) only when
 * dates are set; otherwise "All time" (no value means no restriction).
 */
export function presetKey(v: FilterValue): string {
  const d = (v && typeof v === 'object' && !Array.isArray(v) ? v : {}) as DateRange;
  if (typeof d.preset === 'string' && d.preset) return d.preset;
  return d.from || d.to ? '' : 'all_time';
}

export function defaults(filters: Filter[]): FilterValues {
  return Object.fromEntries(filters.map((f) => [f.name, normalize(f, f.default)]));
}

const dateOnly = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : undefined);

export class FilterBar {
  readonly el: HTMLElement;
  private controls = new Map<string, { set(v: FilterValue): void }>();
  private reset: HTMLButtonElement;
  private openMenu?: () => void;

  constructor(
    private filters: Filter[],
    private values: FilterValues,
    private onChange: (values: FilterValues) => void,
  ) {
    this.reset = h('button', { type: 'button', class: 'link-btn filter-reset', onclick: () => this.change(defaults(filters)) }, 'Reset');
    this.el = h('div', { class: 'filter-bar', role: 'group', 'aria-label': 'Filters' }, filters.map((f) => this.control(f)), this.reset);
    this.syncReset();
    document.addEventListener('click', (e) => {
      if (this.openMenu && !(e.target as Element).closest?.('.ms')) this.openMenu();
    });
  }

  /** Sets values from outside (the host's dashboard:filters:update) without emitting a change. */
  set(values: FilterValues): void {
    this.values = values;
    for (const [name, c] of this.controls) c.set(values[name] ?? null);
    this.syncReset();
  }

  /** Back to the dashboard's defaults (the banner's "Reset filters"); emits a change. */
  resetToDefaults(): void {
    this.change(defaults(this.filters));
  }

  private change(values: FilterValues): void {
    this.set(values);
    this.onChange(values);
  }

  private update(name: string, v: FilterValue): void {
    const f = this.filters.find((x) => x.name === name)!;
    const next = normalize(f, v);
    if (JSON.stringify(next) === JSON.stringify(this.values[name] ?? null)) return;
    this.change({ ...this.values, [name]: next });
  }

  private syncReset(): void {
    this.reset.hidden = JSON.stringify(defaults(this.filters)) === JSON.stringify(this.values);
  }

  private control(f: Filter): HTMLElement {
    const id = `f-${f.name}`;
    const label = f.title || f.name;
    const wrap = (body: Node, forId?: string) =>
      h('div', { class: `filter filter--${f.type}`, 'data-filter': f.name }, h('label', { class: 'filter-label', for: forId }, label), body);
    switch (f.type) {
      case 'single_select': {
        const sel = h('select', { id, class: 'input', onchange: () => this.update(f.name, sel.value || null) }, h('option', { value: '' }, 'All'), (f.options ?? []).map((o) => h('option', { value: String(o) }, String(o))));
        const set = (v: FilterValue) => {
          const s = typeof v === 'string' ? v : '';
          if (s && ![...sel.options].some((o) => o.value === s)) sel.append(h('option', { value: s }, s));
          sel.value = s;
        };
        set(this.values[f.name] ?? null);
        this.controls.set(f.name, { set });
        return wrap(h('div', { class: 'select' }, sel, icon(icons.chevron)), id);
      }
      case 'multi_select':
        return wrap(this.multiSelect(f, id), id);
      case 'date_range': {
        const r = f.range ?? {};
        const msg = rangeMessage(id);
        const onchange = () => {
          preset.value = presetKey({ from: from.value, to: to.value });
          const problem = inverted(label, from.value, to.value, 'date');
          if (showRangeProblem([from, to], msg, problem)) return;
          this.update(f.name, { from: from.value, to: to.value });
        };
        const preset = h(
          'select',
          {
            class: 'input input--preset',
            'aria-label': `${label} preset`,
            onchange: () => {
              if (!preset.value) return; // "Custom": the dates decide
              from.value = '';
              to.value = '';
              showRangeProblem([from, to], msg, undefined);
              this.update(f.name, { preset: preset.value });
            },
          },
          h('option', { value: '' }, 'Custom'),
          PRESETS.map(([k, text]) => h('option', { value: k }, text)),
        );
        const mk = (aria: string) =>
          h('input', { type: 'date', class: 'input', 'aria-label': `${label} ${aria}`, 'aria-describedby': msg.id, min: dateOnly(r.min), max: dateOnly(r.max), onchange });
        const from = mk('from');
        from.id = id;
        const to = mk('to');
        const set = (v: FilterValue) => {
          const d = (v ?? {}) as DateRange;
          preset.value = presetKey(d);
          from.value = dateOnly(d.from) ?? '';
          to.value = dateOnly(d.to) ?? '';
          showRangeProblem([from, to], msg, undefined);
        };
        set(this.values[f.name] ?? null);
        this.controls.set(f.name, { set });
        return wrap(h('div', { class: 'range-wrap' }, h('div', { class: 'range' }, h('div', { class: 'select' }, preset, icon(icons.chevron)), from, h('span', { class: 'range-sep', 'aria-hidden': 'true' }, '–'), to), msg), id);
      }
      case 'numeric_range': {
        const r = f.range ?? {};
        const msg = rangeMessage(id);
        const onchange = () => {
          const problem = inverted(label, min.value, max.value, 'number');
          if (showRangeProblem([min, max], msg, problem)) return;
          this.update(f.name, { min: min.value, max: max.value } as unknown as NumericRange);
        };
        const mk = (aria: string, ph: unknown) =>
          h('input', { type: 'number', class: 'input input--num', inputmode: 'decimal', 'aria-label': `${label} ${aria}`, 'aria-describedby': msg.id, placeholder: ph === undefined ? aria : `${aria} ${ph}`, onchange });
        const min = mk('min', r.min);
        min.id = id;
        const max = mk('max', r.max);
        const set = (v: FilterValue) => {
          const n = (v ?? {}) as NumericRange;
          min.value = n.min === undefined ? '' : String(n.min);
          max.value = n.max === undefined ? '' : String(n.max);
          showRangeProblem([min, max], msg, undefined);
        };
        set(this.values[f.name] ?? null);
        this.controls.set(f.name, { set });
        return wrap(h('div', { class: 'range-wrap' }, h('div', { class: 'range' }, min, h('span', { class: 'range-sep', 'aria-hidden': 'true' }, '–'), max), msg), id);
      }
    }
    return wrap(h('span', {}, 'Unsupported filter'));
  }

  /**
   * A multi-select combobox (WAI-ARIA pattern): the button opens a list with a search field;
   * ArrowDown/ArrowUp move through the options, Space or Enter toggles one, Apply (or Tab, or a
   * click outside) applies the selection, Escape discards it. Each option says aria-selected.
   */
  private multiSelect(f: Filter, id: string): HTMLElement {
    const options = (f.options ?? []).map(String);
    const label = f.title || f.name;
    const listId = `${id}-list`;
    let selected = new Set<string>();
    let active = -1;
    let shown: string[] = [];
    const summary = h('span', { class: 'ms-summary' });
    const button = h('button', { type: 'button', id, class: 'input ms-button', 'aria-haspopup': 'listbox', 'aria-expanded': 'false', 'aria-controls': listId }, summary, icon(icons.chevron));
    const search = h('input', {
      type: 'text',
      class: 'input ms-search',
      role: 'combobox',
      'aria-expanded': 'true',
      'aria-controls': listId,
      'aria-autocomplete': 'list',
      autocomplete: 'off',
      placeholder: 'Search…',
      'aria-label': `Search ${label}`,
    });
    const list = h('ul', { class: 'ms-list', id: listId, role: 'listbox', 'aria-multiselectable': 'true', 'aria-label': label });
    const count = h('span', { class: 'ms-count', 'aria-live': 'polite' });
    const apply = h('button', { type: 'button', class: 'btn btn--primary ms-apply', onclick: () => close(true, true) }, 'Apply');
    const menu = h(
      'div',
      { class: 'ms-menu', hidden: true },
      search,
      h(
        'div',
        { class: 'ms-tools' },
        h('button', { type: 'button', class: 'link-btn', onclick: () => ((selected = new Set([...selected, ...visible()])), renderList()) }, 'Select all'),
        h('button', { type: 'button', class: 'link-btn', onclick: () => (selected.clear(), renderList()) }, 'Clear'),
      ),
      list,
      h('div', { class: 'ms-foot' }, count, h('span', { class: 'ms-hint' }, 'Esc cancels'), apply),
    );
    const root = h('div', { class: 'ms' }, button, menu);

    const visible = () => {
      const q = search.value.trim().toLowerCase();
      return q ? options.filter((o) => o.toLowerCase().includes(q)) : options;
    };
    const renderSummary = (v: FilterValue) => {
      const vals = Array.isArray(v) ? v : [];
      summary.textContent = vals.length === 0 ? 'All' : vals.length <= 2 ? vals.join(', ') : `${vals.length} selected`;
      button.title = vals.length ? vals.join(', ') : 'All';
    };
    const optId = (i: number) => `${id}-opt-${i}`;
    const setActive = (i: number) => {
      active = shown.length ? Math.max(0, Math.min(i, shown.length - 1)) : -1;
      for (const el of list.querySelectorAll('[role="option"]')) el.classList.remove('is-active');
      if (active < 0) {
        search.removeAttribute('aria-activedescendant');
        return;
      }
      const el = list.querySelector<HTMLElement>(`#${CSS.escape(optId(active))}`);
      el?.classList.add('is-active');
      el?.scrollIntoView?.({ block: 'nearest' });
      search.setAttribute('aria-activedescendant', optId(active));
    };
    const toggle = (o: string) => {
      if (selected.has(o)) selected.delete(o);
      else selected.add(o);
      renderList();
    };
    const renderList = () => {
      shown = visible().slice(0, 500); // long option lists: search narrows them
      list.replaceChildren(
        ...shown.map((o, i) =>
          h(
            'li',
            {
              id: optId(i),
              class: 'ms-option',
              role: 'option',
              'aria-selected': String(selected.has(o)),
              // Focus stays in the search field; a click toggles without taking it.
              onmousedown: (e: Event) => e.preventDefault(),
              onclick: () => {
                setActive(i);
                toggle(o);
              },
            },
            h('span', { class: 'ms-check', 'aria-hidden': 'true' }),
            h('span', {}, o),
          ),
        ),
      );
      if (shown.length === 0) list.append(h('li', { class: 'ms-empty', role: 'presentation' }, 'No matches'));
      count.textContent = selected.size ? `${selected.size} selected` : 'None selected: all';
      setActive(active);
    };
    const close = (applyIt: boolean, focusButton: boolean) => {
      if (menu.hidden) return;
      menu.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      this.openMenu = undefined;
      if (focusButton) button.focus();
      if (applyIt) this.update(f.name, [...selected]);
    };
    const open = (activate = -1) => {
      this.openMenu?.();
      const cur = this.values[f.name];
      selected = new Set(Array.isArray(cur) ? cur : []);
      search.value = '';
      active = activate;
      renderList();
      menu.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      this.openMenu = () => close(true, false);
      search.focus();
    };
    button.addEventListener('click', () => (menu.hidden ? open() : close(true, true)));
    button.addEventListener('keydown', (e) => {
      if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && menu.hidden) {
        e.preventDefault();
        open(0);
      }
    });
    search.addEventListener('input', () => {
      active = 0;
      renderList();
    });
    search.addEventListener('keydown', (e) => {
      switch (e.key) {
        case 'ArrowDown':
          e.preventDefault();
          setActive(active + 1);
          return;
        case 'ArrowUp':
          e.preventDefault();
          setActive(active - 1);
          return;
        case 'Home':
        case 'End':
          if (!search.value) {
            e.preventDefault();
            setActive(e.key === 'Home' ? 0 : shown.length - 1);
          }
          return;
        case ' ':
          if (active >= 0 && (search.value === '' || e.ctrlKey)) {
            e.preventDefault();
            toggle(shown[active]);
          }
          return;
        case 'Enter':
          e.preventDefault();
          if (active >= 0) toggle(shown[active]);
          return;
        case 'Tab':
          // Tab leaves the list: it closes and the selection applies (Shift+Tab lands on the button).
          if (e.shiftKey) {
            e.preventDefault();
            close(true, true);
          } else {
            close(true, false);
          }
          return;
      }
    });
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !menu.hidden) {
        e.stopPropagation();
        close(false, true); // Escape discards the changes
      }
    });
    // Tab (or any move of focus out of the control) closes the list and applies the selection.
    root.addEventListener('focusout', (e) => {
      const next = (e as FocusEvent).relatedTarget as Node | null;
      if (!menu.hidden && next && !root.contains(next)) close(true, false);
    });
    const set = (v: FilterValue) => renderSummary(v);
    set(this.values[f.name] ?? null);
    this.controls.set(f.name, { set });
    return root;
  }
}

/**
 * The problem with a range whose start is after its end, naming the filter; undefined when the
 * range is fine (either end may be empty).
 */
export function inverted(label: string, lo: string, hi: string, kind: 'number' | 'date'): string | undefined {
  if (lo === '' || hi === '') return undefined;
  if (kind === 'number') {
    const a = Number(lo);
    const b = Number(hi);
    if (!Number.isFinite(a) || !Number.isFinite(b) || a <= b) return undefined;
    return `${label}: the minimum (${lo}) is above the maximum (${hi}).`;
  }
  if (lo <= hi) return undefined; // ISO dates compare as strings
  return `${label}: the end (${hi}) is before the start (${lo}).`;
}

function rangeMessage(id: string): HTMLElement {
  return h('p', { id: `${id}-msg`, class: 'filter-msg', role: 'alert', hidden: true });
}

/** Marks the inputs invalid and shows the problem (true), or clears both (false). */
function showRangeProblem(inputs: HTMLInputElement[], msg: HTMLElement, problem: string | undefined): boolean {
  for (const i of inputs) {
    if (problem) i.setAttribute('aria-invalid', 'true');
    else i.removeAttribute('aria-invalid');
  }
  msg.textContent = problem ?? '';
  msg.hidden = !problem;
  return problem !== undefined;
}
