// CSV helpers for downloads.

/** Counts CSV data records (not lines: quoted fields may hold newlines), without the header. */
export function csvRecords(csv: string): number {
  let records = 0;
  let quoted = false;
  let hasContent = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\n' && !quoted) {
      if (hasContent) records++;
      hasContent = false;
      continue;
    }
    if (c !== '\r') hasContent = true;
  }
  if (hasContent) records++;
  return Math.max(0, records - 1);
}
