// Whether an object has been let go (garbage-collected) once nothing but a WeakRef refers to it:
// for specs of what a closed component must not leave holding on to it. The GC is forced with
// node's --expose-gc, turned on here for the contexts made from now on.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export async function isLetGo(ref: WeakRef<object>): Promise<boolean> {
  // A WeakRef's target is kept until the end of the job that made or last read it.
  for (let i = 0; i < 3 && ref.deref() !== undefined; i++) {
    await new Promise(resolve => setImmediate(resolve));
    gc();
  }
  return ref.deref() === undefined;
}

/** Runs a collection now (what a spec that counts GCs needs). */
export function collectGarbage(): void {
  gc();
}
