import { TailLine, ndjson } from './tailLine';

/** Offers the lines to the reader as a file (made in the page: nothing is requested). */
export function downloadNdjson(lines: readonly TailLine[], fileName: string): void {
  const url = URL.createObjectURL(new Blob([ndjson(lines)], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // After the browser has taken the file.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
