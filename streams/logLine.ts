import { encodeEnvelopeJson } from '../src/envelope/codec';
import { Envelope } from '../src/envelope/envelope';

/**
 * One accepted line inside a router. `seq` orders lines as they were ingested by this router
 * (the seam between recent and live is found by it); the JSON is made once, only when a tail
 * client or an HTTP answer first needs it, and then shared by all of them.
 */
export class LogLine {
  #json: string | undefined;

  constructor(
    readonly seq: number,
    readonly envelope: Envelope,
  ) {}

  get appId(): string {
    return this.envelope.appId;
  }

  get json(): string {
    return (this.#json ??= encodeEnvelopeJson(this.envelope));
  }
}

/** Lines a router makes itself (drop notices) sit outside the ingest order. */
export const NOTICE_SEQ = -1;
