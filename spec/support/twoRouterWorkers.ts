// jest setupFiles of the specs' second run: routers on two worker threads (routerConfig reads
// this, and CLI children inherit it).
process.env.LOGGREGATOR_ROUTER_WORKERS = '2';
