import { TailLine } from './tailLine';

/** Distinct sources remembered for the source filter's choices; past it, new ones are not offered. */
const MAX_SOURCES = 200;

/**
 * The sources seen so far (types, and type/instance pairs), for the source filter to offer. Bounded:
 * an app with ever-new instance ids cannot grow it without limit.
 */
export class SourceCatalog {
  private readonly types = new Map<string, Set<string>>();
  private count = 0;
  /** Grows by one each time a source is added, so a view can tell it changed. */
  version = 0;

  add(line: TailLine): void {
    let instances = this.types.get(line.sourceType);
    if (instances?.has(line.sourceInstance)) return;
    if (this.count >= MAX_SOURCES) return;
    if (instances === undefined) {
      instances = new Set();
      this.types.set(line.sourceType, instances);
    }
    instances.add(line.sourceInstance);
    this.count++;
    this.version++;
  }

  /** The filter's choices, sorted: each type, followed by its `TYPE/INSTANCE`s. */
  choices(): string[] {
    const out: string[] = [];
    const byName = (a: string, b: string) => a.localeCompare(b, undefined, { numeric: true });
    for (const type of [...this.types.keys()].sort(byName)) {
      out.push(type);
      for (const instance of [...(this.types.get(type) as Set<string>)].sort(byName)) out.push(`${type}/${instance}`);
    }
    return out;
  }
}
