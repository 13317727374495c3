/**
 * Antom report CSV: UTF-8, a header line, data lines, a last line `<END>`.
 * Fields may be quoted ("" escapes a quote). Returns the rows as header → value records.
 */
export function parseReportCsv(text: string): { header: string[]; rows: Record<string, string>[] } {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  const input = text.replace(/^\uFEFF/u, '');
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] as string;
    if (quoted) {
      if (ch === '"' && input[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && input[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || record.length > 0) {
    record.push(field);
    records.push(record);
  }
  const lines = records.filter((r) => !(r.length === 1 && r[0] === ''));
  const end = lines.findIndex((r) => r.length === 1 && r[0] === '<END>');
  const body = end >= 0 ? lines.slice(0, end) : lines;
  const header = body[0] ?? [];
  if (header.length === 0) throw new Error('report file has no header line');
  const rows = body.slice(1).map((cells) => {
    if (cells.length !== header.length) throw new Error(`report line has ${cells.length} fields, the header ${header.length}`);
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
  return { header, rows };
}
