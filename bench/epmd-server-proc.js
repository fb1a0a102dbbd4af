// Our EPMD server alone in a process (so the load generator does not share its event loop).
'use strict';
const { EpmdServer } = require('../lib/runtime/epmd/server');
const s = new EpmdServer({ port: 0, addresses: ['127.0.0.1'], peers: [], maxConnections: 4096 });
s.start().then((p) => process.stdout.write(`ready ${p}\n`));
