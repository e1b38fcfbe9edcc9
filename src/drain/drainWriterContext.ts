import { Binding } from '../../streams/binding';
import { LogLine } from '../../streams/logLine';
import { DrainConfig } from '../config/loadConfig';
import { Logger } from '../logger';
import { DrainCounters } from './drainMetrics';

/** What one drain writer is given: its binding, the settings, and where it reports. */
export interface DrainWriterContext {
  readonly binding: Binding;
  readonly config: DrainConfig;
  /** A line's octet-counted RFC 5424 frame (made once per line, shared by the app's drains). */
  readonly frameOf: (line: LogLine) => Buffer;
  /** CAs to trust for TLS (see trustedCas), or undefined for node's default store. */
  readonly tlsCa: (string | Buffer)[] | undefined;
  readonly counters: DrainCounters;
  /** Whether a line is the router's own drain notice: queued only while the queue has room. */
  readonly isNotice?: (line: LogLine) => boolean;
  readonly logger: Logger;
}
