// jest setupFiles of the specs' first run: routers on one thread (routerConfig reads this, and
// CLI children inherit it).
process.env.LOGGREGATOR_ROUTER_WORKERS = '1';
