import { posix } from 'node:path';
import Ajv from 'ajv';
import schema from '../../config/instances.schema.json';
import { Instance, InstancesRead } from '../../streams/instance';

interface DeaInstance {
  application_id: string;
  instance_index: number;
  warden_job_id: number | string;
  warden_container_path: string;
}

const validate = new Ajv({ allErrors: false }).compile<{ instances: DeaInstance[] }>(schema);

/** Parses the DEA's instances.json text into the set of instances to read. Never throws. */
export function parseInstances(text: string): InstancesRead {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: 'not_json', detail: (err as Error).message };
  }
  if (!validate(value)) {
    const e = validate.errors?.[0];
    return { ok: false, reason: 'invalid', detail: `${e?.instancePath || 'instances.json'} ${e?.message ?? 'is invalid'}` };
  }
  const byKey = new Map<string, Instance>();
  for (const i of value.instances) {
    const jobDir = posix.join(i.warden_container_path, 'jobs', String(i.warden_job_id));
    const key = `${i.application_id}/${i.instance_index}@${jobDir}`;
    byKey.set(key, { key, appId: i.application_id, index: i.instance_index, jobDir });
  }
  return { ok: true, instances: [...byKey.values()] };
}
