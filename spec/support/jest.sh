#!/usr/bin/env bash
# Runs jest (arguments go to it) with the V8 heap of its workers capped at 512 MiB; workers
# inherit node's flags from jest's process.
# Why: a worker's exit includes the OS freeing its memory, and jest force-exits (with a warning)
# a worker that has not exited 500 ms after the run. Uncapped, V8 let a worker grow to 1.1 GiB
# resident by the end of the run (100-200 MiB of it live) and it took 480 ms to exit; capped,
# workers end at about 500 MiB and exit in about 230 ms, for a run about 4% longer.
exec node --max-old-space-size=512 "$(dirname "$0")/../../node_modules/jest/bin/jest.js" "$@"
