// examples/composed pointed at the test's agent (both of its providers), for the deploy tests.
import { App } from 'cdktf';
import { ComposedStack } from '../../examples/composed/stack';

const app = new App();
const address = process.env.CONSUL_HTTP_ADDR;
new ComposedStack(app, 'composed', { dc1Address: address, dc2Address: address });
app.synth();
