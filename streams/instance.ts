/** One app instance the agent reads: its stdout/stderr sockets live in `jobDir`. */
export interface Instance {
  /** Identity: an instance whose app, index or job directory changes is a different instance. */
  readonly key: string;
  readonly appId: string;
  readonly index: number;
  /** `<warden_container_path>/jobs/<warden_job_id>`: holds stdout.sock and stderr.sock. */
  readonly jobDir: string;
}

/** The result of reading instances.json once: a new set, or why the file could not be used. */
export type InstancesRead =
  | { readonly ok: true; readonly instances: readonly Instance[] }
  | { readonly ok: false; readonly reason: 'unreadable' | 'not_json' | 'invalid'; readonly detail: string };
