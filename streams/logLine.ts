import { encodeEnvelopeJson } from '../src/envelope/codec';
import { Envelope } from '../src/envelope/envelope';

/**
 * One accepted line inside a router. `seq` orders lines as they were ingested by this router
 * (the seam between recent and live is found by it); the JSON is made once, only when a tail
 * client or an HTTP answer first needs it, and then shared by all of them; so is a drain frame.
 */
export class LogLine {
  #json: string | undefined;
  #frame: Buffer | undefined;

  constructor(
    readonly seq: number,
    readonly envelope: Envelope,
    /** The envelope's canonical JSON when it is at hand already (the text it was decoded from). */
    json?: string,
    /** Where the traffic controller got the line from (a router's id); unset inside a router. */
    readonly origin?: string,
  ) {
    this.#json = json;
  }

  get appId(): string {
    return this.envelope.appId;
  }

  get json(): string {
    return (this.#json ??= encodeEnvelopeJson(this.envelope));
  }

  /** The line as a drain frame, made by the first drain that needs it and shared by the app's others. */
  frame(encode: (envelope: Envelope) => Buffer): Buffer {
    return (this.#frame ??= encode(this.envelope));
  }
}

/** Lines a router makes itself (drop notices) sit outside the ingest order. */
export const NOTICE_SEQ = -1;
