#!/usr/bin/env bash
# Runs jest (arguments go to it) with V8 flags that let its workers exit quickly; workers inherit
# node's flags from jest's process.
# Why: jest force-exits (with a warning) a worker that has not exited 500 ms after the run, and a
# worker's exit, after its 'exit' event, waits for two things:
# - the OS freeing its memory. Uncapped, V8 let a worker grow to 1.1 GiB resident by the end of
#   the run (100-200 MiB of it live), and that worker took 480 ms to exit; with the heap capped at
#   512 MiB, workers end at about 500 MiB;
# - a garbage collection whose concurrent marking was under way: node lets it finish before the
#   process ends (700 ms for 600 MiB of live heap). Marking on the worker's own thread instead
#   leaves nothing to wait for.
# Measured: workers exit in 200-260 ms, and the run takes a few percent longer.
exec node --max-old-space-size=512 --no-concurrent-marking "$(dirname "$0")/../../node_modules/jest/bin/jest.js" "$@"
