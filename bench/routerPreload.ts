// Preloaded into the bench's router child (`node --expose-gc --require dist/bench/routerPreload.js
// dist/src/cli/main.js serve`). Nothing about the router changes; it only adds:
//  - SIGUSR2 → global.gc() twice, so the bench can read memory after a full collection;
//  - exit when the bench that started it is gone (even if it was SIGKILLed), so no router
//    outlives its bench.
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc === 'function') {
    gc();
    gc();
  }
});

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
