import { App } from 'cdktf';
import { TwoNodesStack } from './stack';

const app = new App();
new TwoNodesStack(app, 'two-nodes');
app.synth();
